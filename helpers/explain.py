"""Explaining one prediction (chapter 6): integrated gradients by hand, and attention for comparison.

**Integrated gradients** (Sundararajan et al. 2017) attributes the change of a model output ``f`` between a
*baseline* input ``x'`` and the real input ``x`` to the input's coordinates:

``IG_i = (x_i - x'_i) * mean over a in (0, 1] of df/dx_i (x' + a (x - x'))``.

Here ``x`` is the sequence of word-piece embeddings (position and segment embeddings are added by the model
as usual), the baseline replaces every token except [CLS] and [SEP] by [PAD], the path integral is a
midpoint Riemann sum over ``steps`` points, and a token's score is the sum of its embedding coordinates'
scores. **Completeness**: the scores add up to ``f(x) - f(x')``; the gap (:attr:`Attribution.gap`) shrinks
as ``steps`` grows and is the check that the computation is right. ``f`` is the probability of the target
class (``output="prob"``) or its logit (``output="logit"``).

**Attention scores** (:func:`cls_attention`): how much [CLS] attends to each token in the last layer,
averaged over heads. They are cheap, but they describe where one layer looks, not what the output depends on.

Devices follow the book's rule (:mod:`helpers.evaluate`): :func:`integrated_gradients` runs where the model is,
or on ``device`` when one is given (the model is moved there, in place); its scores come back as NumPy arrays.
:func:`cls_attention` runs where the model is (through :func:`helpers.attention.get_attentions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from .evaluate import prediction_device

SPECIAL = ("[CLS]", "[SEP]", "[PAD]")


@dataclass
class Attribution:
    """Integrated-gradients scores of one text: one score per token (special tokens included)."""

    tokens: list[str]
    scores: np.ndarray
    target: int
    output: str
    f_input: float
    f_baseline: float
    steps: int

    @property
    def gap(self) -> float:
        """``sum(scores) - (f(x) - f(baseline))``: zero for exact integration (completeness)."""
        return float(self.scores.sum() - (self.f_input - self.f_baseline))


def _output(logits: torch.Tensor, target: int, output: str) -> torch.Tensor:
    return torch.softmax(logits, dim=-1)[..., target] if output == "prob" else logits[..., target]


def baseline_ids(tokenizer, input_ids: torch.Tensor) -> torch.Tensor:
    """The baseline sentence: [PAD] everywhere except where ``input_ids`` has [CLS] or [SEP]."""
    keep = (input_ids == tokenizer.cls_token_id) | (input_ids == tokenizer.sep_token_id)
    return torch.where(keep, input_ids, torch.full_like(input_ids, tokenizer.pad_token_id))


def integrated_gradients(
    model,
    tokenizer,
    text: str,
    *,
    target: int | None = None,
    steps: int = 32,
    output: str = "prob",
    batch_size: int = 16,
    max_length: int = 512,
    device: str | torch.device | None = None,
) -> Attribution:
    """Integrated gradients of ``model``'s ``output`` for class ``target`` (default: the predicted class)
    with respect to the word-piece embeddings of ``text``; see the module text for the definition.

    ``device``: where to run the ``steps`` forward and backward passes (the model is moved there);
    ``None`` runs them where the model is."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text must be a non-empty string.")
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}.")
    if output not in ("prob", "logit"):
        raise ValueError(f"output must be 'prob' or 'logit', got {output!r}.")
    device = prediction_device(model, device)
    was_training = model.training
    model.eval()
    try:
        ids = tokenizer(text, truncation=True, max_length=max_length, return_tensors="pt")["input_ids"].to(device)
        embed = model.get_input_embeddings()
        with torch.no_grad():
            x = embed(ids)[0]
            x0 = embed(baseline_ids(tokenizer, ids))[0]
            logits_x = model(inputs_embeds=x[None]).logits[0].float()
            logits_0 = model(inputs_embeds=x0[None]).logits[0].float()
        if target is None:
            target = int(logits_x.argmax())
        if not 0 <= target < logits_x.numel():
            raise ValueError(f"target must be a class id between 0 and {logits_x.numel() - 1}, got {target}.")
        alphas = (torch.arange(steps, device=device, dtype=x.dtype) + 0.5) / steps  # midpoints of [0, 1]
        grad_sum = torch.zeros_like(x)
        for start in range(0, steps, batch_size):
            a = alphas[start : start + batch_size, None, None]
            path = (x0 + a * (x - x0)).detach().requires_grad_(True)
            f = _output(model(inputs_embeds=path).logits, target, output)
            (grad,) = torch.autograd.grad(f.sum(), path)
            grad_sum += grad.sum(dim=0)
        scores = ((x - x0) * grad_sum / steps).sum(dim=-1)
    finally:
        model.train(was_training)
    return Attribution(
        tokens=tokenizer.convert_ids_to_tokens(ids[0].tolist()),
        scores=scores.detach().cpu().numpy(),
        target=target,
        output=output,
        f_input=float(_output(logits_x, target, output)),
        f_baseline=float(_output(logits_0, target, output)),
        steps=steps,
    )


def word_scores(
    tokens: Sequence[str], scores: Sequence[float], *, skip_special: bool = True
) -> list[tuple[str, float]]:
    """Merge WordPiece pieces (``##...``) into words, summing their scores; drop [CLS]/[SEP]/[PAD] by default."""
    if len(tokens) != len(scores):
        raise ValueError(f"{len(tokens)} tokens but {len(scores)} scores.")
    words: list[list] = []
    for token, score in zip(tokens, scores):
        if skip_special and token in SPECIAL:
            continue
        if token.startswith("##") and words:
            words[-1][0] += token[2:]
            words[-1][1] += float(score)
        else:
            words.append([token, float(score)])
    return [(w, s) for w, s in words]


def cls_attention(model, tokenizer, text: str, layer: int = -1) -> tuple[list[str], np.ndarray]:
    """The attention [CLS] pays to every token in ``layer`` (default the last), averaged over the heads."""
    from .attention import get_attentions

    att = get_attentions(model, tokenizer, text)
    n_layers = att.weights.shape[0]
    if not -n_layers <= layer < n_layers:
        raise ValueError(f"layer must be between {-n_layers} and {n_layers - 1}, got {layer}.")
    return att.tokens, att.weights[layer, :, 0, :].mean(dim=0).numpy()


def plot_token_scores(
    rows: Sequence[tuple[str, Sequence[tuple[str, float]]]], *, title: str, width: int = 100, ax=None
):
    """Words coloured by score, one block of lines per row: ``rows = [(row label, [(word, score), ...]), ...]``.

    Each row is scaled by its own largest absolute score; red is positive (for the explained class), blue
    negative. Returns the figure.
    """
    import matplotlib.pyplot as plt

    cmap = plt.get_cmap("RdBu_r")
    layout = []  # (row index, line, column, word, normalised score)
    line = 0
    starts = []
    for r, (_, words) in enumerate(rows):
        top = max((abs(s) for _, s in words), default=1.0) or 1.0
        starts.append(line)
        col = 0
        for word, score in words:
            if col and col + len(word) > width:
                line, col = line + 1, 0
            layout.append((line, col, word, score / top))
            col += len(word) + 1
        line += 2
    n_lines = max(line - 1, 1)
    if ax is None:
        fig, ax = plt.subplots(figsize=(min(16, 0.095 * width + 1), 0.32 * n_lines + 0.8), layout="constrained")
    else:
        fig = ax.figure
    for ln, col, word, s in layout:
        ax.text(
            col,
            ln,
            word,
            family="monospace",
            fontsize=9,
            va="center",
            ha="left",
            bbox=dict(boxstyle="square,pad=0.1", fc=cmap(0.5 + 0.5 * s), ec="none"),
        )
    ax.set_xlim(-1, width + 1)
    ax.set_ylim(n_lines - 0.5, -0.7)
    ax.set_yticks(starts, [label for label, _ in rows], fontsize=9)
    ax.set_xticks([])
    ax.set_xlabel("words of the text (colour: score scaled per row; red for, blue against the class)")
    ax.set_ylabel("method and example")
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title)
    return fig
