"""helpers.imbalance: imbalance on purpose, class weights as scikit-learn computes them, resampling, thresholds."""

import numpy as np
import pytest
from datasets import ClassLabel, Dataset, Features, Value
from sklearn.metrics import f1_score
from sklearn.utils.class_weight import compute_class_weight

from helpers.imbalance import apply_threshold, best_threshold, class_weights, make_imbalanced, random_oversample


def make_ds(counts, names=None) -> Dataset:
    names = names or [f"c{i}" for i in range(len(counts))]
    labels = np.repeat(np.arange(len(counts)), counts)
    labels = labels[np.random.default_rng(0).permutation(len(labels))]
    features = Features({"text": Value("string"), "label": ClassLabel(names=names)})
    return Dataset.from_dict(
        {"text": [f"text {i}" for i in range(len(labels))], "label": labels.tolist()}, features=features
    )


def test_make_imbalanced_keeps_the_majority_and_reaches_the_ratio():
    ds = make_ds([400, 600])
    out = make_imbalanced(ds, minority=1, ratio=1 / 9, seed=0)
    counts = np.bincount(out["label"])
    assert counts.tolist() == [400, 44]  # round(400 / 9)
    assert set(out["text"]) <= set(ds["text"]) and len(set(out["text"])) == len(out)  # no duplicates, no new rows
    assert out.features["label"].names == ["c0", "c1"]
    again = make_imbalanced(ds, minority=1, ratio=1 / 9, seed=0)
    assert again["text"] == out["text"]  # the seed decides the rows
    assert make_imbalanced(ds, minority=1, ratio=1 / 9, seed=1)["text"] != out["text"]


def test_make_imbalanced_with_fewer_majority_rows_is_stratified():
    ds = make_ds([300, 100, 200])
    out = make_imbalanced(ds, minority=0, ratio=0.25, n_majority=150, seed=0)
    counts = np.bincount(out["label"])
    assert counts.tolist() == [38, 50, 100]  # 150 others in the proportion 1:2, 0.25 * 150 = 37.5 -> 38


def test_make_imbalanced_bad_input():
    ds = make_ds([100, 20])
    with pytest.raises(ValueError, match="needs 50 rows of class 1, but the data has only 20"):
        make_imbalanced(ds, minority=1, ratio=0.5)
    with pytest.raises(ValueError, match="Class 7 does not occur"):
        make_imbalanced(ds, minority=7)
    with pytest.raises(ValueError, match="ratio must be positive"):
        make_imbalanced(ds, minority=1, ratio=0)
    with pytest.raises(ValueError, match="n_majority must be between 1 and 100"):
        make_imbalanced(ds, minority=1, n_majority=500)
    with pytest.raises(ValueError, match="'label' column"):
        make_imbalanced(Dataset.from_dict({"text": ["a"]}), minority=0)


def test_random_oversample_balances_by_duplicating():
    ds = make_ds([90, 10, 30])
    out = random_oversample(ds, seed=0)
    assert np.bincount(out["label"]).tolist() == [90, 90, 90]
    assert set(ds["text"]) <= set(out["text"])  # every original row is kept
    assert set(out["text"]) == set(ds["text"])  # and nothing new appears: only copies
    original = dict(zip(ds["text"], ds["label"]))
    assert all(original[t] == y for t, y in zip(out["text"], out["label"]))  # copies keep their labels
    assert out["label"] != sorted(out["label"])  # shuffled
    with pytest.raises(ValueError, match="empty"):
        random_oversample(make_ds([0, 0]))


@pytest.mark.parametrize("counts", [[900, 100], [50, 30, 20], [7, 7]])
def test_class_weights_match_sklearn(counts):
    labels = np.repeat(np.arange(len(counts)), counts)
    ours = class_weights(labels)
    theirs = compute_class_weight("balanced", classes=np.arange(len(counts)), y=labels)
    np.testing.assert_allclose(ours, theirs)
    np.testing.assert_allclose((ours * np.asarray(counts)).std(), 0, atol=1e-9)  # each class weighs the same in all


def test_class_weights_bad_input():
    with pytest.raises(ValueError, match=r"Class\(es\) \[1\] have no examples"):
        class_weights([0, 0, 2])
    with pytest.raises(ValueError, match="num_classes=2"):
        class_weights([0, 1, 2], num_classes=2)
    with pytest.raises(ValueError, match="non-empty"):
        class_weights([])


def brute_force_threshold(labels, p):
    best = (-1.0, None)
    for t in np.concatenate([np.unique(p), [np.inf]]):
        score = f1_score(labels, (p >= t).astype(int), average="macro", zero_division=0)
        if score > best[0] + 1e-12:
            best = (score, t)
    return best[0]


@pytest.mark.parametrize("seed", range(6))
def test_best_threshold_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    labels = (rng.random(200) < rng.uniform(0.1, 0.5)).astype(int)
    p = np.clip(0.15 + 0.3 * labels + rng.normal(0, 0.2, 200), 0, 1).round(2)  # ties on purpose
    t, score = best_threshold(labels, p)
    assert score == pytest.approx(brute_force_threshold(labels, p))
    assert f1_score(labels, apply_threshold(p, t), average="macro") == pytest.approx(score)


def test_best_threshold_separable_and_bad_input():
    labels = np.array([0, 0, 0, 1, 1])
    p = np.array([0.05, 0.1, 0.2, 0.3, 0.35])  # a 0.5 cut calls everything negative; moving it fixes that
    t, score = best_threshold(labels, p)
    assert score == 1.0 and 0.2 < t < 0.3
    assert apply_threshold(p, t).tolist() == labels.tolist()
    with pytest.raises(ValueError, match="equal length"):
        best_threshold([0, 1], [0.5])
    with pytest.raises(ValueError, match="ids 0 and 1"):
        best_threshold([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        best_threshold([0, 1], [0.1, 1.2])


def test_random_undersample_cuts_every_class_to_the_smallest():
    from helpers.imbalance import random_undersample

    ds = make_ds([30, 7, 12])
    out = random_undersample(ds, seed=0)
    assert np.bincount(out["label"]).tolist() == [7, 7, 7]
    texts = out["text"]
    assert len(set(texts)) == len(texts) and set(texts) <= set(ds["text"])  # no duplicates, no new rows
    positions = [ds["text"].index(t) for t in texts]
    assert positions == sorted(positions)  # original order kept
    assert random_undersample(ds, seed=0)["text"] == texts
    assert random_undersample(ds, seed=1)["text"] != texts
    with pytest.raises(ValueError, match="empty"):
        random_undersample(make_ds([0, 0]))
    with pytest.raises(ValueError, match="'label' column"):
        random_undersample(Dataset.from_dict({"text": ["a"]}))
