"""Chapter 5's figures: confusion matrix, ROC / precision-recall, reliability diagram, spread over seeds."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.metrics import average_precision_score, confusion_matrix, roc_auc_score  # noqa: E402

from helpers.evaluate import expected_calibration_error  # noqa: E402
from helpers.plots import plot_confusion_matrix, plot_reliability, plot_roc_pr, plot_spread  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def binary(n=400, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    score = np.clip(0.5 + 0.3 * (labels - 0.5) + rng.normal(0, 0.2, n), 0, 1)
    return labels, score


def labelled(ax):
    return bool(ax.get_title()) and bool(ax.get_xlabel()) and bool(ax.get_ylabel())


def test_confusion_matrix_shows_row_shares():
    labels = np.array([0, 0, 0, 0, 1, 1, 2, 2, 2, 2])
    preds = np.array([0, 0, 0, 1, 1, 1, 2, 2, 0, 2])
    fig = plot_confusion_matrix(labels, preds, ["a", "b", "c"])
    ax = fig.axes[0]
    assert isinstance(fig, Figure) and labelled(ax)
    assert ax.get_xlabel() == "predicted class" and ax.get_ylabel() == "true class"
    shown = ax.images[0].get_array()
    cm = confusion_matrix(labels, preds)
    np.testing.assert_allclose(shown, cm / cm.sum(axis=1, keepdims=True))  # rows sum to 1: recall on the diagonal
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    counts = plot_confusion_matrix(labels, preds, ["a", "b", "c"], normalize=None, title="Counts").axes[0]
    assert counts.get_title() == "Counts" and np.array_equal(counts.images[0].get_array(), cm)
    with pytest.raises(ValueError, match="normalize"):
        plot_confusion_matrix(labels, preds, ["a", "b", "c"], normalize="rows")
    with pytest.raises(ValueError, match="as many predictions as labels"):
        plot_confusion_matrix(labels, preds[:3], ["a", "b", "c"])


def test_roc_pr_has_one_curve_per_model_with_auc_and_ap():
    labels, score = binary()
    other = np.random.default_rng(1).random(len(labels))
    fig = plot_roc_pr(labels, {"model": score, "random": other})
    ax_roc, ax_pr = fig.axes
    assert labelled(ax_roc) and labelled(ax_pr) and fig._suptitle.get_text()
    roc_text = " ".join(t.get_text() for t in ax_roc.get_legend().get_texts())
    pr_text = " ".join(t.get_text() for t in ax_pr.get_legend().get_texts())
    assert f"{roc_auc_score(labels, score):.2f}" in roc_text
    assert f"{average_precision_score(labels, score):.2f}" in pr_text
    assert "random" in roc_text and "random" in pr_text
    with pytest.raises(ValueError, match="at least one model"):
        plot_roc_pr(labels, {})
    with pytest.raises(ValueError, match="shape"):
        plot_roc_pr(labels, {"short": score[:5]})


def test_reliability_lines_and_ece_in_legend():
    labels, score = binary()
    probs = np.column_stack([1 - score, score])
    softer = np.column_stack([1 - (0.5 + (score - 0.5) / 2), 0.5 + (score - 0.5) / 2])
    fig = plot_reliability({"before": (probs, labels), "after": (softer, labels)}, n_bins=10)
    ax = fig.axes[0]
    assert labelled(ax)
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0] == "perfect calibration"
    assert legend[1] == f"before (ECE {expected_calibration_error(probs, labels):.3f})"
    assert len(ax.lines) == 3  # the diagonal and one line per model
    with pytest.raises(ValueError, match="at least one"):
        plot_reliability({})


def test_spread_points_and_references():
    fig = plot_spread(
        {"fine-tuned": [0.80, 0.82, 0.79], "other": [0.7, 0.71, 0.69]}, references={"baseline": 0.75}, title="Seeds"
    )
    ax = fig.axes[0]
    assert labelled(ax) and ax.get_title() == "Seeds"
    legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    assert "mean 0.803" in legend and "baseline: 0.750" in legend
    points = np.concatenate([c.get_offsets()[:, 1] for c in ax.collections])
    assert sorted(points.tolist()) == sorted([0.80, 0.82, 0.79, 0.7, 0.71, 0.69])
    with pytest.raises(ValueError, match="at least one score"):
        plot_spread({"empty": []})
