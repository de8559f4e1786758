"""helpers.crossval: stratified folds that cover every example once with the class proportions kept, the
per-fold scores and times of cross_validate, and clear errors for bad input."""

import datasets
import numpy as np
import pytest

from helpers.crossval import CrossValidation, cross_validate, stratified_folds

LABELS = [0] * 30 + [1] * 12 + [2] * 8  # imbalanced on purpose: 60% / 24% / 16%


def test_folds_hold_out_every_example_once_and_keep_the_proportions():
    folds = stratified_folds(LABELS, k=4, seed=0)
    assert len(folds) == 4
    held = np.concatenate([h for _, h in folds])
    assert sorted(held.tolist()) == list(range(len(LABELS)))  # each index held out exactly once
    labels = np.asarray(LABELS)
    for train, h in folds:
        assert not set(train) & set(h) and len(train) + len(h) == len(LABELS)
        counts = np.bincount(labels[h], minlength=3)
        expected = np.bincount(labels, minlength=3) / 4
        assert np.all(np.abs(counts - expected) <= 1)  # stratified: within one example of the exact share


def test_folds_are_shuffled_and_depend_only_on_the_seed():
    a, b, c = (stratified_folds(LABELS, k=5, seed=s) for s in (0, 0, 1))
    assert all(np.array_equal(x[1], y[1]) for x, y in zip(a, b))
    assert not all(np.array_equal(x[1], y[1]) for x, y in zip(a, c))
    assert not np.array_equal(a[0][1], np.arange(len(a[0][1])))  # not the first rows in order


@pytest.mark.parametrize(
    "labels, k, message",
    [
        (LABELS, 1, "k >= 2"),
        (LABELS, 2.5, "k >= 2"),
        (LABELS, True, "k >= 2"),
        (LABELS, 9, "class 2 has only 8 examples, fewer than the k = 9 folds"),
        ([], 2, "non-empty"),
        ([[0, 1], [1, 0]], 2, "1-d"),
    ],
)
def test_folds_reject_bad_input_with_a_clear_message(labels, k, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        stratified_folds(labels, k=k)


@pytest.fixture
def data():
    texts = [f"text {i}" for i in range(len(LABELS))]
    return datasets.Dataset.from_dict({"text": texts, "label": LABELS})


def test_cross_validate_trains_once_per_fold_on_the_other_folds(data):
    seen = []

    def fit_and_score(train_part, held_part, fold):
        seen.append((fold, set(train_part["text"]), set(held_part["text"])))
        return len(held_part) / len(data)  # a score we can predict: the held-out share

    cv = cross_validate(data, fit_and_score, k=5, seed=0, progress=False)
    assert [s[0] for s in seen] == [0, 1, 2, 3, 4]
    for _, train, held in seen:
        assert not train & held and len(train | held) == len(data)
    assert set().union(*(held for _, _, held in seen)) == set(data["text"])
    assert cv.k == 5 and cv.fold_sizes == [10] * 5
    assert cv.mean == pytest.approx(0.2) and cv.sd == pytest.approx(0.0)
    assert len(cv.seconds) == 5 and all(s >= 0 for s in cv.seconds)
    assert cv.total_seconds == pytest.approx(sum(cv.seconds))


def test_cross_validation_summary_and_table():
    cv = CrossValidation(scores=[0.8, 0.9, 0.7], seconds=[1.0, 2.0, 3.0], fold_sizes=[10, 10, 10])
    assert cv.mean == pytest.approx(0.8) and cv.sd == pytest.approx(0.1)
    assert cv.standard_error == pytest.approx(0.1 / np.sqrt(3))
    table = cv.table()
    assert list(table.index[:3]) == [1, 2, 3]
    assert table.loc["mean (seconds: total)", "held-out score"] == pytest.approx(0.8)
    assert table.loc["mean (seconds: total)", "seconds"] == pytest.approx(6.0)
    assert table.loc["sd", "held-out score"] == pytest.approx(0.1)


def test_cross_validate_rejects_bad_input(data):
    with pytest.raises(TypeError, match="a dataset with a 'label' column"):
        cross_validate([0, 1, 0, 1], lambda *a: 1.0, k=2)
    with pytest.raises(TypeError, match="must be a function"):
        cross_validate(data, 0.5, k=2)
    with pytest.raises(TypeError, match="must return one number .* got list on fold 0"):
        cross_validate(data, lambda train, held, fold: [1.0], k=2, progress=False)
