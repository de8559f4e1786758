"""Texts longer than the model reads: truncation strategies and a sliding window (chapter 6).

BERT reads at most 512 tokens (``max_length`` here, [CLS] and [SEP] included). A longer text must be cut
or split. Everything here works on the token ids of the *whole* text (no special tokens), so that what
each strategy keeps can be checked token by token:

* :func:`truncate_ids` keeps the ``head`` (the first tokens), the ``tail`` (the last ones) or
  ``head+tail`` (a few first tokens and the rest from the end, as Sun et al. 2019, "How to fine-tune
  BERT for text classification", found best on long reviews);
* :func:`window_starts` / :func:`chunk_ids` cut the text into windows of ``max_length - 2`` tokens whose
  starts are ``stride`` tokens apart (so consecutive windows overlap by ``window - stride`` tokens) and
  the last window reaches the end of the text: every token is read at least once;
* :func:`predict_truncated` and :func:`predict_windows` classify, and report the **cost**: the number of
  tokens the model processed (special tokens included). The window prediction of a text is the **mean of
  its windows' class probabilities** by default (``aggregate="mean_probs"``), or the mean of the logits
  (``"mean_logits"``), or the element-wise maximum of the probabilities (``"max_probs"``), renormalised.

Devices follow the book's rule (:mod:`helpers.evaluate`): the predictors run where the model is, or on ``device``
when one is given (the model is moved there, in place), with bf16/fp16 autocast on a GPU and fp32 on a CPU;
probabilities and window logits come back on the CPU.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch

from .env import best_precision
from .evaluate import predict_logits, prediction_device

STRATEGIES = ("head", "tail", "head+tail")
AGGREGATES = ("mean_probs", "mean_logits", "max_probs")
SPECIAL_TOKENS = 2  # [CLS] ... [SEP]


@dataclass
class LongTextPredictions:
    """Predicted class ids and probabilities per text, and what it cost.

    ``tokens`` is the number of token positions the model processed for each text (special tokens included,
    no padding), ``chunks`` the number of model inputs per text (1 for truncation).
    """

    labels: np.ndarray
    probs: np.ndarray
    tokens: np.ndarray
    chunks: np.ndarray
    chunk_logits: torch.Tensor | None = None  # window predictions only: (windows, classes), grouped by text
    owner: np.ndarray | None = None  # window predictions only: the text each window belongs to

    def reaggregate(self, aggregate: str) -> "LongTextPredictions":
        """The same windows combined another way (no new model calls)."""
        if self.chunk_logits is None or self.owner is None:
            raise ValueError("Only predictions from predict_windows keep their windows' logits.")
        probs = _aggregate_all(self.chunk_logits, self.owner, aggregate)
        return LongTextPredictions(probs.argmax(axis=1), probs, self.tokens, self.chunks, self.chunk_logits, self.owner)

    @property
    def total_tokens(self) -> int:
        return int(self.tokens.sum())


def content_budget(max_length: int) -> int:
    """How many text tokens fit in one input of ``max_length`` positions once [CLS] and [SEP] are added."""
    if max_length <= SPECIAL_TOKENS:
        raise ValueError(
            f"max_length must be more than {SPECIAL_TOKENS} ([CLS] and [SEP] take two positions), got {max_length}."
        )
    return max_length - SPECIAL_TOKENS


def tokenize_full(tokenizer, texts: Sequence[str]) -> list[list[int]]:
    """The WordPiece ids of every whole text, without special tokens and without truncation."""
    if isinstance(texts, str):
        raise TypeError("texts must be a list of strings, not one string: wrap it as [text].")
    texts = list(texts)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise TypeError(f"texts must be strings; item {bad[0]} is {type(texts[bad[0]]).__name__}.")
    if not texts:
        return []
    return tokenizer(texts, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]


def truncate_ids(ids: Sequence[int], budget: int, strategy: str = "head", head_tokens: int | None = None) -> list[int]:
    """At most ``budget`` of ``ids``: the first ones (``head``), the last ones (``tail``), or ``head_tokens``
    first ones followed by ``budget - head_tokens`` last ones (``head+tail``; default a quarter of the budget
    from the head, the split Sun et al. used: 128 + 382 of 510). A text that fits is returned whole."""
    if strategy not in STRATEGIES:
        raise ValueError(f"Unknown strategy {strategy!r}; use one of {', '.join(STRATEGIES)}.")
    if budget < 1:
        raise ValueError(f"budget must be at least 1 token, got {budget}.")
    ids = list(ids)
    if len(ids) <= budget:
        return ids
    if strategy == "head":
        return ids[:budget]
    if strategy == "tail":
        return ids[len(ids) - budget :]
    head = budget // 4 if head_tokens is None else head_tokens
    if not 0 <= head <= budget:
        raise ValueError(f"head_tokens must be between 0 and the budget ({budget}), got {head}.")
    return ids[:head] + ids[len(ids) - (budget - head) :]


def window_starts(n_tokens: int, window: int, stride: int) -> list[int]:
    """Start positions of the windows over ``n_tokens`` tokens: 0, stride, 2*stride, ... until a window
    reaches the end. Consecutive windows overlap by ``window - stride`` tokens; an empty text has one window."""
    if window < 1:
        raise ValueError(f"window must be at least 1 token, got {window}.")
    if not 1 <= stride <= window:
        raise ValueError(
            f"stride must be between 1 and the window ({window}); got {stride}. A stride larger than "
            "the window would skip tokens."
        )
    starts = [0]
    while starts[-1] + window < n_tokens:
        starts.append(starts[-1] + stride)
    return starts


def chunk_ids(ids: Sequence[int], window: int, stride: int) -> list[list[int]]:
    """``ids`` cut into windows of at most ``window`` tokens, starting every ``stride`` tokens (see
    :func:`window_starts`); the last window may be shorter."""
    ids = list(ids)
    return [ids[s : s + window] for s in window_starts(len(ids), window, stride)]


def with_special_tokens(tokenizer, ids: Sequence[int]) -> list[int]:
    """``[CLS] ids [SEP]``, with the tokenizer's own ids for the two special tokens."""
    if tokenizer.cls_token_id is None or tokenizer.sep_token_id is None:
        raise ValueError(
            "This tokenizer has no [CLS]/[SEP] tokens; helpers.long_text is written for BERT-style models."
        )
    return [tokenizer.cls_token_id, *ids, tokenizer.sep_token_id]


def _pad(rows: list[list[int]], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
    return ids, torch.tensor([len(r) for r in rows], dtype=torch.long)


def _logits(model, tokenizer, rows: list[list[int]], batch_size: int, device=None) -> torch.Tensor:
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    ids, lengths = _pad(rows, pad_id)
    device = prediction_device(model, device)
    precision = best_precision(device.type)  # fp32 on a CPU, bf16/fp16 autocast on a GPU
    return predict_logits(model, ids, lengths, batch_size=batch_size, precision=precision, device=device)


def truncated_inputs(
    tokenizer, texts: Sequence[str], max_length: int, strategy: str = "head", head_tokens: int | None = None
) -> list[list[int]]:
    """One model input per text (with [CLS] and [SEP]), cut to ``max_length`` by ``strategy``."""
    budget = content_budget(max_length)
    return [
        with_special_tokens(tokenizer, truncate_ids(ids, budget, strategy, head_tokens))
        for ids in tokenize_full(tokenizer, texts)
    ]


def window_inputs(tokenizer, text: str, max_length: int, stride: int) -> list[list[int]]:
    """The model inputs of one text under the sliding window: ``[CLS] chunk [SEP]`` per window."""
    window = content_budget(max_length)
    (ids,) = tokenize_full(tokenizer, [text])
    return [with_special_tokens(tokenizer, c) for c in chunk_ids(ids, window, stride)]


def predict_truncated(
    model,
    tokenizer,
    texts: Sequence[str],
    *,
    max_length: int = 512,
    strategy: str = "head",
    head_tokens: int | None = None,
    batch_size: int = 32,
    device: str | torch.device | None = None,
) -> LongTextPredictions:
    """Classify each text from one truncated input (see :func:`truncate_ids`). ``device``: where to run the
    model (it is moved there); ``None`` runs it where it is."""
    rows = truncated_inputs(tokenizer, texts, max_length, strategy, head_tokens)
    if not rows:
        raise ValueError("No texts to classify.")
    probs = torch.softmax(_logits(model, tokenizer, rows, batch_size, device), dim=-1).numpy()
    return LongTextPredictions(
        labels=probs.argmax(axis=1),
        probs=probs,
        tokens=np.array([len(r) for r in rows]),
        chunks=np.ones(len(rows), dtype=int),
    )


def aggregate_windows(logits: torch.Tensor, aggregate: str = "mean_probs") -> torch.Tensor:
    """One probability vector from the ``(windows, classes)`` logits of one text."""
    if aggregate not in AGGREGATES:
        raise ValueError(f"Unknown aggregate {aggregate!r}; use one of {', '.join(AGGREGATES)}.")
    if logits.ndim != 2 or len(logits) == 0:
        raise ValueError(f"logits must be a non-empty (windows, classes) matrix, got shape {tuple(logits.shape)}.")
    if aggregate == "mean_logits":
        return torch.softmax(logits.mean(dim=0), dim=-1)
    probs = torch.softmax(logits, dim=-1)
    if aggregate == "mean_probs":
        return probs.mean(dim=0)
    top = probs.max(dim=0).values
    return top / top.sum()


def predict_windows(
    model,
    tokenizer,
    texts: Sequence[str],
    *,
    max_length: int = 512,
    stride: int | None = None,
    aggregate: str = "mean_probs",
    batch_size: int = 32,
    device: str | torch.device | None = None,
) -> LongTextPredictions:
    """Classify each text from all its windows (``max_length`` positions each, starts ``stride`` tokens apart;
    default: half a window, so windows overlap by half) and aggregate the windows' predictions. ``device``:
    where to run the model (it is moved there); ``None`` runs it where it is."""
    if aggregate not in AGGREGATES:
        raise ValueError(f"Unknown aggregate {aggregate!r}; use one of {', '.join(AGGREGATES)}.")
    window = content_budget(max_length)
    stride = max(1, window // 2) if stride is None else stride
    rows, owner = [], []
    for i, ids in enumerate(tokenize_full(tokenizer, texts)):
        for c in chunk_ids(ids, window, stride):
            rows.append(with_special_tokens(tokenizer, c))
            owner.append(i)
    if not rows:
        raise ValueError("No texts to classify.")
    logits = _logits(model, tokenizer, rows, batch_size, device)
    owner_arr = np.array(owner)
    n = owner_arr.max() + 1
    probs = _aggregate_all(logits, owner_arr, aggregate)
    tokens = np.bincount(owner_arr, weights=[len(r) for r in rows], minlength=n).astype(int)
    return LongTextPredictions(
        labels=probs.argmax(axis=1),
        probs=probs,
        tokens=tokens,
        chunks=np.bincount(owner_arr, minlength=n),
        chunk_logits=logits,
        owner=owner_arr,
    )


def _aggregate_all(logits: torch.Tensor, owner: np.ndarray, aggregate: str) -> np.ndarray:
    return np.stack(
        [
            aggregate_windows(logits[torch.from_numpy(owner == i)], aggregate).numpy()
            for i in range(int(owner.max()) + 1)
        ]
    )
