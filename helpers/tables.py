"""Bring your own data: a CSV / TSV file or a pandas DataFrame as the book's ``DatasetDict``.

Chapter 4 fine-tunes on a small CSV with :func:`from_table`, and :func:`helpers.load_dataset` sends a DataFrame or a
``.csv`` / ``.tsv`` path here. The result has the shape every chapter uses: ``train``, ``validation`` and ``test``
splits, each with a ``text`` column (str) and a ``label`` column (a :class:`datasets.ClassLabel` that knows the class
names). What the table's label column holds decides the class names:

* strings (``"positive"``, ``"negative"``): the sorted distinct strings;
* a pandas ``Categorical``: its categories, in their order;
* whole numbers (``int``): ``0 .. k-1`` keep their ids and get the names ``"0"``, ``"1"``...; any other set of
  integers (ratings ``1..5``) is numbered in sorted order, and the names are the original values;
* ``bool``: ``"False"`` and ``"True"``.

A float label column stops with a message: pandas turns an integer column into floats as soon as one value is
missing (``2`` becomes ``2.0``), and classes are not continuous values. A ``split`` column (``train`` /
``validation`` / ``test``; ``dev``, ``valid`` and ``val`` count as ``validation``) is used as given; without one, or
for a split it does not name, stratified splits are carved (each class keeps its share in every split).
"""

from __future__ import annotations

from pathlib import Path

import datasets
import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from .data import SPLITS, stratified_subset

SPLIT_ALIASES = {
    "train": "train",
    "training": "train",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
    "dev": "validation",
    "test": "test",
}


def _read(source: str | Path | pd.DataFrame) -> pd.DataFrame:
    """The table itself: a copy of a DataFrame, or a CSV / TSV file read with pandas (tab-separated for .tsv)."""
    if isinstance(source, pd.DataFrame):
        return source.copy()
    if not isinstance(source, (str, Path)):
        raise TypeError(
            f"from_table reads a pandas DataFrame or the path of a .csv / .tsv file, not {type(source).__name__}."
        )
    path = Path(source)
    if not path.is_file():
        raise FileNotFoundError(f"No file at {str(path)!r} (working directory: {Path.cwd()}).")
    suffixes = "".join(path.suffixes).lower()
    sep = "\t" if ".tsv" in suffixes or ".tab" in suffixes else ","
    return pd.read_csv(path, sep=sep)


def _check_columns(frame: pd.DataFrame, text: str, label: str) -> None:
    """Clear errors for an empty table, a missing column, or rows with no text or no label."""
    for role, column in (("text", text), ("label", label)):
        if column not in frame.columns:
            raise KeyError(
                f"The table has no {role} column {column!r}; its columns are {list(frame.columns)}. "
                f"Pass {role}=<column name>."
            )
    if len(frame) == 0:
        raise ValueError("The table is empty: it has columns but no rows.")
    for column in (text, label):
        missing = frame.index[frame[column].isna()].tolist()
        if missing:
            raise ValueError(
                f"{len(missing)} row(s) have no value in {column!r} (rows {missing[:5]}"
                f"{'...' if len(missing) > 5 else ''}). Drop them first, e.g. "
                f"df = df.dropna(subset=[{column!r}]), or fill them in."
            )


def _label_ids(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Class ids ``0 .. k-1`` for each row and the class names, by the rules in the module docstring."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        names = [str(c) for c in values.cat.categories]
        return values.cat.codes.to_numpy().astype(np.int64), names
    if pd.api.types.is_bool_dtype(values):
        return values.astype(np.int64).to_numpy(), ["False", "True"]
    if pd.api.types.is_float_dtype(values):
        whole = bool(np.all(np.mod(values.to_numpy(), 1) == 0))
        if whole:
            raise ValueError(
                f"The label column {values.name!r} holds floats ({values.iloc[0].item()!r}, ...) that are whole "
                "numbers: pandas makes integers floats when a value was missing. Convert it first: "
                f"df[{values.name!r}] = df[{values.name!r}].astype(int)."
            )
        raise ValueError(
            f"The label column {values.name!r} holds fractional numbers ({values.iloc[0]!r}, ...): "
            "this book classifies texts into classes; give each row a class (a string or an integer)."
        )
    if pd.api.types.is_integer_dtype(values):
        distinct = sorted(int(v) for v in values.unique())
        if distinct == list(range(len(distinct))):
            return values.to_numpy().astype(np.int64), [str(v) for v in distinct]
        lookup = {v: i for i, v in enumerate(distinct)}
        return values.map(lookup).to_numpy().astype(np.int64), [str(v) for v in distinct]
    names = sorted({str(v) for v in values})
    lookup = {name: i for i, name in enumerate(names)}
    return values.astype(str).map(lookup).to_numpy().astype(np.int64), names


def _split_column(frame: pd.DataFrame) -> pd.Series | None:
    """The table's ``split`` column with aliases resolved, or None when it has none."""
    if "split" not in frame.columns:
        return None
    given = frame["split"].astype(str).str.strip().str.lower()
    unknown = sorted(set(given) - set(SPLIT_ALIASES))
    if unknown:
        raise ValueError(f"The split column holds {unknown}; use train, validation (or dev / valid / val) and test.")
    return given.map(SPLIT_ALIASES)


def _carve(labels: np.ndarray, rows: np.ndarray, size: float, seed: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Split ``rows`` in two, stratified by ``labels[rows]``: (kept, carved), the carved part ``size`` of them."""
    try:
        return train_test_split(rows, test_size=size, stratify=labels[rows], random_state=seed)
    except ValueError as err:
        counts = dict(zip(*np.unique(labels[rows], return_counts=True), strict=True))
        raise ValueError(
            f"Cannot carve a stratified {what} split from {len(rows)} rows with class counts "
            f"{ {int(k): int(v) for k, v in counts.items()} } ({err}). Every class needs a few rows in "
            "each split: add rows, merge rare classes, or give a split column."
        ) from None


def _assign_splits(
    frame: pd.DataFrame, labels: np.ndarray, seed: int, test_size: float, validation_size: float
) -> dict[str, np.ndarray]:
    """Row positions for train, validation and test: the split column's, with missing splits carved from train."""
    given = _split_column(frame)
    positions = np.arange(len(frame))
    if given is None:
        parts = {"train": positions}
    else:
        parts = {s: positions[(given == s).to_numpy()] for s in SPLITS if (given == s).any()}
        if "train" not in parts:
            raise ValueError("The split column names no train rows; at least the training split must be given.")
    for name, fraction in (("test", test_size), ("validation", validation_size)):
        if name not in parts and fraction == 0:
            parts[name] = positions[:0]
        elif name not in parts:
            share = fraction * len(frame) / len(parts["train"])
            if not 0 < share < 1:
                raise ValueError(f"{name}_size={fraction} leaves no rows to train on ({len(frame)} rows in all).")
            parts["train"], parts[name] = _carve(labels, parts["train"], share, seed, name)
    return {s: np.sort(parts[s]) for s in SPLITS}


def from_table(
    source: str | Path | pd.DataFrame,
    *,
    text: str = "text",
    label: str = "label",
    limit: int | dict[str, int | None] | None = None,
    seed: int = 0,
    test_size: float = 0.2,
    validation_size: float = 0.1,
) -> datasets.DatasetDict:
    """Your own labelled texts as a ``DatasetDict`` (train / validation / test; ``text``, ``label``).

    ``source`` is a pandas DataFrame or a ``.csv`` / ``.tsv`` path; ``text`` and ``label`` name its columns. Without
    a ``split`` column the rows are split, stratified by class, into ``test_size`` and ``validation_size`` of the
    table for test and validation, the rest for training (the same rows for the same ``seed``). ``limit`` then takes
    a stratified subset of each split, as in :func:`helpers.load_dataset`: one number caps every split, a dict the
    splits it names. Other columns are dropped.
    """
    if not (0 <= test_size < 1 and 0 <= validation_size < 1 and test_size + validation_size < 1):
        raise ValueError(
            f"test_size={test_size} and validation_size={validation_size} must be fractions in [0, 1) "
            "that leave rows for training."
        )
    frame = _read(source)
    _check_columns(frame, text, label)
    ids, names = _label_ids(frame[label])
    parts = _assign_splits(frame, ids, seed, test_size, validation_size)
    features = datasets.Features({"text": datasets.Value("string"), "label": datasets.ClassLabel(names=names)})
    texts = frame[text].astype(str).to_numpy()
    caps = limit if isinstance(limit, dict) else {s: limit for s in SPLITS}
    unknown = set(caps) - set(SPLITS)
    if unknown:
        raise ValueError(f"limit names unknown splits {sorted(unknown)}; the splits are {', '.join(SPLITS)}.")
    out = {}
    for split, rows in parts.items():
        ds = datasets.Dataset.from_dict({"text": texts[rows].tolist(), "label": ids[rows].tolist()}, features=features)
        out[split] = stratified_subset(ds, caps.get(split), seed) if len(ds) else ds
    return datasets.DatasetDict(out)
