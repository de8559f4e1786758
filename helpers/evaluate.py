"""Predictions and metrics: what a fine-tuned classifier says about texts, and how good that is.

Chapter 4 uses :func:`predict` and :func:`accuracy_and_f1` to score the model that :func:`helpers.train`
returns; chapter 5 extends this module (confusion matrix, calibration, error analysis).

:func:`predict` is fast for the same reasons as the training loop: it tokenises all texts at once,
sorts them by length so that each batch is padded only to its own longest text, runs the batches
under ``torch.inference_mode`` (and autocast on a GPU), keeps the logits on the device until the
end (one copy back, no synchronisation per batch), and puts the answers back in the input order.
"""

from __future__ import annotations

import contextlib
import math
from typing import NamedTuple, Sequence

import numpy as np
import torch

from .env import best_precision

AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


class Predictions(NamedTuple):
    """What :func:`predict` returns: one predicted class id per text and the class probabilities."""

    labels: np.ndarray  # shape (n,), int
    probs: np.ndarray  # shape (n, num_labels), float32, rows sum to 1


def model_device(model) -> torch.device:
    """The device that holds the model's weights."""
    return next(model.parameters()).device


def autocast_for(device: torch.device | str, precision: str):
    """An autocast context for ``bf16``/``fp16`` on a GPU, or a context that does nothing (``fp32``)."""
    device = torch.device(device)
    if precision in AUTOCAST_DTYPES and device.type != "cpu":
        return torch.autocast(device.type, dtype=AUTOCAST_DTYPES[precision])
    if precision in AUTOCAST_DTYPES:  # asked for explicitly on a CPU: allowed, though usually slower
        return torch.autocast("cpu", dtype=AUTOCAST_DTYPES[precision])
    return contextlib.nullcontext()


def encode_texts(tokenizer, texts: Sequence[str], max_length: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Tokenise every text once: a right-padded ``(n, longest)`` tensor of token ids and the true lengths.

    The padded matrix is only storage: each batch is later cut to its own longest text.
    """
    if len(texts) == 0:
        return torch.zeros(0, 0, dtype=torch.long), torch.zeros(0, dtype=torch.long)
    if getattr(tokenizer, "padding_side", "right") != "right":
        raise ValueError("This tokenizer pads on the left; set tokenizer.padding_side = 'right' for BERT-style models.")
    enc = tokenizer(list(texts), truncation=True, max_length=max_length, padding="longest", return_tensors="pt")
    # padding="longest" pads to the longest text of all, on the right; the mask's row sums are the lengths
    return enc["input_ids"].long(), enc["attention_mask"].sum(dim=1).long()


def attention_mask(lengths: torch.Tensor, width: int) -> torch.Tensor:
    """1 for real tokens, 0 for padding: built from lengths on the device, never stored."""
    return (torch.arange(width, device=lengths.device)[None, :] < lengths[:, None]).long()


def predict_logits(model, input_ids: torch.Tensor, lengths: torch.Tensor, *, batch_size: int = 64,
                   precision: str = "fp32") -> torch.Tensor:
    """Logits (float32, on the CPU, in input order) for pre-tokenised inputs, batched by length.

    ``input_ids`` is right-padded and ``lengths`` gives each row's real length (see :func:`encode_texts`).
    On a CUDA out-of-memory error the batch size is halved and the pass restarts.
    """
    device = model_device(model)
    n = len(lengths)
    num_labels = model.config.num_labels
    if n == 0:
        return torch.empty(0, num_labels)
    order = torch.argsort(lengths, descending=True, stable=True)  # longest first: an OOM shows up at once
    widths = lengths[order].tolist()
    ids_dev = input_ids.to(device, non_blocking=True)
    len_dev = lengths.to(device, non_blocking=True)
    order_dev = order.to(device, non_blocking=True)
    was_training = model.training
    model.eval()
    try:
        while True:
            try:
                chunks = []
                with torch.inference_mode(), autocast_for(device, precision):
                    for start in range(0, n, batch_size):
                        rows = order_dev[start:start + batch_size]
                        width = widths[start]  # the longest in this batch, known on the host
                        out = model(input_ids=ids_dev[rows, :width],
                                    attention_mask=attention_mask(len_dev[rows], width))
                        chunks.append(out.logits.float())
                break
            except torch.OutOfMemoryError:
                if batch_size == 1 or device.type != "cuda":
                    raise
                batch_size = max(1, batch_size // 2)
                torch.cuda.empty_cache()
                print(f"Out of GPU memory while predicting: retrying with batch size {batch_size}.")
        sorted_logits = torch.cat(chunks)
        logits = torch.empty_like(sorted_logits)
        logits[order_dev] = sorted_logits  # back to the input order
        return logits.cpu()
    finally:
        model.train(was_training)


def default_batch_size(device: torch.device | str) -> int:
    """Inference batch size: large on a GPU (launch overhead dominates short texts), moderate on a CPU."""
    return 256 if torch.device(device).type == "cuda" else 64


def predict(model, tokenizer, texts: Sequence[str] | str, *, batch_size: int | None = None,
            max_length: int | None = None, precision: str = "auto") -> Predictions:
    """Classify texts: the predicted class ids and the probabilities of every class, in the input order.

    ``max_length`` defaults to the model's limit (512 for BERT), so nothing is cut that need not be;
    sorting by length keeps short texts cheap. ``precision="auto"`` uses bf16/fp16 autocast on a GPU
    and fp32 on a CPU.
    """
    if isinstance(texts, str):
        texts = [texts]
    texts = list(texts)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise TypeError(f"predict needs strings; item {bad[0]} is {type(texts[bad[0]]).__name__}.")
    device = model_device(model)
    if precision == "auto":
        precision = best_precision(device.type)
    if max_length is None:
        max_length = model_max_length(model, tokenizer)
    ids, lengths = encode_texts(tokenizer, texts, max_length)
    logits = predict_logits(model, ids, lengths, batch_size=batch_size or default_batch_size(device),
                            precision=precision)
    probs = torch.softmax(logits, dim=-1)
    return Predictions(labels=probs.argmax(dim=-1).numpy(), probs=probs.numpy())


def model_max_length(model, tokenizer=None) -> int:
    """The longest input the model takes (its position embeddings), also bounded by the tokenizer's limit."""
    limit = getattr(model.config, "max_position_embeddings", 512) or 512
    tok_limit = getattr(tokenizer, "model_max_length", None) if tokenizer is not None else None
    if tok_limit and tok_limit < 10**6:  # tokenizers without a limit report a huge sentinel value
        limit = min(limit, int(tok_limit))
    return int(limit)


def accuracy_and_f1(labels, preds) -> dict[str, float]:
    """Accuracy and macro-F1 (every class counts the same, however rare), with scikit-learn."""
    from sklearn.metrics import accuracy_score, f1_score

    labels, preds = np.asarray(labels), np.asarray(preds)
    if len(labels) != len(preds):
        raise ValueError(f"{len(labels)} labels but {len(preds)} predictions.")
    if len(labels) == 0:
        return {"accuracy": math.nan, "f1": math.nan}
    return {"accuracy": float(accuracy_score(labels, preds)),
            "f1": float(f1_score(labels, preds, average="macro", zero_division=0))}
