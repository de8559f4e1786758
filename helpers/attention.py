"""Chapter 2: the BERT encoder written out by hand, checked against transformers.

The maths, as small functions on plain tensors, each one a formula of the chapter. Chapter 2 writes each of them in a
cell that starts with ``# @save helpers.attention``; ``tests/test_boundary.py`` checks that the cell and this module
hold the same code (docstrings aside), and each docstring names its section:

* :func:`scaled_dot_product_attention` - softmax(Q K^T / sqrt(d_k)) V, with an optional mask;
* :func:`split_heads`, :func:`merge_heads`, :func:`multi_head_attention` - split, attend, concatenate, W^O;
* :func:`gelu`, :func:`feed_forward` - the position-wise FFN (BERT uses GELU where the original Transformer used ReLU);
* :func:`layer_norm` - LayerNorm *with* its learned gain and bias;
* :func:`embeddings` - token + position + segment embeddings, then LayerNorm;
* :func:`encoder_layer`, :func:`encoder` - the residual connections and the whole stack.

The weights come from a real transformers BERT (:meth:`EncoderWeights.from_model`), copied into plain
dataclasses and stored as ``(in, out)`` matrices so that the code reads like the paper: ``x @ W + b``
(PyTorch's ``nn.Linear`` keeps ``(out, in)`` and computes ``x @ W.T + b``). Dropout is left out: it is
switched off at inference (``model.eval()``), which is where the outputs are compared.

Two measurements the chapter quotes: :func:`softmax_saturation` (why the scores are divided by sqrt(d_k)) and
:func:`bytes_allocated` (the memory of the n x n matrices).

The views (attention weights of a real model, heatmaps, bertviz offline, the explorer widget, pattern scores) live
in :mod:`helpers.attention_views`. They are re-exported here, so ``import helpers.attention as attn`` then
``attn.get_attentions(...)``, ``attn.head_view(...)`` or ``attn.plot_attention_heatmap(...)`` keeps working.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from .attention_views import (  # noqa: F401
    PATTERNS,
    VENDOR_DIR,
    VENDOR_FILES,
    Attentions,
    attention_explorer,
    attention_implementation,
    encode_one,
    get_attentions,
    head_view,
    model_view,
    offline_bertviz_html,
    pattern_masks,
    pattern_scores,
    plot_attention_grid,
    plot_attention_heatmap,
)

# ----------------------------------------------------------------------------------------------------
# 1. The maths
# ----------------------------------------------------------------------------------------------------


def scaled_dot_product_attention(
    q: Tensor, k: Tensor, v: Tensor, mask: Tensor | None = None, scale: float | None = None
) -> tuple[Tensor, Tensor]:
    """Attention(Q, K, V) = softmax(Q K^T / sqrt(d_k)) V; returns ``(output, weights)``.

    Shapes: ``q`` is ``(..., n_q, d_k)``, ``k`` is ``(..., n_k, d_k)``, ``v`` is ``(..., n_k, d_v)``; the weights are
    ``(..., n_q, n_k)`` (each row sums to 1) and the output ``(..., n_q, d_v)``. ``mask`` is boolean and broadcasts
    to the weights' shape: ``True`` where a query may look at a key, ``False`` for padding. A masked score becomes
    -inf before the softmax, so its weight is exactly 0. ``scale`` defaults to ``1 / sqrt(d_k)``; pass ``1.0``
    to see what happens without the scaling.

    Written in chapter 2, §2.3.
    """
    d_k = q.size(-1)
    scale = 1.0 / math.sqrt(d_k) if scale is None else scale
    scores = q @ k.transpose(-2, -1) * scale
    if mask is not None:
        if mask.dtype != torch.bool:
            raise TypeError(
                f"mask must be boolean (True = attend), got {mask.dtype}; use padding_mask(attention_mask)."
            )
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


def padding_mask(attention_mask: Tensor) -> Tensor:
    """The tokenizer's ``attention_mask`` ``(batch, n)`` of 1/0 as a boolean ``(batch, 1, 1, n)`` key mask.

    The two singleton axes broadcast over the heads and over the queries: every query may look at every real
    token and at no padding token.
    """
    return attention_mask.bool()[:, None, None, :]


def split_heads(x: Tensor, num_heads: int) -> Tensor:
    """``(batch, n, d_model)`` -> ``(batch, heads, n, d_model / heads)``: each head gets its own slice of features.

    Written in chapter 2, §2.3.
    """
    batch, n, d_model = x.shape
    if d_model % num_heads:
        raise ValueError(f"d_model={d_model} is not divisible by num_heads={num_heads}.")
    return x.view(batch, n, num_heads, d_model // num_heads).transpose(1, 2)


def merge_heads(x: Tensor) -> Tensor:
    """``(batch, heads, n, d_head)`` -> ``(batch, n, heads * d_head)``: Concat(head_1, ..., head_h).

    Written in chapter 2, §2.6.
    """
    batch, heads, n, d_head = x.shape
    return x.transpose(1, 2).reshape(batch, n, heads * d_head)


@dataclass
class AttentionWeights:
    """The four projections of one multi-head attention block, as ``(in, out)`` matrices and biases."""

    w_q: Tensor
    b_q: Tensor
    w_k: Tensor
    b_k: Tensor
    w_v: Tensor
    b_v: Tensor
    w_o: Tensor
    b_o: Tensor


def multi_head_attention(
    x: Tensor, w: AttentionWeights, num_heads: int, mask: Tensor | None = None
) -> tuple[Tensor, Tensor]:
    """MultiHead(X) = Concat(head_1, ..., head_h) W^O with head_i = Attention(X W_i^Q, X W_i^K, X W_i^V).

    The h per-head matrices W_i^Q are the column blocks of one ``(d_model, d_model)`` matrix, so one product and a
    reshape (:func:`split_heads`) compute all heads at once. Returns ``(output (batch, n, d_model),
    weights (batch, heads, n, n))``.

    Written in chapter 2, §2.6.
    """
    q = split_heads(x @ w.w_q + w.b_q, num_heads)
    k = split_heads(x @ w.w_k + w.b_k, num_heads)
    v = split_heads(x @ w.w_v + w.b_v, num_heads)
    heads, weights = scaled_dot_product_attention(q, k, v, mask)
    return merge_heads(heads) @ w.w_o + w.b_o, weights


def gelu(x: Tensor) -> Tensor:
    """GELU(x) = x * Phi(x), Phi the standard normal CDF (the exact form that BERT's ``hidden_act="gelu"`` uses).

    Written in chapter 2, §2.7.
    """
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def feed_forward(x: Tensor, w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor) -> Tensor:
    """FFN(x) = GELU(x W1 + b1) W2 + b2, applied to every position separately (d_model -> d_ff -> d_model).

    The original Transformer used max(0, .) (ReLU) here; BERT uses GELU.

    Written in chapter 2, §2.7.
    """
    return gelu(x @ w1 + b1) @ w2 + b2


def layer_norm(x: Tensor, gain: Tensor, bias: Tensor, eps: float = 1e-12) -> Tensor:
    """LayerNorm(x) = gain * (x - mean) / sqrt(var + eps) + bias over the last axis (the features of one token).

    ``var`` is the biased variance (divided by d, not d - 1). ``gain`` and ``bias`` are learned, one per feature;
    without them every token vector would be forced to mean 0 and variance 1.

    Written in chapter 2, §2.2.
    """
    mean = x.mean(dim=-1, keepdim=True)
    var = x.var(dim=-1, unbiased=False, keepdim=True)
    return gain * (x - mean) / torch.sqrt(var + eps) + bias


@dataclass
class EmbeddingWeights:
    """The three embedding tables and the LayerNorm after their sum."""

    word: Tensor  # (vocab, d_model)
    position: Tensor  # (max_positions, d_model)
    token_type: Tensor  # (2, d_model): segment A and segment B
    ln_gain: Tensor
    ln_bias: Tensor
    eps: float = 1e-12


def embeddings(input_ids: Tensor, w: EmbeddingWeights, token_type_ids: Tensor | None = None) -> Tensor:
    """E = LayerNorm(token embedding + position embedding + segment embedding): ``(batch, n)`` ids -> ``(batch, n, d)``.

    Each term is a row lookup in a table: the token's id, its position 0..n-1, its segment (0 for the first
    sentence, 1 for the second). ``token_type_ids`` defaults to all zeros (a single sentence).

    Written in chapter 2, §2.2.
    """
    n = input_ids.size(1)
    if n > w.position.size(0):
        raise ValueError(f"{n} tokens, but the model has only {w.position.size(0)} position embeddings.")
    if token_type_ids is None:
        token_type_ids = torch.zeros_like(input_ids)
    positions = torch.arange(n, device=input_ids.device)
    summed = w.word[input_ids] + w.position[positions] + w.token_type[token_type_ids]
    return layer_norm(summed, w.ln_gain, w.ln_bias, w.eps)


@dataclass
class LayerWeights:
    """Everything one encoder layer learns: attention, two LayerNorms, the FFN."""

    attention: AttentionWeights
    ln1_gain: Tensor
    ln1_bias: Tensor
    w1: Tensor  # (d_model, d_ff)
    b1: Tensor
    w2: Tensor  # (d_ff, d_model)
    b2: Tensor
    ln2_gain: Tensor
    ln2_bias: Tensor
    num_heads: int
    eps: float = 1e-12

    @classmethod
    def from_bert_layer(cls, layer, num_heads: int | None = None, eps: float | None = None) -> "LayerWeights":
        """Copy the weights of a transformers ``BertLayer`` (detached clones, Linear weights as (in, out))."""

        def lin(module) -> tuple[Tensor, Tensor]:
            return module.weight.detach().T.clone(), module.bias.detach().clone()

        sa, so = layer.attention.self, layer.attention.output
        num_heads = num_heads or sa.num_attention_heads
        eps = so.LayerNorm.eps if eps is None else eps
        att = AttentionWeights(*lin(sa.query), *lin(sa.key), *lin(sa.value), *lin(so.dense))
        w1, b1 = lin(layer.intermediate.dense)
        w2, b2 = lin(layer.output.dense)
        return cls(
            att,
            so.LayerNorm.weight.detach().clone(),
            so.LayerNorm.bias.detach().clone(),
            w1,
            b1,
            w2,
            b2,
            layer.output.LayerNorm.weight.detach().clone(),
            layer.output.LayerNorm.bias.detach().clone(),
            num_heads,
            eps,
        )


def encoder_layer(x: Tensor, w: LayerWeights, mask: Tensor | None = None) -> tuple[Tensor, Tensor]:
    """One BERT encoder layer (post-LayerNorm, as in the paper); returns ``(output, attention weights)``.

    h = LayerNorm(x + MultiHead(x))   - the first residual connection
    y = LayerNorm(h + FFN(h))         - the second
    Shapes: ``x`` and ``y`` are ``(batch, n, d_model)``; the weights ``(batch, heads, n, n)``.

    Written in chapter 2, §2.8.
    """
    attended, weights = multi_head_attention(x, w.attention, w.num_heads, mask)
    h = layer_norm(x + attended, w.ln1_gain, w.ln1_bias, w.eps)
    y = layer_norm(h + feed_forward(h, w.w1, w.b1, w.w2, w.b2), w.ln2_gain, w.ln2_bias, w.eps)
    return y, weights


@dataclass
class EncoderWeights:
    """A whole BERT encoder: the embeddings and the stack of layers."""

    embeddings: EmbeddingWeights
    layers: list[LayerWeights]

    @classmethod
    def from_model(cls, model) -> "EncoderWeights":
        """Copy the weights of a transformers ``BertModel`` or any ``BertFor...`` model that wraps one."""
        bert = _base_bert(model)
        e = bert.embeddings
        emb = EmbeddingWeights(
            e.word_embeddings.weight.detach().clone(),
            e.position_embeddings.weight.detach().clone(),
            e.token_type_embeddings.weight.detach().clone(),
            e.LayerNorm.weight.detach().clone(),
            e.LayerNorm.bias.detach().clone(),
            e.LayerNorm.eps,
        )
        heads = bert.config.num_attention_heads
        return cls(emb, [LayerWeights.from_bert_layer(layer, heads) for layer in bert.encoder.layer])


def _base_bert(model):
    """The ``BertModel`` inside ``model`` (``model`` itself, ``model.bert``, or ``model.base_model``)."""
    for candidate in (model, getattr(model, "bert", None), getattr(model, "base_model", None)):
        if candidate is not None and hasattr(candidate, "embeddings") and hasattr(candidate, "encoder"):
            return candidate
    raise TypeError(f"{type(model).__name__} holds no BERT encoder (no .embeddings and .encoder).")


def encoder(
    input_ids: Tensor, w: EncoderWeights, attention_mask: Tensor | None = None, token_type_ids: Tensor | None = None
) -> tuple[Tensor, list[Tensor]]:
    """The whole encoder: embeddings, then every layer in turn with the same padding mask.

    Returns ``(last hidden state (batch, n, d_model), [attention weights of each layer (batch, heads, n, n)])``;
    the first is what transformers' ``BertModel(...).last_hidden_state`` returns.
    """
    mask = padding_mask(attention_mask) if attention_mask is not None else None
    x = embeddings(input_ids, w.embeddings, token_type_ids)
    all_weights = []
    for layer in w.layers:
        x, weights = encoder_layer(x, layer, mask)
        all_weights.append(weights)
    return x, all_weights


# ----------------------------------------------------------------------------------------------------
# 2. Measurements used by the chapter
# ----------------------------------------------------------------------------------------------------


def softmax_saturation(d_k: int, scale: bool, n: int = 32, trials: int = 200, seed: int = 0) -> dict[str, float]:
    """Measure what dot products of random unit-variance vectors do to the softmax at width ``d_k``.

    For ``trials`` random (query, n keys) draws, returns the mean standard deviation of the scores, the mean
    largest weight of a row (1.0 = one-hot, saturated), the mean entropy of a row in nats (log n = uniform) and the
    mean norm of the softmax's Jacobian (how much gradient flows back to the scores; it tends to 0 when saturated).
    """
    gen = torch.Generator().manual_seed(seed)
    q = torch.randn(trials, 1, d_k, generator=gen)
    k = torch.randn(trials, n, d_k, generator=gen)
    scores = (q @ k.transpose(-2, -1)).squeeze(1) / (math.sqrt(d_k) if scale else 1.0)
    p = torch.softmax(scores, dim=-1)
    jac = torch.diag_embed(p) - p[:, :, None] * p[:, None, :]  # d softmax / d scores, (trials, n, n)
    entropy = -(p * torch.log(p.clamp_min(1e-30))).sum(-1)
    return {
        "d_k": d_k,
        "scaled": scale,
        "score_std": scores.std(dim=-1).mean().item(),
        "max_weight": p.max(dim=-1).values.mean().item(),
        "entropy": entropy.mean().item(),
        "jacobian_norm": torch.linalg.matrix_norm(jac).mean().item(),
    }


def bytes_allocated(fn, *args, **kwargs) -> int:
    """Total bytes of the new tensors that the PyTorch operations inside ``fn(*args, **kwargs)`` create.

    Every operation is intercepted (a ``TorchDispatchMode``) and the storage of each result counted once; views
    (a transpose, a reshape without copy) share their input's storage and cost nothing. The results are kept
    alive until the end, so the allocator cannot reuse freed memory and hide an allocation: the total is what
    the function allocates in all, an upper bound on its peak.
    """
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils._pytree import tree_leaves

    def storages(tree):
        return [t.untyped_storage() for t in tree_leaves(tree) if isinstance(t, Tensor)]

    seen = {st.data_ptr() for st in storages((args, kwargs))}
    kept: list = []

    class Counter(TorchDispatchMode):
        total = 0

        def __torch_dispatch__(self, func, types, f_args=(), f_kwargs=None):
            out = func(*f_args, **(f_kwargs or {}))
            for st in storages(out):
                if st.data_ptr() not in seen:
                    seen.add(st.data_ptr())
                    Counter.total += st.nbytes()
                    kept.append(st)
            return out

    with Counter():
        fn(*args, **kwargs)
    kept.clear()
    return Counter.total
