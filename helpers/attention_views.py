"""Chapter 2: attention you can see, for the encoder whose maths is in :mod:`helpers.attention`.

* :func:`get_attentions` - the attention weights of a real model for one text (switches an SDPA model to eager
  attention for the call, because with SDPA transformers 5 returns an empty tuple), with clear errors;
* :func:`plot_attention_heatmap`, :func:`plot_attention_grid` - static matplotlib figures (PDF, GitHub, the site);
* :func:`head_view`, :func:`model_view` - bertviz's views, made to work with no internet access (the JavaScript
  libraries are inlined from ``helpers/static/vendor``), inside a scrolling box, limited for long inputs;
* :func:`attention_explorer` - an ipywidgets sentence box with layer and head sliders;
* :func:`pattern_scores` - how much each head attends to [CLS], [SEP], the previous / next token, itself, the same word.

The notebooks reach all of these as ``helpers.attention.<name>`` too (``import helpers.attention as attn``):
:mod:`helpers.attention` re-exports them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch
from torch import Tensor

VENDOR_DIR = Path(__file__).resolve().parent / "static" / "vendor"
VENDOR_FILES = {"d3": "d3.min.js", "jquery": "jquery.min.js"}

# ----------------------------------------------------------------------------------------------------
# 1. Attention from a real model
# ----------------------------------------------------------------------------------------------------


@dataclass
class Attentions:
    """The attention of one text: ``weights`` is ``(layers, heads, n, n)``, rows sum to 1; ``tokens`` has n entries."""

    tokens: list[str]
    weights: Tensor
    input_ids: Tensor

    @property
    def shape(self) -> tuple[int, int, int, int]:
        return tuple(self.weights.shape)


def attention_implementation(model) -> str:
    """The attention kernel a transformers model runs with: ``eager``, ``sdpa``, ``flash_attention_2``..."""
    return getattr(model.config, "_attn_implementation", None) or "eager"


def _model_max_tokens(model, tokenizer) -> int:
    limits = [getattr(model.config, "max_position_embeddings", None), getattr(tokenizer, "model_max_length", None)]
    return (
        min(x for x in limits if isinstance(x, int) and 0 < x < 1_000_000)
        if any(isinstance(x, int) and 0 < x < 1_000_000 for x in limits)
        else 512
    )


def encode_one(tokenizer, text: str, text_pair: str | None = None, model=None) -> dict[str, Tensor]:
    """Tokenise one text (or a pair) with clear errors for empty and too-long input; no truncation."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a string, got {type(text).__name__}.")
    if not text.strip():
        raise ValueError("text is empty: give a sentence to look at.")
    enc = tokenizer(text, text_pair, return_tensors="pt", truncation=False)
    n = enc["input_ids"].size(1)
    limit = _model_max_tokens(model, tokenizer) if model is not None else getattr(tokenizer, "model_max_length", 512)
    if n > limit:
        raise ValueError(
            f"The text is {n} tokens long with [CLS] and [SEP]; the model reads at most {limit}. "
            "Shorten it (attention views are most readable under about 40 tokens)."
        )
    return enc


@torch.no_grad()
def get_attentions(model, tokenizer, text: str, text_pair: str | None = None) -> Attentions:
    """The attention weights of every layer and head of ``model`` for one text, as :class:`Attentions`.

    With transformers 5 a model loaded with ``attn_implementation="sdpa"`` (the default) returns an *empty* tuple
    for ``output_attentions=True``; the fused SDPA kernel never forms the weights. This function switches such a
    model to ``eager`` for the call and back afterwards (the two agree to about 1e-5), and raises a clear error if
    no weights come back.
    """
    enc = encode_one(tokenizer, text, text_pair, model)
    device = next(model.parameters()).device
    enc = {k: v.to(device) for k, v in enc.items()}
    before = attention_implementation(model)
    was_training = model.training
    model.eval()
    try:
        if before != "eager":
            if not hasattr(model, "set_attn_implementation"):
                raise RuntimeError(
                    f"The model runs {before!r} attention, which does not return attention weights, and "
                    "this transformers version cannot switch it. Reload it with "
                    "helpers.load_model(..., attn_implementation='eager')."
                )
            model.set_attn_implementation("eager")
        out = model(**enc, output_attentions=True)
    finally:
        if before != "eager" and hasattr(model, "set_attn_implementation"):
            model.set_attn_implementation(before)
        model.train(was_training)
    attentions = getattr(out, "attentions", None)
    if not attentions:
        raise RuntimeError(
            "The model returned no attention weights (an empty tuple). With transformers 5 this means it "
            "ran a fused kernel (SDPA or flash attention): load it with "
            "helpers.load_model(..., attn_implementation='eager')."
        )
    weights = torch.stack([a[0] for a in attentions]).float().cpu()  # (layers, heads, n, n)
    tokens = tokenizer.convert_ids_to_tokens(enc["input_ids"][0].tolist())
    return Attentions(tokens=tokens, weights=weights, input_ids=enc["input_ids"][0].cpu())


def plot_attention_heatmap(
    att: Attentions,
    layer: int,
    head: int,
    *,
    ax=None,
    title: str | None = None,
    colorbar: bool = True,
    annotate_tokens: bool = True,
):
    """A static heatmap of one head: rows are the tokens that look (queries), columns the tokens looked at (keys).

    Returns the figure. ``layer`` and ``head`` count from 0, as in bertviz.
    """
    import matplotlib.pyplot as plt

    n_layers, n_heads, n, _ = att.weights.shape
    if not 0 <= layer < n_layers or not 0 <= head < n_heads:
        raise ValueError(f"layer must be in 0..{n_layers - 1} and head in 0..{n_heads - 1}, got {layer}, {head}.")
    if ax is None:
        side = min(9.0, 2.0 + 0.28 * n)
        fig, ax = plt.subplots(figsize=(side + (1.0 if colorbar else 0), side), layout="constrained")
    else:
        fig = ax.figure
    image = ax.imshow(att.weights[layer, head].numpy(), cmap="Blues", vmin=0.0, vmax=1.0, aspect="equal")
    if annotate_tokens:
        ax.set_xticks(range(n), att.tokens, rotation=90, fontsize=8)
        ax.set_yticks(range(n), att.tokens, fontsize=8)
    else:
        ax.set_xticks([])
        ax.set_yticks([])
    ax.set_xlabel("attended-to token (key)")
    ax.set_ylabel("attending token (query)")
    ax.set_title(title or f"Attention weights, layer {layer}, head {head}")
    if colorbar:
        fig.colorbar(image, ax=ax, shrink=0.8, label="attention weight")
    return fig


def plot_attention_grid(
    att: Attentions,
    layers: Sequence[int] | None = None,
    heads: Sequence[int] | None = None,
    *,
    title: str | None = None,
    cell: float = 1.15,
):
    """Small heatmaps of many heads at once (rows: layers, columns: heads): the static twin of :func:`model_view`."""
    import matplotlib.pyplot as plt

    n_layers, n_heads = att.weights.shape[:2]
    layers = list(range(n_layers)) if layers is None else list(layers)
    heads = list(range(n_heads)) if heads is None else list(heads)
    fig, axes = plt.subplots(
        len(layers),
        len(heads),
        figsize=(cell * len(heads) + 0.6, cell * len(layers) + 0.8),
        squeeze=False,
        layout="constrained",
    )
    for r, layer in enumerate(layers):
        for c, head in enumerate(heads):
            ax = axes[r][c]
            ax.imshow(att.weights[layer, head].numpy(), cmap="Blues", vmin=0.0, vmax=1.0)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(f"head {head}", fontsize=8)
            if c == 0:
                ax.set_ylabel(f"layer {layer}", fontsize=8)
    fig.suptitle(title or f"Attention of every head ({len(att.tokens)} tokens; rows = queries, columns = keys)")
    return fig


# ----------------------------------------------------------------------------------------------------
# 2. bertviz, offline and inside the page
# ----------------------------------------------------------------------------------------------------

_REQUIRE_CONFIG = re.compile(r"require\.config\(\s*\{.*?\}\s*\)\s*;", re.S)
_CDN_SCRIPT = re.compile(r"<script[^>]*src=\"https?://[^\"]*\"[^>]*>\s*</script>", re.S)


def _vendor_source(name: str) -> str:
    path = VENDOR_DIR / VENDOR_FILES[name]
    if not path.exists():
        raise FileNotFoundError(
            f"{path} is missing: the bertviz views need the vendored JavaScript files in helpers/static/vendor "
            "(reinstall the helpers package; its package data must include helpers/static)."
        )
    return path.read_text(encoding="utf-8")


def offline_bertviz_html(bertviz_html: str, *, max_height: int | None = None) -> str:
    """Rewrite bertviz's HTML so that it needs no network: no require.js, d3 and jQuery inlined from the package.

    bertviz 1.4 emits ``<script src=".../require.js">``, its ``<div>``, and a script that configures require.js to
    fetch d3 5.7.0 and jQuery 2.0.0 from cdnjs, then calls ``requirejs(['jquery', 'd3'], function ($, d3) {...})``.
    Here the CDN script tag and the ``require.config`` call are removed, d3 and jQuery (vendored copies) are
    evaluated in a private scope (their CommonJS branch, so they touch no page globals and do not clash with a
    require.js already on the page, as in classic Jupyter), and bertviz's ``requirejs`` call is answered by a
    five-line stand-in that hands it those two libraries. Everything is inside one ``<div>`` that scrolls
    horizontally (and vertically beyond ``max_height`` pixels) instead of overflowing the page's column.
    The result works in the built website, Jupyter, JupyterLab, VS Code and Colab, online or not.
    """
    body = _CDN_SCRIPT.sub("", bertviz_html)
    body, n_config = _REQUIRE_CONFIG.subn("", body)
    if n_config != 1 or "requirejs(" not in body:
        raise RuntimeError(
            "bertviz's output is not in the expected form (one require.config call, then requirejs); "
            "this helper was written for bertviz 1.4."
        )
    loader = "\n".join(
        f"if (!V.{name}) {{ (function (module, exports, define) {{\n{_vendor_source(name)}\n"
        f"}}).call(window, M = {{exports: {{}}}}, M.exports, undefined); V.{name} = M.exports; }}"
        for name in ("d3", "jquery")
    )
    shim = (
        '<script type="text/javascript">\n(function () {\n'
        "var V = window.__bertbookVendor = window.__bertbookVendor || {}; var M;\n"
        f"{loader}\n}})();\n</script>\n"
    )
    # bertviz's own script: run it with a local requirejs that resolves 'jquery' and 'd3' to the copies above.
    body = body.replace(
        '<script type="text/javascript">', '<script type="text/javascript">\n(function (requirejs, require) {', 1
    )
    closing = body.rfind("</script>")
    body = (
        body[:closing] + "\n})(function (deps, callback) { var V = window.__bertbookVendor; "
        "callback.apply(null, deps.map(function (d) { return V[d]; })); }, {config: function () {}});\n"
        + body[closing:]
    )
    style = "overflow:auto; max-width:100%;" + (f" max-height:{max_height}px;" if max_height else "")
    out = f'<div class="bertbook-bertviz" style="{style}">\n{shim}{body}\n</div>'
    if "cdnjs" in out or re.search(r"src=[\"']?(https?:)?//", out):
        raise RuntimeError("A network URL is left in the bertviz output; the offline rewrite is incomplete.")
    return out


def _limit_for_length(n: int, n_layers: int, n_heads: int, budget: int) -> tuple[list[int], list[int]]:
    """Layers and heads to show so that layers * heads * n^2 stays under ``budget`` (drawn lines / matrix cells)."""
    pairs = budget // max(1, n * n)
    if pairs >= n_layers * n_heads:
        return list(range(n_layers)), list(range(n_heads))
    heads = list(range(min(n_heads, max(1, pairs))))
    n_show = min(n_layers, max(1, pairs // len(heads)))
    step = n_layers / n_show
    layers = sorted({int(i * step) for i in range(n_show)} | {n_layers - 1}) if n_show > 1 else [n_layers - 1]
    return layers[-n_show:] if len(layers) > n_show else layers, heads


def _bertviz():
    try:
        import bertviz
    except ImportError:
        raise ImportError(
            "bertviz is not installed: `pip install bertviz ipywidgets` (or `pip install 'bert-book-helpers[viz]'`)."
        ) from None
    return bertviz


def head_view(
    att: Attentions,
    *,
    layer: int | None = None,
    heads: Sequence[int] | None = None,
    layers: Sequence[int] | None = None,
    max_tokens: int = 128,
    budget: int = 40_000,
    display: bool = True,
):
    """bertviz's head view of :class:`Attentions` (lines from each token to the tokens it attends to), offline.

    ``layer`` is the layer shown first; ``heads`` those ticked at first. Inputs longer than ``max_tokens`` are
    refused (the view would freeze the browser); for long inputs fewer layers and heads are included, so that
    layers * heads * n^2 stays under ``budget``, and a note says so. Returns the ``IPython.display.HTML`` object
    (displayed too unless ``display=False``).
    """
    from IPython.display import HTML
    from IPython.display import display as show

    bertviz = _bertviz()
    n_layers, n_heads, n, _ = att.weights.shape
    if n > max_tokens:
        raise ValueError(
            f"{n} tokens is too long for the head view (limit {max_tokens}); use a shorter text, or "
            "plot_attention_heatmap for one head."
        )
    auto_layers, auto_heads = _limit_for_length(n, n_layers, n_heads, budget)
    limited = (layers is None and len(auto_layers) < n_layers) or (heads is None and len(auto_heads) < n_heads)
    layers = list(layers) if layers is not None else auto_layers
    heads = list(heads) if heads is not None else (None if len(auto_heads) == n_heads else auto_heads)
    if layer is None:
        layer = layers[0]
    if layer not in layers:
        raise ValueError(f"layer {layer} is not among the layers included: {layers}.")
    if limited:
        print(f"Long input ({n} tokens): the head view includes layers {layers} and ticks heads {heads or 'all'}.")
    attention = [att.weights[i][None] for i in range(n_layers)]
    raw = bertviz.head_view(
        attention, list(att.tokens), layer=layer, heads=heads, include_layers=layers, html_action="return"
    )
    out = HTML(offline_bertviz_html(raw.data))
    if display:
        show(out)
    return out


def model_view(
    att: Attentions,
    *,
    layers: Sequence[int] | None = None,
    heads: Sequence[int] | None = None,
    max_tokens: int = 128,
    budget: int = 60_000,
    max_height: int | None = 900,
    display: bool = True,
):
    """bertviz's model view (a thumbnail per layer and head), offline, scrolling inside the page's column.

    By default every layer and head is included for short inputs; for long ones, fewer (layers * heads * n^2 under
    ``budget``) and a note says which. Returns the ``IPython.display.HTML`` object.
    """
    from IPython.display import HTML
    from IPython.display import display as show

    bertviz = _bertviz()
    n_layers, n_heads, n, _ = att.weights.shape
    if n > max_tokens:
        raise ValueError(f"{n} tokens is too long for the model view (limit {max_tokens}); use a shorter text.")
    auto_layers, auto_heads = _limit_for_length(n, n_layers, n_heads, budget)
    limited = (layers is None and len(auto_layers) < n_layers) or (heads is None and len(auto_heads) < n_heads)
    layers = list(layers) if layers is not None else auto_layers
    heads = list(heads) if heads is not None else auto_heads
    if limited:
        print(f"Long input ({n} tokens): the model view shows layers {layers} and heads {heads}.")
    attention = [att.weights[i][None] for i in range(n_layers)]
    raw = bertviz.model_view(
        attention, list(att.tokens), include_layers=layers, include_heads=heads, html_action="return"
    )
    out = HTML(offline_bertviz_html(raw.data, max_height=max_height))
    if display:
        show(out)
    return out


def attention_explorer(model, tokenizer, text: str = "The movie was not bad at all.", *, layer: int = 0, head: int = 0):
    """An ipywidgets explorer: a sentence box and layer / head sliders redrawing :func:`plot_attention_heatmap`.

    It needs a live kernel (in a static page the widgets do not respond). Returns the widget box.
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt
    from IPython.display import display

    n_layers = model.config.num_hidden_layers
    n_heads = model.config.num_attention_heads
    box = widgets.Text(value=text, description="Sentence", continuous_update=False, layout=widgets.Layout(width="95%"))
    layer_slider = widgets.IntSlider(value=layer, min=0, max=n_layers - 1, description="Layer")
    head_slider = widgets.IntSlider(value=head, min=0, max=n_heads - 1, description="Head")
    out = widgets.Output()
    cache: dict[str, Attentions] = {}

    def redraw(*_):
        out.clear_output(wait=True)
        with out:
            try:
                if box.value not in cache:
                    cache.clear()
                    cache[box.value] = get_attentions(model, tokenizer, box.value)
                fig = plot_attention_heatmap(cache[box.value], layer_slider.value, head_slider.value)
                plt.show(fig)
                plt.close(fig)
            except ValueError as err:
                print(f"! {err}")

    for w in (box, layer_slider, head_slider):
        w.observe(redraw, names="value")
    ui = widgets.VBox([box, widgets.HBox([layer_slider, head_slider]), out])
    redraw()
    display(ui)
    return ui


# ----------------------------------------------------------------------------------------------------
# 3. Patterns
# ----------------------------------------------------------------------------------------------------

PATTERNS = ("[CLS]", "[SEP]", "previous token", "next token", "itself", "same word elsewhere")


def pattern_masks(tokens: Sequence[str]) -> dict[str, Tensor]:
    """For one token list, a boolean ``(n, n)`` matrix per pattern: True where query i attending to key j counts."""
    n = len(tokens)
    idx = torch.arange(n)
    tok = list(tokens)
    same = torch.tensor([[tok[i] == tok[j] and i != j for j in range(n)] for i in range(n)])
    return {
        "[CLS]": torch.tensor([t == "[CLS]" for t in tok])[None, :].expand(n, n),
        "[SEP]": torch.tensor([t == "[SEP]" for t in tok])[None, :].expand(n, n),
        "previous token": idx[None, :] == idx[:, None] - 1,
        "next token": idx[None, :] == idx[:, None] + 1,
        "itself": idx[None, :] == idx[:, None],
        "same word elsewhere": same,
    }


def pattern_scores(atts: Sequence[Attentions]) -> dict[str, Tensor]:
    """Average attention mass per layer and head that goes to each pattern of :data:`PATTERNS`, ``(layers, heads)``.

    Rows of [CLS] and [SEP] themselves are left out (their "previous token" is not a word), and for "same word
    elsewhere" only the rows of tokens that do occur again count. Averaged over every counted row of every text.
    """
    totals: dict[str, Tensor] = {}
    counts: dict[str, int] = {}
    for att in atts:
        word_rows = torch.tensor([t not in ("[CLS]", "[SEP]", "[PAD]") for t in att.tokens])
        for name, m in pattern_masks(att.tokens).items():
            rows = word_rows & m.any(dim=1) if name == "same word elsewhere" else word_rows
            if not rows.any():
                continue
            mass = (att.weights * m.float()).sum(-1)[:, :, rows]  # (layers, heads, rows)
            totals[name] = totals.get(name, 0) + mass.sum(-1)
            counts[name] = counts.get(name, 0) + int(rows.sum())
    return {name: totals[name] / counts[name] for name in PATTERNS if name in totals}
