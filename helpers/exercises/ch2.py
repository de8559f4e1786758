"""Exercise checkers of chapter 2: scaled dot-product attention, the encoder's parameter count, previous-token scores.

Each checker registers itself under its exercise id; see :mod:`helpers.exercises` for the rules they share.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import register
from .guards import _as_number, _call_student, _function_guard, _not_answered, _report, _type_name


def _reference_attention(q, k, v, mask=None):
    import torch

    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


def _attention_result_problem(name: str, got, ref_out, ref_w) -> str | None:
    """Exercise 2.1: what is wrong with what came back (not a pair of tensors, the wrong order or shapes), or
    None when it is a pair ``(output, weights)`` of the right shapes."""
    import torch

    if got is None:
        return "your function returned None: return `output, weights`."
    if torch.is_tensor(got):
        return "your function returned one tensor: return both, as `return output, weights`."
    try:
        out, weights = got
    except (TypeError, ValueError):
        return f"your function should return a pair (output, weights), not a {_type_name(got)}."
    if not (torch.is_tensor(out) and torch.is_tensor(weights)):
        return "both results should be tensors: (output, weights)."
    if out.shape == ref_w.shape and weights.shape == ref_out.shape and ref_w.shape != ref_out.shape:
        return "the two results are in the wrong order: return `output, weights`."
    if tuple(weights.shape) != tuple(ref_w.shape):
        return (
            f"on {name} the weights should have shape {tuple(ref_w.shape)} (..., queries, keys), not "
            f"{tuple(weights.shape)}. Hint: the scores are `q @ k.transpose(-2, -1)`."
        )
    if tuple(out.shape) != tuple(ref_out.shape):
        return (
            f"on {name} the output should have shape {tuple(ref_out.shape)}, not {tuple(out.shape)}. "
            "Hint: output = weights @ v."
        )
    return None


def _attention_slip(exercise_id: str, name: str, inputs, out, weights, ref_w, w_ok: bool) -> bool:
    """Exercise 2.1's diagnosis of a wrong answer: an ignored mask, no scaling, the wrong softmax axis, a wrong
    output from right weights, or else the largest difference."""
    import torch

    cq, ck, cv, cmask = inputs
    scores = cq @ ck.transpose(-2, -1)
    if cmask is not None:
        unmasked_out, unmasked_w = _reference_attention(cq, ck, cv)
        if torch.allclose(weights.detach().float(), unmasked_w, atol=1e-5):
            return _report(
                exercise_id,
                False,
                "the mask is ignored: padded keys still get weight. Set their "
                "scores to -inf before the softmax, e.g. "
                "`scores.masked_fill(~mask, float('-inf'))`.",
            )
    masked_scores = scores if cmask is None else scores.masked_fill(~cmask, float("-inf"))
    if torch.allclose(weights.detach().float(), torch.softmax(masked_scores, -1), atol=1e-5):
        return _report(
            exercise_id,
            False,
            f"the weights are not scaled: divide the scores by sqrt(d_k) = sqrt({cq.size(-1)}) before the softmax.",
        )
    if torch.allclose(weights.detach().float(), torch.softmax(masked_scores / math.sqrt(cq.size(-1)), -2), atol=1e-5):
        return _report(
            exercise_id,
            False,
            "the softmax runs over the wrong axis: each *row* (one query, all keys) must sum to 1, so use `dim=-1`.",
        )
    if w_ok:
        return _report(
            exercise_id,
            False,
            "the weights are right but the output is not: it is the weighted average of the values, `weights @ v`.",
        )
    return _report(
        exercise_id,
        False,
        f"on {name} the weights differ from softmax(q k^T / sqrt(d_k)) (largest "
        f"difference {(weights.detach().float() - ref_w).abs().max():.2e}). "
        "Hint: check the transpose of k and the scaling.",
    )


@register("2.1")
def attention_function(answer: Any, *, q=None, k=None, v=None, exercise_id: str = "2.1") -> bool:
    """Exercise 2.1: ``my_attention(q, k, v, mask=None) -> (output, weights)``, scaled dot-product attention.

    Tested on the chapter's tensors (``q``, ``k``, ``v`` of layer 0, when given) and on random ones with and
    without a boolean key mask (True = may attend). Recognises a missing ``1/sqrt(d_k)``, a softmax over the
    wrong axis, an ignored mask, the two results in the wrong order, and a single tensor returned.
    """
    import torch

    if (verdict := _function_guard(exercise_id, answer, "my_attention", "q, k, v, mask=None")) is not None:
        return verdict
    gen = torch.Generator().manual_seed(0)
    rq, rk, rv = (
        torch.randn(2, 3, 5, 8, generator=gen),
        torch.randn(2, 3, 6, 8, generator=gen),
        torch.randn(2, 3, 6, 4, generator=gen),
    )
    mask = torch.ones(2, 1, 1, 6, dtype=torch.bool)
    mask[1, ..., 4:] = False
    cases = [("random q, k, v (2 texts, 3 heads, 5 queries, 6 keys)", (rq, rk, rv), None)]
    if q is not None and k is not None and v is not None:
        cases.insert(0, ("the chapter's q, k, v of layer 0", (q, k, v), None))
    cases.append(
        ("random q, k, v with a padding mask (the second text's last two keys are padding)", (rq, rk, rv), mask)
    )
    for name, (cq, ck, cv), cmask in cases:
        args = (cq, ck, cv) if cmask is None else (cq, ck, cv, cmask)
        ok, got = _call_student(exercise_id, answer, "my_attention", name, *args)
        if not ok:
            return got
        ref_out, ref_w = _reference_attention(cq, ck, cv, cmask)
        problem = _attention_result_problem(name, got, ref_out, ref_w)
        if problem is not None:
            return _report(exercise_id, False, problem)
        out, weights = got
        w_ok = torch.allclose(weights.detach().float(), ref_w, atol=1e-5)
        o_ok = torch.allclose(out.detach().float(), ref_out, atol=1e-5)
        if w_ok and o_ok:
            continue
        return _attention_slip(exercise_id, name, (cq, ck, cv, cmask), out, weights, ref_w, w_ok)
    return _report(
        exercise_id,
        True,
        f"correct on {len(cases)} inputs, the padding mask included: your attention "
        "matches softmax(q k^T / sqrt(d_k)) v.",
    )


def _parts(model) -> tuple[Any, int, list[int], int, int]:
    """The base model, and the parameter counts of its embeddings, of each layer, of the pooler and of the head."""
    base = getattr(model, "base_model", model)
    if not hasattr(base, "encoder") or not hasattr(base, "embeddings"):
        raise TypeError("encoder_parameter_count needs a transformers BERT model (model=model)")

    def count(module) -> int:
        return 0 if module is None else sum(p.numel() for p in module.parameters())

    layers = [count(layer) for layer in base.encoder.layer]
    head = count(model) - count(base) if base is not model else 0
    return base, count(base.embeddings), layers, count(getattr(base, "pooler", None)), head


@register("2.2")
def encoder_parameter_count(answer: Any, *, model, exercise_id: str = "2.2") -> bool:
    """Exercise 2.2: the number of parameters of the encoder ``model.bert`` (embeddings + layers + pooler).

    The reference counts the real model's tensors. Recognises the usual omissions: the pooler, the position or
    segment tables, the LayerNorms, the biases; and the classification head counted in.
    """
    if model is None:
        raise TypeError("encoder_parameter_count needs the chapter's model: model=model")
    if answer is None:
        return _not_answered(exercise_id, "the number of parameters (an integer)")
    value = _as_number(answer)
    if value is None:
        return _report(exercise_id, False, f"the answer should be one integer, but it is a {_type_name(answer)}.")
    base, emb, layers, pooler, head = _parts(model)
    cfg = base.config
    d, d_ff, vocab = cfg.hidden_size, cfg.intermediate_size, cfg.vocab_size
    positions, segments, n_layers = cfg.max_position_embeddings, cfg.type_vocab_size, cfg.num_hidden_layers
    right = emb + sum(layers) + pooler
    if value == right:
        return _report(
            exercise_id,
            True,
            f"correct: {right:,} parameters = embeddings {emb:,} + {n_layers} layers "
            f"x {layers[0]:,} + pooler {pooler:,}. The token table alone is "
            f"{vocab * d / right:.0%} of it.",
        )
    if value == right + head:
        return _report(
            exercise_id,
            False,
            f"this includes the classification head ({head:,} parameters), which "
            "sits on top of the encoder: count `model.bert` only.",
        )
    layer_no_bias = 4 * d * d + 2 * d * d_ff
    slips = [
        (right - pooler, f"you left out the pooler: a {d} x {d} dense layer with a bias on top of [CLS]."),
        (sum(layers), "this is the layers only: add the embeddings (three tables and a LayerNorm) and the pooler."),
        (layers[0], f"this is one layer; the encoder has {n_layers} of them, plus the embeddings and the pooler."),
        (right - positions * d, f"you left out the position table ({positions} x {d})."),
        (right - segments * d, f"you left out the segment (token type) table ({segments} x {d})."),
        (right - (positions + segments) * d, "you left out the position and segment tables."),
        (right - 2 * d, "you left out the embeddings' LayerNorm (a gain and a bias per feature)."),
        (right - n_layers * 4 * d, "you left out the two LayerNorms of every layer (gain and bias each)."),
        (right - n_layers * 4 * d - 2 * d, "you left out every LayerNorm (each has a gain and a bias per feature)."),
        (
            right - n_layers * (5 * d + d_ff) - d,
            "you left out the biases of the linear layers (four in attention, two in the FFN, one in the pooler).",
        ),
        (
            vocab * d + n_layers * layer_no_bias,
            "this counts only the token table and the layers' weight matrices; "
            "add the other embeddings, biases, LayerNorms and the pooler.",
        ),
    ]
    for wrong, hint in slips:
        if value == wrong:
            return _report(exercise_id, False, f"not quite: {hint}")
    off = value - right
    return _report(
        exercise_id,
        False,
        f"{int(value) if value == int(value) else value:,} is off by {off:+,.0f}. "
        "Hint: embeddings = (vocabulary + positions + segments) x d_model + a "
        "LayerNorm; one layer = 4 attention matrices and biases, the FFN's two "
        "matrices and biases, two LayerNorms; then a pooler. Read the sizes from "
        "`model.config`.",
    )


@register("2.3")
def previous_token_scores(answer: Any, *, att, layer: int = 0, exercise_id: str = "2.3") -> bool:
    """Exercise 2.3: for every head of ``layer``, the mean weight a word puts on the token just before it.

    "Words" are the tokens other than [CLS], [SEP] and [PAD] (the rows that :func:`helpers.attention.pattern_scores`
    counts). The answer is a sequence of one number per head. Recognises the next token instead of the previous
    one, the special tokens' rows included, a sum instead of a mean, and the whole (layers, heads) table.
    """
    import torch

    if att is None:
        raise TypeError("previous_token_scores needs the chapter's attention: att=att")
    if answer is None:
        return _not_answered(exercise_id, "one score per head (a list, array or tensor)")
    w = att.weights[layer]  # (heads, n, n)
    n_heads, n = w.shape[0], w.shape[-1]
    try:
        got = torch.as_tensor(np.asarray(answer.detach() if torch.is_tensor(answer) else answer, dtype=float))
    except (TypeError, ValueError):
        return _report(
            exercise_id, False, f"the answer should be {n_heads} numbers, one per head, not a {_type_name(answer)}."
        )
    words = torch.tensor([t not in ("[CLS]", "[SEP]", "[PAD]") for t in att.tokens])
    rows = torch.arange(n)
    prev = torch.zeros(n_heads, n)
    prev[:, 1:] = w[:, rows[1:], rows[1:] - 1]
    nxt = torch.zeros(n_heads, n)
    nxt[:, :-1] = w[:, rows[:-1], rows[:-1] + 1]
    right = prev[:, words].mean(-1).double()
    if got.shape == (att.weights.shape[0], n_heads):
        return _report(
            exercise_id, False, f"this is a table for every layer; give the {n_heads} scores of layer {layer} only."
        )
    if got.numel() != n_heads:
        return _report(exercise_id, False, f"give one score per head: {n_heads} numbers, not {got.numel()}.")
    got = got.reshape(-1)
    if torch.allclose(got, right, atol=1e-5):
        best = int(right.argmax())
        return _report(
            exercise_id,
            True,
            f"correct. In layer {layer}, head {best} attends most to the previous "
            f"token ({right[best]:.2f} of each word's attention on average).",
        )
    slips = [
        (
            nxt[:, words].mean(-1),
            "this is the weight on the *next* token: the previous token of query i is "
            "key i - 1, `weights[h, i, i - 1]`.",
        ),
        (prev[:, 1:].mean(-1), "the rows of [CLS] and [SEP] are included: average over the word tokens only."),
        (prev[:, words].sum(-1), "this is a sum over the words: take the mean."),
        (prev.mean(-1), "the rows of [CLS] and [SEP] are included: average over the word tokens only."),
    ]
    for wrong, hint in slips:
        if torch.allclose(got, wrong.double(), atol=1e-5):
            return _report(exercise_id, False, f"not quite: {hint}")
    return _report(
        exercise_id,
        False,
        "these are not the previous-token scores. Hint: for a word at position i, "
        f"take `att.weights[{layer}, h, i, i - 1]`, and average over the words "
        "(skip [CLS] and [SEP]).",
    )
