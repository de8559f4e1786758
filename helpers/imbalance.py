"""Class imbalance on purpose, and the remedies: class weights, random over- and undersampling, threshold moving.

Chapter 5 makes a training split imbalanced (for example one positive review for every nine negative
ones) with :func:`make_imbalanced`, then compares training on it as it is, with a class-weighted loss
(:func:`class_weights`, passed to ``helpers.train(class_weights=...)``), on a randomly oversampled copy
(:func:`random_oversample`), and with a decision threshold moved on validation data (:func:`best_threshold`).
The test split is never touched. Chapter 6, §6.5, adds random undersampling (:func:`random_undersample`) and
compares it with augmented copies (:mod:`helpers.augment`) and an ensemble of seeds.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def _labels_of(ds) -> np.ndarray:
    if "label" not in getattr(ds, "column_names", []):
        raise ValueError("The data needs a 'label' column (a datasets.Dataset from helpers.load_dataset).")
    return np.asarray(ds["label"], dtype=int)


def make_imbalanced(ds, minority: int, ratio: float = 1 / 9, *, n_majority: int | None = None, seed: int = 0):
    """A copy of ``ds`` with ``minority`` made rare: ``ratio`` minority rows per row of the other classes.

    ``ratio=1/9`` gives one minority example for every nine others (10% of the result). The other classes
    keep ``n_majority`` rows in all (a stratified random choice; default: all of them), and
    ``round(ratio * n_majority)`` minority rows are drawn at random. The rows keep their original order.
    """
    labels = _labels_of(ds)
    if not ratio > 0:
        raise ValueError(f"ratio must be positive (minority rows per other row), got {ratio}.")
    if minority not in set(labels.tolist()):
        raise ValueError(f"Class {minority} does not occur in the data (classes: {sorted(set(labels.tolist()))}).")
    rng = np.random.default_rng(seed)
    others = np.flatnonzero(labels != minority)
    minority_rows = np.flatnonzero(labels == minority)
    if n_majority is not None:
        if not 0 < n_majority <= len(others):
            raise ValueError(
                f"n_majority must be between 1 and {len(others)} (the rows of the other classes), got {n_majority}."
            )
        others = _stratified_choice(others, labels[others], n_majority, rng)
    n_minority = max(1, int(round(ratio * len(others))))
    if n_minority > len(minority_rows):
        raise ValueError(
            f"A ratio of {ratio:.3g} needs {n_minority} rows of class {minority}, but the data has only "
            f"{len(minority_rows)}. Lower the ratio or pass a smaller n_majority."
        )
    chosen = rng.choice(minority_rows, size=n_minority, replace=False)
    return ds.select(sorted(np.concatenate([others, chosen]).tolist()))


def _stratified_choice(rows: np.ndarray, labels: np.ndarray, n: int, rng) -> np.ndarray:
    """``n`` of ``rows``, keeping the proportions of ``labels`` (largest remainders for the rounding)."""
    classes, counts = np.unique(labels, return_counts=True)
    exact = counts / counts.sum() * n
    take = np.floor(exact).astype(int)
    take[np.argsort(-(exact - take), kind="stable")[: n - take.sum()]] += 1
    return np.concatenate([rng.choice(rows[labels == c], size=k, replace=False) for c, k in zip(classes, take)])


def random_oversample(ds, seed: int = 0):
    """Every class topped up with random duplicates of its own rows until it is as large as the largest class.

    All original rows stay; the copies are drawn with replacement, and the result is shuffled (so that
    a duplicate does not sit next to its original). This is what imbalanced-learn's ``RandomOverSampler``
    does, for a ``datasets.Dataset``.
    """
    labels = _labels_of(ds)
    if len(labels) == 0:
        raise ValueError("The data is empty: there is nothing to oversample.")
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    rows = [np.arange(len(labels))]
    for c, count in zip(classes, counts):
        rows.append(rng.choice(np.flatnonzero(labels == c), size=counts.max() - count, replace=True))
    order = rng.permutation(np.concatenate(rows))
    return ds.select(order.tolist())


def random_undersample(ds, seed: int = 0):
    """Every class cut to the size of the smallest, by a random choice of its rows (the rest is thrown away).

    The cheap opposite of :func:`random_oversample`: nothing is repeated, but most of the larger classes' labels
    are lost. The rows keep their original order. This is what imbalanced-learn's ``RandomUnderSampler`` does, for
    a ``datasets.Dataset``.
    """
    labels = _labels_of(ds)
    if len(labels) == 0:
        raise ValueError("The data is empty: there is nothing to undersample.")
    rng = np.random.default_rng(seed)
    classes, counts = np.unique(labels, return_counts=True)
    chosen = [rng.choice(np.flatnonzero(labels == c), size=counts.min(), replace=False) for c in classes]
    return ds.select(sorted(np.concatenate(chosen).tolist()))


def class_weights(labels: Sequence[int], num_classes: int | None = None) -> np.ndarray:
    """ "Balanced" class weights ``n / (k * n_c)``: a class with half the average size gets weight 2.

    The same numbers as ``sklearn.utils.class_weight.compute_class_weight("balanced", ...)``. With these
    weights in the loss every class contributes the same total weight to the loss, whatever its size. A
    class with no examples has no finite weight: that raises an error.
    """
    labels = np.asarray(labels, dtype=int)
    if labels.ndim != 1 or len(labels) == 0:
        raise ValueError("Give a non-empty 1-d sequence of class ids.")
    if labels.min() < 0:
        raise ValueError("Class ids must be 0 or more.")
    k = num_classes if num_classes is not None else int(labels.max()) + 1
    if labels.max() >= k:
        raise ValueError(f"Class id {labels.max()} does not fit num_classes={k}.")
    counts = np.bincount(labels, minlength=k)
    if (counts == 0).any():
        raise ValueError(
            f"Class(es) {np.flatnonzero(counts == 0).tolist()} have no examples: a weight for them "
            "would be infinite. Check the data or num_classes."
        )
    return len(labels) / (k * counts.astype(float))


def _binary_f1s(labels: np.ndarray, preds: np.ndarray) -> tuple[float, float]:
    def f1(c):
        tp = np.sum((preds == c) & (labels == c))
        den = 2 * tp + np.sum((preds == c) & (labels != c)) + np.sum((preds != c) & (labels == c))
        return 2 * tp / den if den else 0.0

    return f1(0), f1(1)


def best_threshold(labels: Sequence[int], positive_probs: Sequence[float]) -> tuple[float, float]:
    """Threshold moving: the cut-off on P(class 1) that gives the highest macro-F1 on these (validation) data.

    Every distinct probability is tried as the rule "class 1 when p >= t" (plus "never class 1").
    Returns ``(threshold, macro_f1)``; the threshold is placed halfway between the chosen probability and
    the next lower one, so it does not sit exactly on a validation example. Choose it on validation data,
    then apply it, unchanged, to the test data with :func:`apply_threshold`.
    """
    labels = np.asarray(labels, dtype=int)
    p = np.asarray(positive_probs, dtype=float)
    if labels.ndim != 1 or p.ndim != 1 or len(labels) != len(p):
        raise ValueError(
            f"labels and positive_probs must be 1-d and of equal length; got {labels.shape} and {p.shape}."
        )
    if len(labels) == 0:
        raise ValueError("There are no examples to choose a threshold on.")
    if not set(np.unique(labels).tolist()) <= {0, 1}:
        raise ValueError("best_threshold is for two classes with ids 0 and 1.")
    if np.isnan(p).any() or p.min() < 0 or p.max() > 1:
        raise ValueError("positive_probs must be probabilities in [0, 1].")
    values = np.unique(p)[::-1]  # descending: each cut adds one more distinct value to class 1
    order = np.argsort(-p, kind="stable")
    sorted_p, sorted_y = p[order], labels[order]
    # for cut j (class 1 when p >= values[j]) the predicted positives are the first k_j sorted rows
    k = np.searchsorted(-sorted_p, -values, side="right")
    tp = np.concatenate([[0], np.cumsum(sorted_y)])[k]
    fp = k - tp
    pos, neg = sorted_y.sum(), len(sorted_y) - sorted_y.sum()
    fn, tn = pos - tp, neg - fp
    f1_pos = np.divide(2 * tp, 2 * tp + fp + fn, out=np.zeros(len(k)), where=(2 * tp + fp + fn) > 0)
    f1_neg = np.divide(2 * tn, 2 * tn + fn + fp, out=np.zeros(len(k)), where=(2 * tn + fn + fp) > 0)
    macro = (f1_pos + f1_neg) / 2
    never = float(np.mean(_binary_f1s(labels, np.zeros_like(labels))))
    j = int(np.argmax(macro))
    if never > macro[j]:
        return float(np.nextafter(p.max(), np.inf)), never
    lower = values[j + 1] if j + 1 < len(values) else 0.0
    return float((values[j] + lower) / 2), float(macro[j])


def apply_threshold(positive_probs: Sequence[float], threshold: float) -> np.ndarray:
    """Class ids from P(class 1): 1 where ``p >= threshold``, else 0."""
    return (np.asarray(positive_probs, dtype=float) >= threshold).astype(int)
