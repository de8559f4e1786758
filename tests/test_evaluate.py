"""helpers.evaluate: predictions in the input order that match the model's own forward pass, and the metrics."""

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import tiny_bert_classifier

from helpers.evaluate import accuracy_and_f1, encode_texts, predict

TEXTS = [
    "a long and winding sentence about a film that goes on and on without saying much at all",
    "great",
    "not good",
    "an utterly charming, funny and touching film",
    "meh",
    "the worst thing i have seen this year, by a long way",
    "fine",
]


@pytest.fixture(scope="module")
def model():
    return tiny_bert_classifier(num_labels=3)


def test_predict_keeps_input_order_and_matches_forward(model, tokenizer):
    out = predict(model, tokenizer, TEXTS, batch_size=3)  # several batches, sorted by length inside
    assert out.labels.shape == (len(TEXTS),) and out.probs.shape == (len(TEXTS), 3)
    np.testing.assert_allclose(out.probs.sum(axis=1), 1.0, atol=1e-6)
    for i, text in enumerate(TEXTS):  # one text at a time, no padding at all
        with torch.no_grad():
            logits = model(**tokenizer(text, return_tensors="pt")).logits[0]
        np.testing.assert_allclose(out.probs[i], torch.softmax(logits, -1).numpy(), atol=1e-5)
        assert out.labels[i] == int(logits.argmax())


def test_predict_single_string_and_bad_input(model, tokenizer):
    one = predict(model, tokenizer, "great")
    many = predict(model, tokenizer, TEXTS)
    np.testing.assert_allclose(one.probs[0], many.probs[1], atol=1e-5)
    with pytest.raises(TypeError, match="^predict needs strings; item 1 is NoneType"):
        predict(model, tokenizer, ["ok", None])
    assert model.training is False


def test_predict_restores_training_mode(model, tokenizer):
    model.train()
    predict(model, tokenizer, TEXTS[:2])
    assert model.training
    model.eval()


def test_encode_texts_lengths(tokenizer):
    ids, lengths = encode_texts(tokenizer, ["great", "not good at all"], max_length=4)
    assert lengths.tolist() == [3, 4]  # [CLS] great [SEP]; truncated to 4
    assert ids.shape == (2, 4) and ids[0, 3] == tokenizer.pad_token_id


def test_accuracy_and_f1():
    scores = accuracy_and_f1([0, 0, 1, 1], [0, 1, 1, 1])
    assert scores["accuracy"] == pytest.approx(0.75)
    assert scores["f1"] == pytest.approx((2 / 3 + 0.8) / 2)  # class 0: P 1, R .5; class 1: P 2/3, R 1
    with pytest.raises(ValueError, match="2 labels but 1 predictions"):
        accuracy_and_f1([0, 1], [0])


# ---- chapter 5: counts by hand, reports, calibration, temperature scaling, error analysis ----

from sklearn.calibration import calibration_curve  # noqa: E402
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support  # noqa: E402

from helpers.evaluate import (  # noqa: E402
    classification_table,
    confusion_counts,
    contains_any,
    expected_calibration_error,
    fit_temperature,
    logits_for_texts,
    most_confident_mistakes,
    nll,
    reliability_bins,
    scores_from_counts,
    temperature_scale,
)


def random_predictions(n=300, k=3, seed=0, skew=0.6):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, n)
    preds = np.where(rng.random(n) < skew, labels, rng.integers(0, k, n))
    return labels, preds


@pytest.mark.parametrize("k,seed", [(2, 0), (3, 1), (5, 2)])
def test_scores_from_counts_match_sklearn(k, seed):
    labels, preds = random_predictions(k=k, seed=seed)
    names = [f"c{i}" for i in range(k)]
    counts = confusion_counts(labels, preds, names)
    cm = confusion_matrix(labels, preds)
    assert counts["TP"].tolist() == np.diag(cm).tolist()
    assert (counts[["TP", "FP", "FN", "TN"]].sum(axis=1) == len(labels)).all()
    ours = scores_from_counts(counts)
    for average in (None, "macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(labels, preds, average=average, zero_division=0)
        row = ours.loc[names] if average is None else ours.loc[f"{average} avg"]
        np.testing.assert_allclose(row["precision"], p, atol=1e-12)
        np.testing.assert_allclose(row["recall"], r, atol=1e-12)
        np.testing.assert_allclose(row["f1"], f, atol=1e-12)
    table = classification_table(labels, preds, names)
    np.testing.assert_allclose(
        table.loc[names + ["macro avg", "weighted avg"], ["precision", "recall", "f1"]],
        ours[["precision", "recall", "f1"]],
        atol=1e-12,
    )
    assert table.loc["accuracy", "f1"] == pytest.approx(np.mean(labels == preds))


def test_counts_with_a_class_never_predicted():
    labels, preds = [0, 0, 1, 2], [0, 0, 0, 0]  # classes 1 and 2 are never predicted: precision 0/0 -> 0
    ours = scores_from_counts(confusion_counts(labels, preds, ["a", "b", "c"]))
    p, r, f, _ = precision_recall_fscore_support(labels, preds, labels=[0, 1, 2], zero_division=0)
    np.testing.assert_allclose(ours.loc[["a", "b", "c"], ["precision", "recall", "f1"]].T, [p, r, f])
    assert ours.loc["b", "precision"] == 0 and ours.loc["a", "recall"] == 1


def test_counts_bad_input():
    with pytest.raises(ValueError, match="2 labels but 1 predictions"):
        confusion_counts([0, 1], [0], ["a", "b"])
    with pytest.raises(ValueError, match="0..1 for 2 label names"):
        confusion_counts([0, 2], [0, 1], ["a", "b"])
    with pytest.raises(ValueError, match="no labels"):
        confusion_counts([], [], ["a", "b"])
    with pytest.raises(ValueError, match="confusion_counts"):
        scores_from_counts(pd.DataFrame({"TP": [1]}))


def overconfident(n=20000, k=3, true_t=2.5, seed=0):
    """Labels drawn from softmax(z); the 'model' reports z * true_t, so dividing by true_t recalibrates it."""
    rng = np.random.default_rng(seed)
    z = rng.normal(0, 1.5, (n, k))
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    labels = (rng.random(n)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)
    return z * true_t, labels


@pytest.mark.parametrize("true_t", [0.5, 1.0, 2.5])
def test_fit_temperature_recovers_a_known_temperature(true_t):
    logits, labels = overconfident(true_t=true_t)
    t = fit_temperature(logits, labels)
    assert t == pytest.approx(true_t, rel=0.05)
    assert nll(logits, labels, t) <= nll(logits, labels, 1.0) + 1e-12
    # scaling keeps every prediction: one number divides all logits
    assert (temperature_scale(logits, t).argmax(1) == logits.argmax(1)).all()


@pytest.mark.parametrize("seed", range(5))
def test_fit_temperature_never_raises_nll(seed):
    rng = np.random.default_rng(seed)
    logits, labels = rng.normal(0, rng.uniform(0.1, 5), (50, 2)), rng.integers(0, 2, 50)
    t = fit_temperature(logits, labels)
    assert t > 0 and nll(logits, labels, t) <= nll(logits, labels, 1.0) + 1e-12
    grid = np.exp(np.linspace(-4, 4, 801))  # the fitted T is (close to) the best on a fine grid
    assert nll(logits, labels, t) <= min(nll(logits, labels, g) for g in grid) + 1e-6


def test_temperature_matches_torch_softmax_and_bad_input():
    logits = np.array([[2.0, 0.0], [0.0, 1.0]])
    np.testing.assert_allclose(temperature_scale(logits, 2.0), torch.softmax(torch.tensor(logits) / 2, -1).numpy())
    assert nll(logits, [0, 1]) == pytest.approx(
        float(torch.nn.functional.cross_entropy(torch.tensor(logits), torch.tensor([0, 1])))
    )
    with pytest.raises(ValueError, match="positive"):
        temperature_scale(logits, 0.0)
    with pytest.raises(ValueError, match="2 rows of logits but 3 labels"):
        fit_temperature(logits, [0, 1, 1])
    with pytest.raises(ValueError, match="class ids 0..1"):
        fit_temperature(logits, [0, 2])
    with pytest.raises(ValueError, match="NaN"):
        fit_temperature(np.array([[np.nan, 0.0]]), [0])


def ece_directly(probs, labels, n_bins):
    """ECE by the definition, one example at a time: bins (lower, upper], the first also holds 0."""
    conf, pred = probs.max(1), probs.argmax(1)
    total = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        inside = [i for i in range(len(conf)) if (lo < conf[i] <= hi) or (b == 0 and conf[i] == 0)]
        if inside:
            acc = np.mean([pred[i] == labels[i] for i in inside])
            total += len(inside) / len(conf) * abs(acc - np.mean([conf[i] for i in inside]))
    return total


@pytest.mark.parametrize("n_bins,seed", [(10, 0), (15, 1), (5, 2)])
def test_ece_matches_the_definition_and_sklearn_bins(n_bins, seed):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, 2, (500, 2))
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    labels = rng.integers(0, 2, 500)
    assert expected_calibration_error(probs, labels, n_bins) == pytest.approx(ece_directly(probs, labels, n_bins))
    bins = reliability_bins(probs, labels, n_bins)
    full = bins[bins["count"] > 0]
    correct = (probs.argmax(1) == labels).astype(int)
    prob_true, prob_pred = calibration_curve(correct, probs.max(1), n_bins=n_bins, strategy="uniform")
    np.testing.assert_allclose(full["accuracy"], prob_true, atol=1e-12)
    np.testing.assert_allclose(full["confidence"], prob_pred, atol=1e-12)
    assert bins["count"].sum() == 500


def test_ece_known_cases():
    labels = np.array([0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    right = np.tile([1.0, 0.0], (10, 1))
    assert expected_calibration_error(right, labels) == 0.0  # sure and always right
    says_90 = np.tile([0.9, 0.1], (10, 1))
    labels_70 = np.array([0] * 7 + [1] * 3)
    assert expected_calibration_error(says_90, labels_70) == pytest.approx(0.2)  # says 90%, right 70%
    # two bins: 0.6 and right half the time (gap 0.1), 1.0 and always right (gap 0)
    probs = np.array([[0.6, 0.4]] * 4 + [[1.0, 0.0]] * 4)
    assert expected_calibration_error(probs, [0, 0, 1, 1, 0, 0, 0, 0]) == pytest.approx(0.05)
    # a confidence exactly on a bin edge goes to the lower bin, as in sklearn
    edge = reliability_bins(np.array([[0.7, 0.3]]), [0], n_bins=10)
    assert edge.loc[edge["count"] == 1, "upper"].item() == pytest.approx(0.7)


def test_calibration_bad_input():
    with pytest.raises(ValueError, match="2-d"):
        expected_calibration_error(np.array([0.2, 0.9]), [0, 1])
    with pytest.raises(ValueError, match="sum to 1"):
        expected_calibration_error(np.array([[2.0, -1.0], [3.0, 1.0]]), [0, 1])
    with pytest.raises(ValueError, match="2 rows of probabilities but 1 labels"):
        reliability_bins(np.array([[0.5, 0.5]] * 2), [0])
    with pytest.raises(ValueError, match="n_bins"):
        reliability_bins(np.array([[0.5, 0.5]]), [0], n_bins=0)


def test_most_confident_mistakes_order_and_content():
    texts = ["a", "b", "c", "d"]
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.95, 0.05]])
    table = most_confident_mistakes(texts, [1, 1, 0, 1], probs, ["neg", "pos"], n=5)
    assert table.index.tolist() == [3, 0, 2]  # wrong ones only, surest first
    assert table["text"].tolist() == ["d", "a", "c"] and table["predicted"].tolist() == ["neg", "neg", "pos"]
    np.testing.assert_allclose(table["confidence"], [0.95, 0.9, 0.6])
    with pytest.raises(ValueError, match="3 texts but 4 labels"):
        most_confident_mistakes(texts[:3], [1, 1, 0, 1], probs, ["neg", "pos"])
    with pytest.raises(ValueError, match="3 label names"):
        most_confident_mistakes(texts, [1, 1, 0, 1], probs, ["neg", "pos", "x"])


def test_contains_any_whole_words_and_contractions():
    texts = ["It is not good.", "Nothing works", "It isn\u2019t bad", "Fine, BUT long", "butter"]
    assert contains_any(texts, ["not", "-n't"]).tolist() == [True, False, True, False, False]
    assert contains_any(texts, ["but"]).tolist() == [False, False, False, True, False]
    with pytest.raises(ValueError, match="at least one word"):
        contains_any(texts, [])


def test_logits_for_texts_match_predict(model, tokenizer):
    logits = logits_for_texts(model, tokenizer, TEXTS, batch_size=2)
    probs = predict(model, tokenizer, TEXTS).probs
    assert logits.shape == (len(TEXTS), 3) and logits.dtype == np.float32
    np.testing.assert_allclose(torch.softmax(torch.tensor(logits), -1).numpy(), probs, atol=1e-6)
    with pytest.raises(TypeError, match="^logits_for_texts needs strings; item 0 is int"):
        logits_for_texts(model, tokenizer, [3])


def test_bootstrap_difference_known_cases():
    from sklearn.metrics import accuracy_score

    from helpers.evaluate import bootstrap_difference

    labels = np.array([0, 1] * 50)
    same = bootstrap_difference(labels, labels, labels, n_boot=50)
    assert same == {"difference": 0.0, "low": 0.0, "high": 0.0}
    flipped = bootstrap_difference(labels, labels, 1 - labels, accuracy_score, n_boot=50)
    assert flipped == {"difference": 1.0, "low": 1.0, "high": 1.0}
    rng = np.random.default_rng(0)
    a = np.where(rng.random(2000) < 0.8, np.tile(labels, 20), 1 - np.tile(labels, 20))
    b = np.where(rng.random(2000) < 0.7, np.tile(labels, 20), 1 - np.tile(labels, 20))
    out = bootstrap_difference(np.tile(labels, 20), a, b, accuracy_score, n_boot=400, seed=1)
    d = (a == np.tile(labels, 20)).astype(float) - (b == np.tile(labels, 20))
    se = d.std() / np.sqrt(len(d))  # the analytic standard error of a paired difference of accuracies
    assert out["low"] < out["difference"] < out["high"]
    assert (out["high"] - out["low"]) / (2 * 1.96 * se) == pytest.approx(1.0, abs=0.15)
    assert bootstrap_difference(np.tile(labels, 20), a, b, accuracy_score, n_boot=400, seed=1) == out
    with pytest.raises(ValueError, match="n_boot"):
        bootstrap_difference(labels, labels, labels, n_boot=0)
    with pytest.raises(ValueError, match="100 labels but 3 predictions"):
        bootstrap_difference(labels, labels, labels[:3])
