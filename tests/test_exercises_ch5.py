"""helpers.exercises.ch5: every checker of chapter 5 accepts the reference solution and rejects the typical wrong
answers with a hint: one class's precision, recall and F1 (against scikit-learn), the maximum calibration error.

The references are computed independently here, with the libraries, so the checkers are tested against them, not
against themselves. A checker must never raise because of the answer: None (the student notebooks' stub), a wrong
type, or a function that raises all give False and a message.
"""

import numpy as np
import pytest
from exercise_tools import GUARD_CASES, assert_guarded, stub, verdict
from sklearn.metrics import accuracy_score

import helpers.check as check
from helpers.exercises import ch5

# ---------------------------------------------------------------------------------------------- 5.1 one class

TOPICS = ["business", "entertainment", "politics", "sport", "tech"]


@pytest.fixture(scope="module")
def topic_predictions():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 5, 300)
    y_pred = np.where(rng.random(300) < 0.7, y_true, rng.integers(0, 5, 300))
    y_pred[(y_true == 0) & (rng.random(300) < 0.3)] = 4  # business often taken for tech
    return y_true, y_pred


def by_hand_from_cm(y_true, y_pred, c):
    from sklearn.metrics import confusion_matrix

    cm = confusion_matrix(y_true, y_pred, labels=range(5))
    tp = cm[c, c]
    p, r = tp / cm[:, c].sum(), tp / cm[c, :].sum()
    return p, r, 2 * p * r / (p + r)


def test_class_scores_accept_the_scikit_learn_values(capsys, topic_predictions):
    from sklearn.metrics import precision_recall_fscore_support

    y_true, y_pred = topic_predictions
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred)
    right = by_hand_from_cm(y_true, y_pred, 0)
    assert np.allclose(right, (p[0], r[0], f[0]))
    ok, out = verdict(
        capsys, check.exercise, "5.1", right, y_true=y_true, y_pred=y_pred, names=TOPICS, label="business"
    )
    assert ok and "correct" in out
    ok, _ = verdict(
        capsys,
        check.exercise,
        "5.1",
        np.array(by_hand_from_cm(y_true, y_pred, 4)),
        y_true=y_true,
        y_pred=y_pred,
        names=TOPICS,
        label="tech",
    )
    assert ok


def test_class_scores_never_predicted_class_counts_as_zero(capsys):
    y_true, y_pred = np.array([0, 0, 1, 2, 2]), np.array([1, 1, 1, 2, 2])
    ok, _ = verdict(
        capsys,
        ch5.class_scores_by_hand,
        (0.0, 0.0, 0.0),
        y_true=y_true,
        y_pred=y_pred,
        names=["a", "b", "c"],
        label="a",
    )
    assert ok


@pytest.mark.parametrize(
    "kind, hint",
    [
        ("swapped", "swapped"),
        ("percent", "percentages"),
        ("mean", "harmonic mean"),
        ("accuracy", "overall accuracy"),
        ("macro", "macro average"),
        ("other", "another class"),
        ("pair", "three numbers"),
        ("none", "no answer yet"),
        ("off", "TP = cm[c, c]"),
    ],
)
def test_class_scores_recognise_typical_slips(capsys, topic_predictions, kind, hint):
    from sklearn.metrics import precision_recall_fscore_support

    y_true, y_pred = topic_predictions
    p, r, f = by_hand_from_cm(y_true, y_pred, 0)
    pa, ra, _, _ = precision_recall_fscore_support(y_true, y_pred)
    answer = {
        "swapped": (r, p, f),
        "percent": (100 * p, 100 * r, 100 * f),
        "mean": (p, r, (p + r) / 2),
        "accuracy": (accuracy_score(y_true, y_pred), r, f),
        "macro": (pa.mean(), ra.mean(), f),
        "other": by_hand_from_cm(y_true, y_pred, 2),
        "pair": (p, r),
        "none": None,
        "off": (0.5, 0.5, 0.5),
    }[kind]
    ok, out = verdict(
        capsys, ch5.class_scores_by_hand, answer, y_true=y_true, y_pred=y_pred, names=TOPICS, label="business"
    )
    assert not ok and hint in out


def test_class_scores_unknown_label_is_a_notebook_mistake(topic_predictions):
    with pytest.raises(ValueError, match="not one of the classes"):
        ch5.class_scores_by_hand((1, 1, 1), y_true=[0], y_pred=[0], names=TOPICS, label="weather")


# ---------------------------------------------------------------------------------------------- 5.2 MCE


def good_mce(probs, labels, n_bins):
    conf, correct = probs.max(axis=1), probs.argmax(axis=1) == labels
    gaps = []
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        inside = (conf > lo) & (conf <= hi) if b else (conf >= lo) & (conf <= hi)
        if inside.any():
            gaps.append(abs(correct[inside].mean() - conf[inside].mean()))
    return max(gaps)


@pytest.fixture(scope="module")
def binary_probs():
    rng = np.random.default_rng(3)
    p1 = 1 / (1 + np.exp(-3 * rng.normal(size=500)))
    labels = (rng.random(500) < 0.5 + 0.6 * (p1 - 0.5)).astype(int)
    return np.stack([1 - p1, p1], axis=1), labels


def test_mce_accepts_the_reference(capsys, binary_probs):
    from sklearn.calibration import calibration_curve

    import helpers.evaluate as ev

    probs, labels = binary_probs
    conf, correct = probs.max(axis=1), (probs.argmax(axis=1) == labels).astype(int)
    prob_true, prob_pred = calibration_curve(correct, conf, n_bins=10)  # the bins scikit-learn makes
    assert np.isclose(good_mce(probs, labels, 10), np.max(np.abs(prob_true - prob_pred)))
    assert good_mce(probs, labels, 10) >= ev.expected_calibration_error(probs, labels, 10)
    ok, out = verdict(capsys, check.exercise, "5.2", good_mce, probs=probs, labels=labels)
    assert ok and "correct on 3 inputs" in out


def _mean_gap(probs, labels, n_bins):
    conf, correct = probs.max(axis=1), probs.argmax(axis=1) == labels
    ids = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    return np.mean([abs(correct[ids == b].mean() - conf[ids == b].mean()) for b in range(n_bins) if (ids == b).any()])


def _signed(probs, labels, n_bins):
    conf, correct = probs.max(axis=1), probs.argmax(axis=1) == labels
    ids = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    return max(correct[ids == b].mean() - conf[ids == b].mean() for b in range(n_bins) if (ids == b).any())


def _class_one(probs, labels, n_bins):
    p1 = probs[:, 1]
    ids = np.clip(np.ceil(p1 * n_bins).astype(int) - 1, 0, n_bins - 1)
    return max(abs((labels[ids == b] == 1).mean() - p1[ids == b].mean()) for b in range(n_bins) if (ids == b).any())


def _ece(probs, labels, n_bins):
    import helpers.evaluate as ev

    return ev.expected_calibration_error(probs, labels, n_bins)


@pytest.mark.parametrize(
    "fn, hint",
    [
        (_ece, "this is the ECE"),
        (_mean_gap, "plain mean of the gaps"),
        (_signed, "absolute value is missing"),
        (lambda p, y, n: abs(p.max(axis=1).mean() - (p.argmax(axis=1) == y).mean()), "overall gap"),
        (_class_one, "probability of class 1"),
        (lambda p, y, n: good_mce(p, y, n) + 0.01, "Hint"),
        (lambda p, y, n: [0.1], "one number"),
        (None, "no answer yet"),
        ("my_mce", "pass the function"),
        (lambda p, y: 0.0, "TypeError"),
    ],
)
def test_mce_recognises_typical_slips(capsys, binary_probs, fn, hint):
    probs, labels = binary_probs
    ok, out = verdict(capsys, ch5.ece_function, fn, probs=probs, labels=labels)
    assert not ok and hint in out


def test_mce_answers_the_student_stub(capsys, binary_probs):
    ok, out = verdict(capsys, ch5.ece_function, stub, probs=binary_probs[0], labels=binary_probs[1])
    assert not ok and "not written yet" in out


# ---------------------------------------------------------------------------------------------- every function exercise


@pytest.mark.parametrize(
    "checker, exercise_id, name",
    [
        (ch5.ece_function, "5.2", "my_mce"),
    ],
    ids=["5.2"],
)
@pytest.mark.parametrize("case", GUARD_CASES)
def test_function_exercises_report_non_functions_and_crashes(capsys, binary_probs, checker, exercise_id, name, case):
    """The shared guard and the shared call: None, a non-function, the stub and a crash are messages, not errors."""
    assert_guarded(capsys, checker, exercise_id, name, case, probs=binary_probs[0], labels=binary_probs[1])
