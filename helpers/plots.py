"""The book's figures, made in one place so that every chapter's plots look alike and are tested once.

Chapter 1 uses :func:`plot_class_balance`, :func:`plot_length_distribution`, :func:`plot_baseline_scores`
and :func:`plot_top_features`; chapter 4 reuses the length plot in WordPiece tokens to choose
``max_length``. Every function draws with matplotlib only, gives each axes a title, axis labels and
units, and returns the :class:`~matplotlib.figure.Figure` without calling ``plt.show()`` (Jupyter shows
a returned figure; a script can ``fig.savefig(...)``). Pass ``ax=`` to draw into a panel of a larger figure.
"""

from __future__ import annotations

from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

# One qualitative palette (matplotlib's tab10) for classes, splits and models, in this order, everywhere.
COLORS = tuple(plt.get_cmap("tab10").colors)
PERCENTILE_STYLES = ("--", ":", "-.")


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def _tidy(ax: Axes, grid_axis: str = "y") -> None:
    """The book's look: no top/right frame, a light grid behind the data."""
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis=grid_axis, alpha=0.3)
    ax.set_axisbelow(True)


def _label_names(ds) -> list[str]:
    split = ds["train"] if "train" in getattr(ds, "keys", lambda: [])() else ds
    return list(split.features["label"].names)


def plot_class_balance(dsd, *, normalize: bool = True, title: str | None = None, ax: Axes | None = None) -> Figure:
    """Grouped bars: for each class, its share (``normalize=True``, in %) or count of examples in every split.

    ``dsd`` is a DatasetDict whose ``label`` column is a ClassLabel. Shares make splits of very different
    sizes comparable: equal bar heights across splits mean the split kept the class balance.
    """
    names = _label_names(dsd)
    splits = list(dsd.keys())
    if not splits:
        raise ValueError("The DatasetDict has no splits to plot.")
    fig, ax = _axes(ax, (max(5.0, 1.1 * len(names) + 2.5), 3.6))
    width = 0.8 / len(splits)
    x = np.arange(len(names))
    for i, split in enumerate(splits):
        counts = np.bincount(dsd[split]["label"], minlength=len(names))
        values = 100 * counts / max(counts.sum(), 1) if normalize else counts
        ax.bar(
            x + (i - (len(splits) - 1) / 2) * width,
            values,
            width,
            color=COLORS[i % len(COLORS)],
            label=f"{split} ({counts.sum():,} texts)",
        )
    ax.set_xticks(x, names, rotation=20 if max(len(n) for n in names) > 8 else 0)
    ax.set_xlabel("class")
    ax.set_ylabel("share of the split (%)" if normalize else "examples (count)")
    ax.set_title(title or ("Class balance per split" if normalize else "Examples per class and split"))
    ax.set_ylim(0, ax.get_ylim()[1] * 1.18)  # head room for the legend above the bars
    ax.legend(frameon=False, fontsize="small", loc="upper center", ncols=len(splits))
    _tidy(ax)
    return fig


def text_lengths(texts: Sequence[str], tokenizer=None) -> np.ndarray:
    """Lengths in whitespace-separated words, or in WordPiece tokens including [CLS] and [SEP].

    The same definition as :func:`helpers.data.length_stats`, so the figure and the table agree.
    """
    texts = list(texts)
    if tokenizer is None:
        return np.array([len(t.split()) for t in texts], dtype=int)
    if not texts:
        return np.array([], dtype=int)
    return np.array([len(ids) for ids in tokenizer(texts, truncation=False)["input_ids"]], dtype=int)


def _groups(data, by: str) -> dict[str, list[str]]:
    """Split the texts of a DatasetDict / Dataset / list into named groups (by split, by class, or one group)."""
    if isinstance(data, (list, tuple)):
        if by == "class":
            raise ValueError("by='class' needs labelled data (a Dataset or DatasetDict), not a list of texts.")
        return {"all texts": list(data)}
    is_dict = hasattr(data, "keys") and not hasattr(data, "features")
    if by == "split":
        return {s: list(data[s]["text"]) for s in data} if is_dict else {"all texts": list(data["text"])}
    if by == "class":
        parts = list(data.values()) if is_dict else [data]
        names = _label_names(parts[0])
        out: dict[str, list[str]] = {n: [] for n in names}
        for part in parts:
            for text, label in zip(part["text"], part["label"]):
                out[names[label]].append(text)
        return out
    if by == "none":
        parts = list(data.values()) if is_dict else [data]
        return {"all texts": [t for part in parts for t in part["text"]]}
    raise ValueError(f"by must be 'split', 'class' or 'none', got {by!r}.")


def plot_length_distribution(
    data,
    tokenizer=None,
    *,
    by: str = "split",
    percentiles: Sequence[float] = (50, 95),
    clip: float = 99.0,
    bins: int = 40,
    max_tokens: int | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Histogram of text lengths, one outline per group, with percentile markers for all texts together.

    ``data`` is a DatasetDict, a Dataset or a list of texts. Lengths are words (no tokenizer) or WordPiece
    tokens with [CLS] and [SEP] (a tokenizer from :func:`helpers.load_tokenizer`). ``by`` groups the
    texts by ``"split"``, ``"class"`` or ``"none"``. Each group's bars sum to 100%, so groups of different
    sizes compare. The x axis stops at the ``clip`` percentile (the long tail is counted in a note);
    ``max_tokens`` draws a vertical line at a model's limit, such as BERT's 512.
    """
    groups = {k: v for k, v in _groups(data, by).items() if v}
    if not groups:
        raise ValueError("There are no texts to plot.")
    lengths = {k: text_lengths(v, tokenizer) for k, v in groups.items()}
    pooled = np.concatenate(list(lengths.values()))
    upper = max(float(np.percentile(pooled, clip)), 1.0)
    if max_tokens is not None:
        upper = max(upper, max_tokens * 1.05)
    step = max(1, int(np.ceil(upper / bins)))  # whole numbers per bin: lengths are integers
    edges = np.arange(0, upper + step, step)
    fig, ax = _axes(ax, (6.4, 3.6))
    for i, (name, values) in enumerate(lengths.items()):
        weights = np.full(len(values), 100.0 / len(values))
        ax.hist(
            values,
            bins=edges,
            weights=weights,
            histtype="step",
            linewidth=1.6,
            color=COLORS[i % len(COLORS)],
            label=f"{name} (n={len(values):,})",
        )
    for j, q in enumerate(percentiles):
        value = float(np.percentile(pooled, q))
        ax.axvline(
            value,
            color="black",
            linestyle=PERCENTILE_STYLES[j % len(PERCENTILE_STYLES)],
            linewidth=1.1,
            label=f"p{q:g} of all = {value:,.0f}",
        )
    if max_tokens is not None:
        over = float(np.mean(pooled > max_tokens) * 100)
        ax.axvline(
            max_tokens, color="firebrick", linewidth=1.5, label=f"limit {max_tokens:,} ({over:.1f}% of texts longer)"
        )
    handles, labels = ax.get_legend_handles_labels()
    beyond = int(np.sum(pooled > edges[-1]))
    if beyond:  # said in the legend, where it cannot cover the data
        handles.append(Patch(color="none"))
        labels.append(f"{beyond:,} longer texts (max {pooled.max():,}) not shown")
    unit = "WordPiece tokens, with [CLS] and [SEP]" if tokenizer is not None else "words"
    ax.set_xlim(0, edges[-1])
    ax.set_xlabel(f"length ({unit})")
    ax.set_ylabel("texts in the bin (% of group)")
    ax.set_title(title or f"Text length in {'tokens' if tokenizer is not None else 'words'}")
    ax.set_ylim(0, ax.get_ylim()[1] * (1.1 + 0.07 * len(labels)))  # head room: the legend sits above the data
    ax.legend(handles, labels, frameon=False, fontsize="small", loc="upper right")
    _tidy(ax)
    return fig


def plot_baseline_scores(
    results: pd.DataFrame,
    metric: str = "test_accuracy",
    *,
    group: str | None = "dataset",
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Horizontal bars of one score per model (a table from :func:`helpers.baselines.fit_baselines`).

    With a ``group`` column (e.g. ``dataset``, added when tables of several datasets are concatenated),
    each group gets its own colour. Each bar is labelled with its value; the x axis runs from 0 to 1.
    """
    if metric not in results.columns:
        raise ValueError(f"No column {metric!r} in the results; they have {list(results.columns)}.")
    if results.empty:
        raise ValueError("The results table is empty.")
    frame = results.reset_index()
    label_col = "model" if "model" in frame.columns else frame.columns[0]
    groups = list(dict.fromkeys(frame[group])) if group and group in frame.columns else [None]
    fig, ax = _axes(ax, (7.0, 0.45 * len(frame) + 1.6))
    y, ticks, labels = 0, [], []
    for i, name in enumerate(groups):
        part = frame if name is None else frame[frame[group] == name]
        ys = np.arange(y, y + len(part))
        bars = ax.barh(ys, part[metric], color=COLORS[i % len(COLORS)], label=name)
        ax.bar_label(bars, fmt="%.3f", padding=3, fontsize="small")
        ticks += list(ys)
        labels += list(part[label_col])
        y += len(part) + 1  # a gap between groups
    ax.set_yticks(ticks, labels)
    ax.invert_yaxis()
    ax.set_xlim(0, 1.08)
    pretty = metric.replace("_", " ").replace("macro f1", "macro-F1")
    ax.set_xlabel(f"{pretty} (fraction, 1 = perfect)")
    ax.set_ylabel("model")
    ax.set_title(title or f"Baselines: {pretty}")
    if groups != [None]:
        ax.legend(frameon=False, fontsize="small", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _tidy(ax, grid_axis="x")
    return fig


def plot_top_features(top: pd.DataFrame, *, title: str | None = None, ncols: int | None = None) -> Figure:
    """One panel of horizontal bars per class: the n-grams with the largest weights for that class.

    ``top`` is the long table of :func:`helpers.baselines.top_features` (``label``, ``rank``, ``feature``,
    ``weight``).
    """
    missing = {"label", "rank", "feature", "weight"} - set(top.columns)
    if missing:
        raise ValueError(f"The table lacks the columns {sorted(missing)}; use helpers.baselines.top_features.")
    labels = list(dict.fromkeys(top["label"]))
    if not labels:
        raise ValueError("The table is empty.")
    ncols = ncols or min(len(labels), 3)
    nrows = int(np.ceil(len(labels) / ncols))
    k = int(top.groupby("label").size().max())
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(3.4 * ncols, 0.28 * k * nrows + 1.2 * nrows + 0.4), layout="constrained", squeeze=False
    )
    for i, (label, ax) in enumerate(zip(labels, axes.flat)):
        part = top[top["label"] == label].sort_values("rank")
        ax.barh(np.arange(len(part)), part["weight"], color=COLORS[i % len(COLORS)])
        ax.set_yticks(np.arange(len(part)), part["feature"], fontsize="small")
        ax.invert_yaxis()
        ax.set_title(f"class: {label}")
        ax.set_xlabel("weight towards the class")
        _tidy(ax, grid_axis="x")
    for ax in list(axes.flat)[len(labels) :]:
        ax.set_visible(False)
    fig.suptitle(title or "Most informative n-grams per class")
    return fig


# ----------------------------------------------------------------------------------------------------
# Chapter 5: evaluation figures
# ----------------------------------------------------------------------------------------------------


def plot_confusion_matrix(
    labels,
    preds,
    label_names: Sequence[str],
    *,
    normalize: str | None = "true",
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """The confusion matrix (rows: true class, columns: predicted class) with scikit-learn's display.

    ``normalize="true"`` divides each row by its class's size, so the diagonal is each class's recall and a
    small class is as visible as a large one; ``None`` shows counts.
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    if normalize not in ("true", "pred", "all", None):
        raise ValueError(f"normalize must be 'true', 'pred', 'all' or None, got {normalize!r}.")
    labels, preds = np.asarray(labels), np.asarray(preds)
    if len(labels) != len(preds) or len(labels) == 0:
        raise ValueError(f"Need as many predictions as labels, and at least one: got {len(labels)} and {len(preds)}.")
    k = len(label_names)
    fig, ax = _axes(ax, (0.8 * k + 2.6, 0.8 * k + 2.0))
    ConfusionMatrixDisplay.from_predictions(
        labels,
        preds,
        labels=list(range(k)),
        display_labels=list(label_names),
        normalize=normalize,
        cmap="Blues",
        colorbar=False,
        ax=ax,
        values_format=".2f" if normalize else "d",
        im_kw={"vmin": 0},
    )
    if k > 3:
        ax.tick_params(axis="x", labelrotation=30)
    what = {
        "true": "share of each true class",
        "pred": "share of each predicted class",
        "all": "share of all texts",
        None: "counts",
    }[normalize]
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title(title or f"Confusion matrix ({what})")
    return fig


def plot_roc_pr(labels, scores: dict, *, pos_label: int = 1, title: str | None = None) -> Figure:
    """ROC curve (left, with its AUC) and precision-recall curve (right, with average precision) per model.

    ``scores`` maps a model's name to its score for the positive class on every text (a probability or
    any score that ranks). scikit-learn's ``RocCurveDisplay`` and ``PrecisionRecallDisplay`` draw the curves.
    """
    from sklearn.metrics import PrecisionRecallDisplay, RocCurveDisplay

    if not scores:
        raise ValueError("Give at least one model's scores, e.g. {'fine-tuned': probs[:, 1]}.")
    labels = np.asarray(labels)
    fig, (ax_roc, ax_pr) = plt.subplots(1, 2, figsize=(11, 4.4), layout="constrained")
    for i, (name, s) in enumerate(scores.items()):
        s = np.asarray(s, dtype=float)
        if s.shape != labels.shape:
            raise ValueError(f"Scores of {name!r} have shape {s.shape}, the labels {labels.shape}.")
        last = i == len(scores) - 1  # colours follow matplotlib's cycle (tab10), the book's palette
        RocCurveDisplay.from_predictions(
            labels,
            s,
            pos_label=pos_label,
            name=name,
            ax=ax_roc,
            plot_chance_level=last,
            chance_level_kw={"color": "gray"},
        )
        PrecisionRecallDisplay.from_predictions(
            labels,
            s,
            pos_label=pos_label,
            name=name,
            ax=ax_pr,
            plot_chance_level=last,
            chance_level_kw={"color": "gray"},
        )
    ax_roc.set(
        xlabel="false positive rate (share of negatives called positive)",
        ylabel="true positive rate (recall)",
        title="ROC curve",
    )
    ax_pr.set(
        xlabel="recall (share of positives found)",
        ylabel="precision (share of calls that are right)",
        title="Precision-recall curve",
    )
    for ax in (ax_roc, ax_pr):
        ax.legend(fontsize="small", frameon=False, loc="lower left" if ax is ax_pr else "lower right")
        _tidy(ax, grid_axis="both")
    fig.suptitle(title or "Ranking quality at every threshold")
    return fig


def plot_reliability(curves: dict, *, n_bins: int = 10, title: str | None = None, ax: Axes | None = None) -> Figure:
    """Reliability diagram: accuracy against mean confidence in each confidence bin, one line per model.

    ``curves`` maps a name to ``(probs, labels)`` (probabilities of shape ``(n, classes)``); the legend gives
    each one's expected calibration error. A calibrated model lies on the diagonal; below it, the model is
    over-confident. Marker areas are proportional to how many texts fall in the bin.
    """
    from .evaluate import expected_calibration_error, reliability_bins

    if not curves:
        raise ValueError("Give at least one (probs, labels) pair to plot.")
    fig, ax = _axes(ax, (5.6, 5.0))
    ax.plot([0, 1], [0, 1], color="gray", linestyle="--", linewidth=1, label="perfect calibration")
    lowest = 1.0
    for i, (name, (probs, labels)) in enumerate(curves.items()):
        bins = reliability_bins(probs, labels, n_bins)
        full = bins[bins["count"] > 0]
        ece = expected_calibration_error(probs, labels, n_bins)
        sizes = 400 * full["count"] / full["count"].sum()
        color = COLORS[i % len(COLORS)]
        ax.plot(full["confidence"], full["accuracy"], color=color, linewidth=1.4, label=f"{name} (ECE {ece:.3f})")
        ax.scatter(full["confidence"], full["accuracy"], s=sizes, color=color, alpha=0.6, edgecolor="white")
        lowest = min(lowest, float(full["lower"].min()), float(full["accuracy"].min()))
    low = max(0.0, np.floor(lowest * 10) / 10)
    ax.set_xlim(low, 1.0)
    ax.set_ylim(low, 1.02)
    ax.set_xlabel("mean confidence in the bin (probability of the predicted class)")
    ax.set_ylabel("accuracy in the bin (share right)")
    ax.set_title(title or f"Reliability diagram ({n_bins} bins)")
    ax.legend(frameon=False, fontsize="small", loc="upper left")
    _tidy(ax, grid_axis="both")
    return fig


def plot_spread(
    values: dict,
    *,
    references: dict | None = None,
    ylabel: str = "test accuracy",
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Box and points: the scores of repeated runs (e.g. one per seed) for each model, with reference lines.

    ``values`` maps a model's name to its list of scores; ``references`` maps a name to one score drawn as
    a horizontal dashed line (e.g. a baseline), so the reader sees whether a gap is larger than the spread.
    """
    if not values or any(len(v) == 0 for v in values.values()):
        raise ValueError("Give at least one model with at least one score.")
    fig, ax = _axes(ax, (max(6.0, 1.8 * len(values) + 3.0), 4.4))
    rng = np.random.default_rng(0)
    names = list(values)
    ax.boxplot(
        [np.asarray(values[n], dtype=float) for n in names],
        positions=np.arange(len(names)),
        widths=0.45,
        showfliers=False,
        medianprops={"color": "black"},
    )
    for i, name in enumerate(names):
        v = np.asarray(values[name], dtype=float)
        ax.scatter(
            i + rng.uniform(-0.08, 0.08, len(v)),
            v,
            color=COLORS[i % len(COLORS)],
            zorder=3,
            label=f"{name}: mean {v.mean():.3f}, sd {v.std(ddof=1) if len(v) > 1 else 0.0:.3f}",
        )
    for j, (name, value) in enumerate((references or {}).items()):
        ax.axhline(
            value,
            color="gray",
            linestyle=PERCENTILE_STYLES[j % len(PERCENTILE_STYLES)],
            linewidth=1.2,
            label=f"{name}: {value:.3f}",
        )
    ax.set_xticks(np.arange(len(names)), names)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_xlabel("model")
    ax.set_ylabel(ylabel)
    ax.set_title(title or "Spread over repeated runs")
    ax.legend(frameon=False, fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=1)
    _tidy(ax)
    return fig
