"""Shared test set-up: every test starts on the offline profile with no profile chosen yet."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

os.environ["BOOK_PROFILE"] = "offline"

import matplotlib  # noqa: E402

matplotlib.use("Agg")  # the test process itself draws off-screen

import helpers.env  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_profile(monkeypatch):
    """Forget the profile a previous test chose, and keep BOOK_PROFILE / BOOK_QUICK as the test sets them."""
    monkeypatch.setattr(helpers.env, "_current", None)
    monkeypatch.setenv("BOOK_PROFILE", "offline")
    yield


def tiny_bert_classifier(num_labels: int = 3, hidden_size: int = 32, num_layers: int = 2):
    """A small random BERT classifier (the offline vocabulary), seeded, in eval mode: fast stand-in for MiniLM."""
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    cfg = BertConfig(
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=2,
        intermediate_size=2 * hidden_size,
        max_position_embeddings=64,
        num_labels=num_labels,
    )
    return BertForSequenceClassification(cfg).eval()


@pytest.fixture(scope="session")
def tokenizer():
    import helpers

    return helpers.load_tokenizer()


ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def built_site(tmp_path_factory) -> Path:
    """Build the whole website once per test run (quick slices, warnings as errors) and return its html folder.

    jupyter-book executes every notebook; a failing cell, a broken cross-reference or an unknown glue key
    fails the build, and so this fixture. Then the Chinese site is built into ``<html>/zh`` from the same
    execution cache (book/_ext/build_language.py), as scripts/build_book.sh does: it executes nothing.

    ``BOOK_BUILT_SITE=<folder>/_build/html`` skips the build and checks a site built before (both languages).
    """
    if os.environ.get("BOOK_BUILT_SITE"):
        site = Path(os.environ["BOOK_BUILT_SITE"]).resolve()
        assert (site / "index.html").exists() and (site / "zh" / "index.html").exists(), f"no built site at {site}"
        return site
    out = tmp_path_factory.mktemp("site")
    # No MPLBACKEND here: the kernels must use their inline backend, or the figures vanish from the pages.
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    env.update(BOOK_PROFILE="offline", BOOK_QUICK="1")
    jb = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or "jupyter-book"
    run = subprocess.run(
        [jb, "build", str(ROOT), "--path-output", str(out), "--warningiserror", "--keep-going"],
        env=env,
        capture_output=True,
        text=True,
        timeout=3000,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    zh = subprocess.run(
        [sys.executable, str(ROOT / "book" / "_ext" / "build_language.py"), "zh_CN", "--path-output", str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert zh.returncode == 0, zh.stdout[-4000:] + zh.stderr[-4000:]
    assert "Executing notebook" not in zh.stdout + zh.stderr, "the Chinese build executed a notebook again"
    return out / "_build" / "html"
