"""Stratified k-fold cross-validation, for the small labelled sets where one held-out split is too noisy.

Chapter 5, §5.6 uses it to estimate how well fine-tuning does on a few hundred labelled texts: the data are cut
into ``k`` folds with the class proportions kept (scikit-learn's ``StratifiedKFold``); each fold is held out once
while a model is trained on the other ``k - 1``; the ``k`` held-out scores give a mean and a spread. The price is
``k`` trainings instead of one, and :class:`CrossValidation` records the time of each.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd


def stratified_folds(labels: Sequence[int], k: int = 5, *, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """The ``k`` (train indices, held-out indices) pairs of a shuffled stratified k-fold split of ``labels``.

    Every index is held out exactly once, and each held-out fold keeps the class proportions of ``labels`` as
    closely as whole numbers allow. Each class needs at least ``k`` examples, so that every fold can hold one.
    """
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(labels)
    if labels.ndim != 1 or len(labels) == 0:
        raise ValueError(f"labels must be a non-empty 1-d sequence of class ids, got shape {labels.shape}.")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 2:
        raise ValueError(f"k-fold cross-validation needs k >= 2 folds (an integer), got {k!r}.")
    classes, counts = np.unique(labels, return_counts=True)
    if counts.min() < k:
        rare = classes[counts.argmin()].item()
        raise ValueError(
            f"class {rare!r} has only {counts.min()} examples, fewer than the k = {k} folds: every "
            f"fold must hold at least one of each class. Use k <= {counts.min()} or more data."
        )
    splitter = StratifiedKFold(n_splits=int(k), shuffle=True, random_state=seed)
    return [(train, held) for train, held in splitter.split(np.zeros(len(labels)), labels)]


@dataclass
class CrossValidation:
    """What :func:`cross_validate` measured: one held-out score and one training time per fold."""

    scores: list[float]
    seconds: list[float]
    fold_sizes: list[int] = field(default_factory=list)

    @property
    def k(self) -> int:
        return len(self.scores)

    @property
    def mean(self) -> float:
        return float(np.mean(self.scores))

    @property
    def sd(self) -> float:
        """The standard deviation of the fold scores (``ddof=1``): how much one held-out split can vary."""
        return float(np.std(self.scores, ddof=1)) if self.k > 1 else float("nan")

    @property
    def standard_error(self) -> float:
        """``sd / sqrt(k)``, a rough standard error of the mean (the folds share training data, so optimistic)."""
        return self.sd / np.sqrt(self.k)

    @property
    def total_seconds(self) -> float:
        return float(np.sum(self.seconds))

    def table(self) -> pd.DataFrame:
        """One row per fold (score, held-out size, seconds), then the mean and the sd."""
        rows = pd.DataFrame(
            {
                "held-out score": self.scores,
                "held-out texts": self.fold_sizes or [np.nan] * self.k,
                "seconds": self.seconds,
            },
            index=pd.Index(range(1, self.k + 1), name="fold"),
        )
        summary = pd.DataFrame(
            {
                "held-out score": [self.mean, self.sd],
                "held-out texts": [np.nan, np.nan],
                "seconds": [self.total_seconds, np.nan],
            },
            index=["mean (seconds: total)", "sd"],
        )
        return pd.concat([rows.astype({"held-out texts": float}), summary])


def cross_validate(
    data, fit_and_score: Callable[[Any, Any, int], float], k: int = 5, *, seed: int = 0, progress: bool = True
) -> CrossValidation:
    """Stratified k-fold cross-validation of ``fit_and_score`` on ``data``.

    ``data`` is a dataset with a ``label`` column and a ``select(indices)`` method (a ``datasets.Dataset``).
    For each fold, ``fit_and_score(train_part, held_part, fold)`` trains a fresh model on ``train_part`` and
    returns its score on ``held_part`` (a number); the folds come from :func:`stratified_folds`. The time of each
    call is measured, since the cost of cross-validation is ``k`` trainings.
    """
    from tqdm.auto import tqdm

    if not hasattr(data, "select"):
        raise TypeError(f"data must be a dataset with a 'label' column and .select(), got {type(data).__name__}.")
    if not callable(fit_and_score):
        raise TypeError("fit_and_score must be a function (train_part, held_part, fold) -> score.")
    folds = stratified_folds(data["label"], k, seed=seed)
    scores, seconds, sizes = [], [], []
    for fold, (train, held) in enumerate(tqdm(folds, desc=f"{k}-fold cross-validation", disable=not progress)):
        start = time.perf_counter()
        score = fit_and_score(data.select(train.tolist()), data.select(held.tolist()), fold)
        seconds.append(time.perf_counter() - start)
        try:
            score = float(score)
        except (TypeError, ValueError):
            raise TypeError(
                f"fit_and_score must return one number (the held-out score), got {type(score).__name__} on fold {fold}."
            ) from None
        scores.append(score)
        sizes.append(len(held))
    return CrossValidation(scores=scores, seconds=seconds, fold_sizes=sizes)
