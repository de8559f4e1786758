"""Exercise checkers of chapter 5: one class's precision, recall and F1 from the confusion matrix, the maximum
calibration error.

Each checker registers itself under its exercise id; see :mod:`helpers.exercises` for the rules they share.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import register
from .guards import (
    _as_number,
    _as_numbers,
    _call_student,
    _close,
    _function_guard,
    _not_answered,
    _report,
    _slip_hint,
    _type_name,
)


@register("5.1")
def class_scores_by_hand(answer: Any, *, y_true, y_pred, names, label: str, exercise_id: str = "5.1") -> bool:
    """Exercise 5.1: ``(precision, recall, f1)`` of the class ``label`` from the confusion matrix of ``y_true``
    and ``y_pred`` (class ids; ``names`` maps them to class names).

    The reference is scikit-learn's ``precision_recall_fscore_support`` for that class (with ``zero_division=0``).
    Recognises precision and recall swapped (a column read as a row), the accuracy, F1 as the arithmetic mean, the
    macro averages, another class's scores and percentages.
    """
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    if y_true is None or y_pred is None or names is None:
        raise TypeError(
            "class_scores_by_hand needs the chapter's labels and predictions: y_true=..., y_pred=..., names=..."
        )
    names = list(names)
    if label not in names:
        raise ValueError(f"{label!r} is not one of the classes {names}.")
    if answer is None:
        return _not_answered(exercise_id, "the three numbers, `answer = (precision, recall, f1)`")
    values = _as_numbers(answer, 3)
    if values is None:
        return _report(
            exercise_id,
            False,
            f"the answer should be three numbers, `(precision, recall, f1)`, not a {_type_name(answer)}.",
        )
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels = list(range(len(names)))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    c = names.index(label)
    right = (float(p[c]), float(r[c]), float(f[c]))
    got_p, got_r, got_f = values

    def same(a, b):
        return all(_close(x, y, 1e-6) for x, y in zip(a, b))

    if same(values, right):
        n_pred = int(np.sum(y_pred == c))
        said = (
            f"of the {n_pred} predicted {label}, the share that are {label}"
            if n_pred
            else f"nothing was predicted {label}, so 0 by convention"
        )
        return _report(
            exercise_id,
            True,
            f"correct: for {label}, precision = {right[0]:.4f} ({said}), recall = "
            f"{right[1]:.4f} (of the {int(s[c])} that are {label}, the share found), "
            f"F1 = {right[2]:.4f}.",
        )
    if same(values, [100 * x for x in right]):
        return _report(exercise_id, False, "these are percentages: give fractions between 0 and 1.")
    if same(values, (right[1], right[0], right[2])) and not _close(right[0], right[1], 1e-6):
        return _report(
            exercise_id,
            False,
            "precision and recall are swapped. In `confusion_matrix(y_true, y_pred)` "
            "the rows are the true classes and the columns the predictions: "
            "precision = TP / (column sum), recall = TP / (row sum).",
        )
    hints = []
    if not _close(got_p, right[0], 1e-6) and not _close(got_p, right[1], 1e-6):
        if _close(got_p, float(accuracy_score(y_true, y_pred)), 1e-6):
            hints.append("the precision is the overall accuracy: use the column of this class only")
        elif _close(got_p, float(np.mean(p)), 1e-6):
            hints.append("the precision is the macro average over all classes: give this class's only")
        elif any(_close(got_p, float(x), 1e-6) for x in p):
            hints.append(
                "the precision is another class's: check the index of "
                f"{label!r} in the class names ({names.index(label)})"
            )
    if not _close(got_r, right[1], 1e-6) and not _close(got_r, right[0], 1e-6):
        if _close(got_r, float(np.mean(r)), 1e-6):
            hints.append("the recall is the macro average: give this class's only")
        elif any(_close(got_r, float(x), 1e-6) for x in r):
            hints.append(f"the recall is another class's: check the index of {label!r}")
    if _close(got_p, right[0], 1e-6) and _close(got_r, right[1], 1e-6) and not _close(got_f, right[2], 1e-6):
        if _close(got_f, (right[0] + right[1]) / 2, 1e-6):
            hints.append("F1 is the harmonic mean 2PR / (P + R), not the arithmetic mean (P + R) / 2")
        else:
            hints.append("precision and recall are right, but F1 = 2PR / (P + R) = 2TP / (2TP + FP + FN)")
    if not hints:
        hints.append(
            f"from `cm = confusion_matrix(y_true, y_pred)` and c = {c} (the index of {label!r}): TP = "
            "cm[c, c], FP = the rest of column c, FN = the rest of row c"
        )
    return _report(exercise_id, False, f"not quite: {'; '.join(hints)}.")


def _check_probs_labels(probs, labels):
    probs = np.asarray(probs, dtype=float)
    labels = np.asarray(labels)
    if probs.ndim != 2 or len(probs) != len(labels):
        raise ValueError("probs must be an (n, classes) array with one row per label")
    return probs, labels


@register("5.2")
def ece_function(answer: Any, *, probs, labels, n_bins: int = 10, exercise_id: str = "5.2") -> bool:
    """Exercise 5.2: ``my_mce(probs, labels, n_bins)``, the *maximum* calibration error with equal-width bins.

    The bins are those of :func:`helpers.evaluate.reliability_bins` (the top-label confidence cut into ``n_bins``
    equal-width bins of [0, 1]); the MCE is the largest ``|accuracy_b - confidence_b|`` over the bins that are not
    empty, where the ECE of section 5.4 is their weighted mean. Tested on the chapter's probabilities and on random
    ones with three classes. Recognises the ECE given instead, a plain mean over the bins, the absolute value
    forgotten, a single overall gap, and the probability of class 1 binned instead of the top-label confidence.
    """
    import helpers.evaluate as ev

    if probs is None or labels is None:
        raise TypeError("ece_function needs the chapter's probabilities and labels: probs=test_probs, labels=y_test")
    if (verdict := _function_guard(exercise_id, answer, "my_mce", "probs, labels, n_bins")) is not None:
        return verdict
    probs, labels = _check_probs_labels(probs, labels)
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(400, 3)) * 2.0
    random_probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    random_labels = np.where(rng.random(400) < 0.7, random_probs.argmax(axis=1), rng.integers(0, 3, 400))
    cases = [
        ("the chapter's test probabilities", probs, labels, n_bins),
        ("random three-class probabilities, 10 bins", random_probs, random_labels, 10),
        ("random three-class probabilities, 5 bins", random_probs, random_labels, 5),
    ]
    for name, cp, cl, nb in cases:
        ok, got = _call_student(exercise_id, answer, "my_mce", name, cp.copy(), cl.copy(), nb)
        if not ok:
            return got
        value = _as_number(got)
        if value is None:
            return _report(exercise_id, False, f"`my_mce` should return one number, not a {_type_name(got)}.")
        full = ev.reliability_bins(cp, cl, nb).query("count > 0")
        right = float(full["gap"].abs().max())
        if _close(value, right, 1e-6):
            continue
        if (verdict := _mce_verdict(exercise_id, name, value, right, full, cp, cl, nb)) is not None:
            return verdict
    return _report(
        exercise_id,
        True,
        f"correct on {len(cases)} inputs: the largest |accuracy - confidence| over "
        "the non-empty bins of the top-label confidence. It is never below the ECE, "
        "and a bin with few examples can set it alone.",
    )


def _mce_verdict(exercise_id: str, name: str, value: float, right: float, full, probs, labels, n_bins: int) -> bool:
    """Exercise 5.2: the verdict on a wrong MCE ``value`` (``right`` is the MCE; ``full`` the non-empty bins)."""
    conf, correct = probs.max(axis=1), (probs.argmax(axis=1) == labels)
    weights = full["count"] / full["count"].sum()
    slips = [
        (
            float((weights * full["gap"].abs()).sum()),
            "this is the ECE, the weighted mean of the gaps: the MCE is the largest gap of a non-empty bin.",
        ),
        (float(full["gap"].abs().mean()), "this is the plain mean of the gaps: take their maximum."),
        (
            float(full["gap"].max()),
            "the absolute value is missing: an over-confident bin (accuracy below "
            "confidence) has a negative gap and must count too.",
        ),
        (
            abs(float(conf.mean() - correct.mean())),
            "this is the overall gap |accuracy - mean confidence|: compute the gap in each bin, then the largest.",
        ),
    ]
    if probs.shape[1] == 2:
        b_ids = np.clip(np.ceil(probs[:, 1] * n_bins).astype(int) - 1, 0, n_bins - 1)
        gaps = [
            abs(np.mean(labels[b_ids == b] == 1) - probs[b_ids == b, 1].mean())
            for b in range(n_bins)
            if (b_ids == b).any()
        ]
        slips.append(
            (
                float(max(gaps)),
                "this bins the probability of class 1; calibration error uses the "
                "top-label confidence, `probs.max(axis=1)`, and whether the *predicted* "
                "class is right.",
            )
        )
    hint = _slip_hint(value, slips, 1e-6)
    if hint:
        return _report(exercise_id, False, f"on {name}: {hint}")
    return _report(
        exercise_id,
        False,
        f"on {name} the MCE is {right:.4f}, not {value:.4f}. Hint: confidence = "
        "`probs.max(axis=1)`, correct = (`probs.argmax(axis=1) == labels`); bin b "
        "holds the confidences in (b / n_bins, (b + 1) / n_bins] (the first also "
        "0); MCE = the largest |accuracy_b - confidence_b| over the non-empty bins.",
    )
