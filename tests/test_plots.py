"""The book's figure functions: titled, labelled, the right number of bars and lines, no plt.show()."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from helpers.plots import (  # noqa: E402
    plot_baseline_scores,
    plot_class_balance,
    plot_length_distribution,
    plot_top_features,
    text_lengths,
)

NAMES = ["business", "sport", "tech"]


def make_split(n: int, seed: int) -> Dataset:
    rng = np.random.default_rng(seed)
    features = Features({"text": Value("string"), "label": ClassLabel(names=NAMES)})
    texts = [" ".join(["word"] * int(k)) for k in rng.integers(1, 60, size=n)]
    return Dataset.from_dict({"text": texts, "label": (np.arange(n) % 3).tolist()}, features=features)


@pytest.fixture(scope="module")
def dsd() -> DatasetDict:
    return DatasetDict({"train": make_split(90, 0), "validation": make_split(30, 1), "test": make_split(30, 2)})


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_class_balance_bars(dsd):
    fig = plot_class_balance(dsd)
    ax = fig.axes[0]
    assert isinstance(fig, Figure)
    assert ax.get_title() == "Class balance per split"
    assert ax.get_xlabel() == "class" and "%" in ax.get_ylabel()
    assert len(ax.patches) == 3 * 3  # 3 classes x 3 splits
    assert [t.get_text() for t in ax.get_xticklabels()] == NAMES
    assert np.allclose([p.get_height() for p in ax.patches], 100 / 3)  # labels cycle, so every class is a third
    counts = plot_class_balance(dsd, normalize=False, title="Counts").axes[0]
    assert counts.get_title() == "Counts" and "count" in counts.get_ylabel()
    assert sorted(p.get_height() for p in counts.patches)[-1] == 30  # 90 train texts / 3 classes


def test_text_lengths_words_and_tokens(tokenizer):
    assert text_lengths(["a b c", "one", ""]).tolist() == [3, 1, 0]
    tokens = text_lengths(["hello world"], tokenizer)
    assert tokens.tolist() == [4]  # [CLS] hello world [SEP]


def test_length_distribution_by_split_with_percentiles(dsd):
    fig = plot_length_distribution(dsd, percentiles=(50, 95))
    ax = fig.axes[0]
    assert ax.get_title() == "Text length in words"
    assert ax.get_xlabel() == "length (words)" and "%" in ax.get_ylabel()
    assert len(ax.patches) == 3  # one step outline per split
    assert len(ax.lines) == 2  # one vertical line per percentile
    all_words = np.concatenate([text_lengths(dsd[s]["text"]) for s in dsd])
    assert ax.lines[0].get_xdata()[0] == pytest.approx(np.percentile(all_words, 50))
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any(t.startswith("train (n=90)") for t in legend) and any(t.startswith("p95") for t in legend)


def test_length_distribution_by_class_in_tokens_with_a_limit(dsd, tokenizer):
    fig = plot_length_distribution(
        dsd["train"], tokenizer, by="class", percentiles=(50,), max_tokens=32, title="Tokens per class"
    )
    ax = fig.axes[0]
    assert ax.get_title() == "Tokens per class"
    assert "WordPiece tokens" in ax.get_xlabel()
    assert len(ax.patches) == len(NAMES) and len(ax.lines) == 2  # the median and the 32-token limit
    assert any("limit 32" in t.get_text() for t in ax.get_legend().get_texts())


def test_length_distribution_of_plain_texts_and_errors(dsd):
    fig, ax = plt.subplots()
    out = plot_length_distribution(["a b", "a b c d"] * 5, ax=ax, percentiles=())
    assert out is fig and len(ax.patches) == 1 and len(ax.lines) == 0
    with pytest.raises(ValueError, match="labelled data"):
        plot_length_distribution(["a b"], by="class")
    with pytest.raises(ValueError, match="by must be"):
        plot_length_distribution(dsd, by="colour")
    with pytest.raises(ValueError, match="no texts"):
        plot_length_distribution([])


def results_table() -> pd.DataFrame:
    rows = [
        ("sentiment", "majority class", 0.5),
        ("sentiment", "TF-IDF + LR", 0.77),
        ("topics", "majority class", 0.24),
        ("topics", "TF-IDF + LR", 0.97),
        ("topics", "TF-IDF + SVM", 0.98),
    ]
    return pd.DataFrame(rows, columns=["dataset", "model", "test_accuracy"])


def test_baseline_scores_bars():
    fig = plot_baseline_scores(results_table())
    ax = fig.axes[0]
    assert ax.get_title() == "Baselines: test accuracy"
    assert "test accuracy" in ax.get_xlabel() and ax.get_ylabel() == "model"
    assert [p.get_width() for p in ax.patches] == [0.5, 0.77, 0.24, 0.97, 0.98]
    assert [t.get_text() for t in ax.texts] == ["0.500", "0.770", "0.240", "0.970", "0.980"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["sentiment", "topics"]
    with pytest.raises(ValueError, match="No column 'recall'"):
        plot_baseline_scores(results_table(), "recall")


def test_top_features_panels():
    top = pd.DataFrame(
        {
            "label": ["neg"] * 3 + ["pos"] * 3,
            "rank": [1, 2, 3] * 2,
            "feature": ["bad", "dull", "worst", "good", "fun", "best"],
            "weight": [3.0, 2.0, 1.0, 2.5, 1.5, 0.5],
        }
    )
    fig = plot_top_features(top, title="What the model learned")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert fig.get_suptitle() == "What the model learned"
    assert [ax.get_title() for ax in visible] == ["class: neg", "class: pos"]
    assert all(len(ax.patches) == 3 and ax.get_xlabel() for ax in visible)
    assert [t.get_text() for t in visible[1].get_yticklabels()] == ["good", "fun", "best"]
    with pytest.raises(ValueError, match="lacks the columns"):
        plot_top_features(top.drop(columns="weight"))
