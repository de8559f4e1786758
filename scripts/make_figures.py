"""Draw the book's concept figures (issue 15, §3) with matplotlib, as SVG files in ``book/figures/``.

    .venv/bin/python scripts/make_figures.py              # write every figure into book/figures/
    .venv/bin/python scripts/make_figures.py --out /tmp/f # somewhere else (tests/test_figures.py compares the two)
    .venv/bin/python scripts/make_figures.py cls_head     # one figure only

The figures are code so that they stay editable: change a label or a shape here and rerun. The output is
deterministic (a fixed ``svg.hashsalt``, no date in the metadata, text kept as text), so a rerun with the same
matplotlib writes the same bytes and a test can check that the committed files are what this script draws.

Chapter 2 shows ``embeddings_sum``, ``encoder_layer`` and ``attention_matmul``; chapter 3 ``pretrain_finetune``;
chapter 4 ``cls_head``; chapter 6 ``long_text_cuts``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch, Rectangle  # noqa: E402

OUT = Path(__file__).resolve().parent.parent / "book" / "figures"

# One palette for every figure: a colour per kind of thing.
BLUE, GREEN, ORANGE, PURPLE, GREY, RED = "#dbe8f6", "#dff0d8", "#fde3c8", "#e8def3", "#eeeeee", "#f6d5d5"
EDGE, FAINT = "#333333", "#aaaaaa"


def _style() -> None:
    """Settings that make the SVG bytes depend only on this script (and matplotlib's version)."""
    plt.rcParams.update(
        {
            "svg.hashsalt": "bert-book-figures",
            "svg.fonttype": "none",  # text stays text: smaller, searchable, the same on every machine
            "font.family": "DejaVu Sans",
            "font.size": 10,
            "path.simplify": True,
        }
    )


def _canvas(width: float, height: float) -> tuple[plt.Figure, plt.Axes]:
    """A blank figure whose data coordinates are inches, so boxes can be placed by hand."""
    fig = plt.figure(figsize=(width, height))
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    return fig, ax


def _box(
    ax: plt.Axes,
    x: float,
    y: float,
    w: float,
    h: float,
    text: str = "",
    color: str = BLUE,
    edge: str = EDGE,
    size: float = 10,
    style: str = "-",
    weight: str = "normal",
    text_color: str = "black",
    round_: bool = True,
) -> None:
    """A box with its lower-left corner at (x, y) and centred text."""
    shape = "round,pad=0.02,rounding_size=0.08" if round_ else "square,pad=0"
    ax.add_patch(
        FancyBboxPatch((x, y), w, h, boxstyle=shape, facecolor=color, edgecolor=edge, linewidth=1.2, linestyle=style)
    )
    if text:
        ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=size, weight=weight, color=text_color)


def _arrow(
    ax: plt.Axes,
    start: tuple[float, float],
    end: tuple[float, float],
    color: str = EDGE,
    style: str = "-",
    curve: float = 0.0,
) -> None:
    """An arrow from start to end (a curved one when curve is not zero)."""
    ax.add_patch(
        FancyArrowPatch(
            start,
            end,
            arrowstyle="-|>",
            mutation_scale=12,
            color=color,
            linewidth=1.2,
            linestyle=style,
            connectionstyle=f"arc3,rad={curve}",
            shrinkA=2,
            shrinkB=2,
        )
    )


def _matrix(
    ax: plt.Axes,
    x: float,
    y: float,
    rows: float,
    cols: float,
    name: str,
    shape: str,
    color: str = BLUE,
    grid: tuple[int, int] | None = None,
) -> None:
    """A matrix drawn as a rectangle (lower-left at x, y; rows tall, cols wide) with its name and shape."""
    ax.add_patch(Rectangle((x, y), cols, rows, facecolor=color, edgecolor=EDGE, linewidth=1.2))
    if grid:
        n_rows, n_cols = grid
        for i in range(1, n_rows):
            ax.plot([x, x + cols], [y + rows * i / n_rows] * 2, color=FAINT, linewidth=0.6)
        for j in range(1, n_cols):
            ax.plot([x + cols * j / n_cols] * 2, [y, y + rows], color=FAINT, linewidth=0.6)
    ax.text(x + cols / 2, y + rows / 2, name, ha="center", va="center", fontsize=13, weight="bold")
    ax.text(x + cols / 2, y - 0.18, shape, ha="center", va="top", fontsize=9, family="DejaVu Sans Mono")


def embeddings_sum() -> plt.Figure:
    """Token + segment + position embeddings, summed row by row, then LayerNorm and dropout."""
    tokens = ["[CLS]", "the", "film", "was", "great", "[SEP]", "loved", "it", "[SEP]"]
    segments = ["A"] * 6 + ["B"] * 3
    fig, ax = _canvas(12.2, 5.0)
    x0, step, w = 1.9, 0.9, 0.8
    ax.text(0.15, 4.5, "input", ha="left", va="center", fontsize=10, weight="bold")
    for i, tok in enumerate(tokens):
        _box(ax, x0 + i * step, 4.3, w, 0.4, tok, GREY, size=9)
    rows = [
        ("token", [f"E[{t}]" for t in tokens], BLUE, "table: 30,522 × d"),
        ("segment", [f"E_{s}" for s in segments], GREEN, "table: 2 × d"),
        ("position", [f"P_{i}" for i in range(len(tokens))], ORANGE, "table: 512 × d (learned)"),
    ]
    for r, (name, cells, color, table) in enumerate(rows):
        y = 3.3 - r * 0.9
        ax.text(0.15, y + 0.2, f"{name}\nembeddings", ha="left", va="center", fontsize=9)
        for i, cell in enumerate(cells):
            _box(ax, x0 + i * step, y, w, 0.4, cell, color, size=8)
        ax.text(
            x0 + len(tokens) * step + 0.05,
            y + 0.2,
            f"n × d\n{table}",
            ha="left",
            va="center",
            fontsize=8,
            family="DejaVu Sans Mono",
        )
        if r:
            ax.text(x0 - 0.22, y + 0.65, "+", ha="center", va="center", fontsize=16, weight="bold")
    for i in range(len(tokens)):
        _arrow(ax, (x0 + i * step + w / 2, 4.3), (x0 + i * step + w / 2, 3.72), color=FAINT)
    y_sum = 0.75
    ax.text(x0 - 0.22, y_sum + 0.65, "=", ha="center", va="center", fontsize=16, weight="bold")
    _box(
        ax,
        x0,
        y_sum,
        len(tokens) * step - (step - w),
        0.42,
        "sum  →  LayerNorm  →  dropout",
        PURPLE,
        size=10,
        weight="bold",
    )
    ax.text(
        x0 + len(tokens) * step + 0.05,
        y_sum + 0.2,
        "n × d\ninput to layer 1",
        ha="left",
        va="center",
        fontsize=8,
        family="DejaVu Sans Mono",
    )
    ax.text(
        0.15,
        0.25,
        "n = number of tokens (here 9), d = hidden size (768 in BERT-base). "
        "Each row is looked up in its table; the three rows of a column are added.",
        fontsize=8.5,
        ha="left",
        va="center",
        color="#444444",
    )
    return fig


def encoder_layer() -> plt.Figure:
    """One post-LN encoder layer: attention, add & LayerNorm, feed-forward, add & LayerNorm, with shapes."""
    fig, ax = _canvas(7.0, 7.6)
    cx, w = 2.6, 3.0
    blocks = [
        (0.3, "input  X", GREY, "n × d"),
        (1.4, "multi-head self-attention\n(h heads of size d/h)", BLUE, "n × d"),
        (2.6, "add: X + Attn(X)", GREEN, "n × d"),
        (3.4, "LayerNorm", PURPLE, "n × d  →  H"),
        (4.5, "feed-forward\nd → 4d (GELU) → d", ORANGE, "n × 4d inside, n × d out"),
        (5.7, "add: H + FFN(H)", GREEN, "n × d"),
        (6.5, "LayerNorm", PURPLE, "n × d  → next layer"),
    ]
    for y, text, color, shape in blocks:
        h = 0.75 if "\n" in text else 0.5
        _box(ax, cx - w / 2, y, w, h, text, color, size=9.5)
        ax.text(cx + w / 2 + 0.15, y + h / 2, shape, ha="left", va="center", fontsize=8.5, family="DejaVu Sans Mono")
    tops = [0.8, 2.15, 3.1, 3.9, 5.25, 6.2]
    bottoms = [1.4, 2.6, 3.4, 4.5, 5.7, 6.5]
    for top, bottom in zip(tops, bottoms, strict=True):
        _arrow(ax, (cx, top), (cx, bottom))
    # The residual branches: from the block's input around to the add.
    left = cx - w / 2 - 0.45
    for start, end in [(1.1, 2.85), (4.25, 5.95)]:
        ax.plot([cx, left, left], [start, start, end], color=EDGE, linewidth=1.2)
        _arrow(ax, (left, end), (cx - w / 2, end))
    ax.text(left - 0.1, 2.0, "residual", rotation=90, ha="right", va="center", fontsize=8.5)
    ax.text(left - 0.1, 5.1, "residual", rotation=90, ha="right", va="center", fontsize=8.5)
    ax.text(
        0.15,
        7.35,
        "Post-LN (BERT): every sum passes through a LayerNorm,\nso no path from input to output is a pure identity.",
        ha="left",
        va="center",
        fontsize=8.5,
        color="#444444",
    )
    return fig


def attention_matmul() -> plt.Figure:
    """Scaled dot-product attention as three matrix products with their shapes."""
    fig, ax = _canvas(11.8, 3.6)
    n, dk, s = 4, 2, 0.42  # a drawing of n = 4 tokens and d_k = 2 columns; s inches per cell
    y = 1.0
    _matrix(ax, 0.3, y, n * s, dk * s, "Q", "n × d_k", BLUE, (n, dk))
    ax.text(1.35, y + n * s / 2, "×", fontsize=16, ha="center", va="center")
    _matrix(ax, 1.6, y + (n - dk) * s / 2, dk * s, n * s, "Kᵀ", "d_k × n", GREEN, (dk, n))
    ax.text(3.7, y + n * s / 2, "/ √d_k  =", fontsize=12, ha="center", va="center")
    _matrix(ax, 4.5, y, n * s, n * s, "S", "n × n scores", ORANGE, (n, n))
    _arrow(ax, (6.3, y + n * s / 2), (6.9, y + n * s / 2))
    ax.text(6.6, y + n * s / 2 + 0.3, "softmax\nper row", ha="center", va="bottom", fontsize=8.5)
    _matrix(ax, 7.0, y, n * s, n * s, "A", "n × n weights", PURPLE, (n, n))
    ax.text(8.9, y + n * s / 2, "×", fontsize=16, ha="center", va="center")
    _matrix(ax, 9.15, y, n * s, dk * s, "V", "n × d_v", BLUE, (n, dk))
    ax.text(10.25, y + n * s / 2, "=", fontsize=16, ha="center", va="center")
    _matrix(ax, 10.5, y, n * s, dk * s, "O", "n × d_v", GREY, (n, dk))
    ax.text(
        0.3,
        3.3,
        "Row i of S holds token i's query against every key; each row of A sums to 1; row i of O is "
        "the A-weighted average of the rows of V.",
        fontsize=9,
        ha="left",
        va="center",
        color="#444444",
    )
    return fig


def pretrain_finetune() -> plt.Figure:
    """Pretraining on unlabelled text (MLM + NSP), then fine-tuning the same weights on labelled data."""
    fig, ax = _canvas(11.0, 3.8)
    ax.add_patch(Rectangle((0.15, 0.35), 5.1, 3.05, facecolor="#f7fbff", edgecolor=FAINT, linestyle="--"))
    ax.add_patch(Rectangle((5.75, 0.35), 5.1, 3.05, facecolor="#fbfff7", edgecolor=FAINT, linestyle="--"))
    ax.text(2.7, 3.2, "1. pretraining (once, expensive)", ha="center", fontsize=10.5, weight="bold")
    ax.text(8.3, 3.2, "2. fine-tuning (per task, cheap)", ha="center", fontsize=10.5, weight="bold")
    _box(ax, 0.35, 1.9, 1.6, 0.9, "unlabelled text\n(books,\nWikipedia)", GREY, size=9)
    _box(ax, 2.35, 1.9, 2.7, 0.9, "BERT encoder\ntrained on MLM + NSP", BLUE, size=9.5)
    _box(ax, 2.35, 0.6, 2.7, 0.8, "MLM: guess masked tokens\nNSP: is B the next sentence?", ORANGE, size=8.5)
    _arrow(ax, (1.95, 2.35), (2.35, 2.35))
    _arrow(ax, (3.7, 1.9), (3.7, 1.4))
    _box(ax, 5.35, 1.95, 0.9, 0.8, "pretrained\nweights", PURPLE, size=8.5)
    _arrow(ax, (5.05, 2.35), (5.35, 2.35))
    _box(ax, 5.95, 0.6, 1.6, 0.9, "labelled data\n(text, label)", GREY, size=9)
    _box(ax, 6.65, 1.9, 2.4, 0.9, "same encoder\n+ new classification head", BLUE, size=9)
    _arrow(ax, (6.25, 2.35), (6.65, 2.35))
    _arrow(ax, (6.75, 1.5), (7.3, 1.9))
    _box(ax, 9.45, 1.9, 1.3, 0.9, "classifier\nfor the task", GREEN, size=9)
    _arrow(ax, (9.05, 2.35), (9.45, 2.35))
    ax.text(
        8.3,
        0.95,
        "all weights updated,\nsmall learning rate, few epochs",
        ha="left",
        fontsize=8.5,
        va="center",
        color="#444444",
    )
    return fig


def cls_head() -> plt.Figure:
    """[CLS] vector → pooler (dense + tanh) → dropout → a new linear head; the NSP head that is dropped, greyed."""
    fig, ax = _canvas(10.0, 3.6)
    y, h = 1.5, 0.8
    _box(ax, 0.2, y, 1.5, h, "last layer's\n[CLS] vector", GREY, size=9)
    _box(ax, 2.1, y, 1.7, h, "pooler\ndense d×d + tanh", PURPLE, size=9)
    _box(ax, 4.2, y, 1.3, h, "dropout", GREY, size=9)
    _box(ax, 5.9, y, 1.8, h, "new linear head\nd × k (random init)", GREEN, size=9, weight="bold")
    _box(ax, 8.1, y, 1.6, h, "k logits\n→ softmax", ORANGE, size=9)
    for a, b in [(1.7, 2.1), (3.8, 4.2), (5.5, 5.9), (7.7, 8.1)]:
        _arrow(ax, (a, y + h / 2), (b, y + h / 2))
    for x, label in [(0.95, "d"), (2.95, "d"), (4.85, "d"), (6.8, "k"), (8.9, "k")]:
        ax.text(x, y - 0.12, label, ha="center", va="top", fontsize=8.5, family="DejaVu Sans Mono")
    # The pretraining head, dropped at fine-tuning time.
    _box(
        ax,
        4.2,
        2.75,
        2.6,
        0.6,
        "NSP head d × 2 (pretraining)",
        "#f8f8f8",
        edge=FAINT,
        size=8.5,
        style="--",
        text_color=FAINT,
    )
    _arrow(ax, (3.5, y + h), (4.2, 3.05), color=FAINT, style="--")
    ax.plot([4.3, 6.7], [2.8, 3.3], color="#c0392b", linewidth=1.2)
    ax.text(7.0, 3.05, "dropped when fine-tuning starts", ha="left", va="center", fontsize=8.5, color="#c0392b")
    ax.text(
        0.2,
        0.55,
        "Kept from the checkpoint: encoder and pooler.  Added: dropout and the d × k head.  k = number of classes.",
        ha="left",
        va="center",
        fontsize=8.5,
        color="#444444",
    )
    return fig


def long_text_cuts() -> plt.Figure:
    """A long text cut to fit 510 tokens: head, tail, head + tail, and sliding windows with a stride."""
    total, keep, stride = 1275, 510, 255
    fig, ax = _canvas(10.5, 4.4)
    x0, scale = 1.9, 8.2 / total  # inches per token

    def span(row_y: float, start: int, stop: int, color: str, label: str = "") -> None:
        ax.add_patch(
            Rectangle(
                (x0 + start * scale, row_y),
                (stop - start) * scale,
                0.36,
                facecolor=color,
                edgecolor=EDGE,
                linewidth=1.0,
            )
        )
        if label:
            ax.text(x0 + (start + stop) / 2 * scale, row_y + 0.18, label, ha="center", va="center", fontsize=8)

    rows = [("whole text", 3.7), ("head", 3.05), ("tail", 2.4), ("head + tail", 1.75), ("sliding\nwindows", 0.6)]
    for name, row_y in rows:
        ax.text(0.2, row_y + 0.18 + (0.35 if "windows" in name else 0), name, ha="left", va="center", fontsize=9.5)
    span(3.7, 0, total, GREY, f"{total:,} tokens")
    span(3.05, 0, keep, BLUE, f"first {keep}")
    span(2.4, total - keep, total, GREEN, f"last {keep}")
    span(1.75, 0, 128, BLUE, "128")
    span(1.75, total - (keep - 128), total, GREEN, f"last {keep - 128}")
    starts = list(range(0, total - keep + 1, stride))
    for i, start in enumerate(starts):
        span(0.35 + (i % 2) * 0.5, start, start + keep, [ORANGE, PURPLE][i % 2], f"window {i + 1}")
    ax.annotate(
        "",
        xy=(x0 + stride * scale, 1.35),
        xytext=(x0, 1.35),
        arrowprops={"arrowstyle": "<->", "color": EDGE, "linewidth": 1.0},
    )
    ax.text(x0 + stride / 2 * scale, 1.42, f"stride {stride}", ha="center", va="bottom", fontsize=8)
    ax.text(
        0.2,
        0.1,
        f"Each piece holds at most {keep} tokens, plus [CLS] and [SEP] = 512. Windows are classified "
        "one by one and their predictions pooled.",
        ha="left",
        va="center",
        fontsize=8.5,
        color="#444444",
    )
    return fig


FIGURES: dict[str, Callable[[], plt.Figure]] = {
    "embeddings_sum": embeddings_sum,
    "encoder_layer": encoder_layer,
    "attention_matmul": attention_matmul,
    "pretrain_finetune": pretrain_finetune,
    "cls_head": cls_head,
    "long_text_cuts": long_text_cuts,
}


def write(out: Path = OUT, names: list[str] | None = None) -> list[Path]:
    """Draw the named figures (all by default) into ``out`` as ``<name>.svg``; return the paths written."""
    unknown = sorted(set(names or []) - set(FIGURES))
    if unknown:
        raise SystemExit(f"unknown figure(s) {unknown}; choose from {sorted(FIGURES)}")
    _style()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names or list(FIGURES):
        fig = FIGURES[name]()
        path = out / f"{name}.svg"
        fig.savefig(path, format="svg", metadata={"Date": None, "Creator": "scripts/make_figures.py"})
        plt.close(fig)
        written.append(path)
    return written


def main() -> None:
    """Command line: which figures, and where to write them."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help=f"figures to draw (default: all of {', '.join(FIGURES)})")
    parser.add_argument("--out", type=Path, default=OUT, help="folder for the SVG files (default: book/figures)")
    args = parser.parse_args()
    for path in write(args.out, args.names):
        print(path)


if __name__ == "__main__":
    main()
