"""Shared test set-up: every test starts on the offline profile with no profile chosen yet."""

import os

import pytest

os.environ["BOOK_PROFILE"] = "offline"
os.environ.setdefault("MPLBACKEND", "Agg")

import helpers.env  # noqa: E402


@pytest.fixture(autouse=True)
def fresh_profile(monkeypatch):
    """Forget the profile a previous test chose, and keep BOOK_PROFILE / BOOK_QUICK as the test sets them."""
    monkeypatch.setattr(helpers.env, "_current", None)
    monkeypatch.setenv("BOOK_PROFILE", "offline")
    yield


@pytest.fixture(scope="session")
def tokenizer():
    import helpers

    return helpers.load_tokenizer()
