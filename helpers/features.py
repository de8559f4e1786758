"""Feature extraction against fine-tuning (chapter 4, §4.6): a frozen encoder's vectors, and partial fine-tuning.

* :func:`encode_features` - one vector per text from a frozen encoder: the final ``[CLS]`` vector, or the mean of
  the real tokens' final vectors (the pooling all-MiniLM-L6-v2 was trained with), for a classifier such as
  logistic regression on top;
* :func:`freeze_all_but_top` - freeze a BERT classifier except its top ``k`` encoder layers, the pooler and the
  head, so that :func:`helpers.train` updates only those (it optimises the trainable parameters only).

Devices follow the book's rule: :func:`encode_features` runs where the model is (or on ``device``, moving the
model there), and returns NumPy arrays on the CPU.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch

POOLINGS = ("cls", "mean")


def _encoder(model):
    """The BERT encoder of a ``BertForSequenceClassification`` (or the ``BertModel`` itself)."""
    encoder = getattr(model, "base_model", model)
    if not hasattr(encoder, "encoder") or not hasattr(encoder.encoder, "layer"):
        raise TypeError(f"Expected a BERT-style model with .encoder.layer, got {type(model).__name__}.")
    return encoder


def mean_pool(hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """The mean of each row's final vectors over its real tokens (``attention_mask == 1``; [CLS], [SEP] included)."""
    mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1.0)


def encode_features(
    model,
    tokenizer,
    texts: Sequence[str],
    pooling: str | Sequence[str] = "cls",
    *,
    batch_size: int = 64,
    max_length: int | None = None,
    device: str | torch.device | None = None,
) -> np.ndarray | dict[str, np.ndarray]:
    """Vectors of ``texts`` from the frozen encoder of ``model``, in the input order (chapter 4's feature extraction).

    ``pooling="cls"``: the final hidden vector of ``[CLS]`` (before the pooler); ``"mean"``: the mean over real
    tokens. A sequence such as ``("cls", "mean")`` returns a dict of both from one pass. Texts are sorted by length
    so that each batch is padded only to its own longest text; no gradients are kept and the model's train/eval
    mode is restored afterwards.
    """
    names = (pooling,) if isinstance(pooling, str) else tuple(pooling)
    unknown = [p for p in names if p not in POOLINGS]
    if not names or unknown:
        raise ValueError(f"pooling must be one of {', '.join(POOLINGS)} (or a sequence of them); got {pooling!r}.")
    texts = list(texts)
    if not texts or not all(isinstance(t, str) for t in texts):
        raise ValueError("texts must be a non-empty list of strings.")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    encoder = _encoder(model)
    if device is not None:
        encoder.to(device)
    where = next(encoder.parameters()).device
    limit = max_length or tokenizer.model_max_length
    order = np.argsort([len(t) for t in texts], kind="stable")
    out = {p: np.zeros((len(texts), encoder.config.hidden_size), dtype=np.float32) for p in names}
    was_training = encoder.training
    encoder.eval()
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            batch = tokenizer(
                [texts[i] for i in rows], padding=True, truncation=True, max_length=limit, return_tensors="pt"
            ).to(where)
            hidden = encoder(**batch).last_hidden_state.float()
            for p in names:
                vectors = hidden[:, 0] if p == "cls" else mean_pool(hidden, batch["attention_mask"])
                out[p][rows] = vectors.cpu().numpy()
    encoder.train(was_training)
    return out[names[0]] if isinstance(pooling, str) else out


def freeze_all_but_top(model, k: int):
    """Freeze every parameter of ``model`` except its top ``k`` encoder layers, the pooler and the classifier head.

    Chapter 4 fine-tunes the top two layers this way and compares it with full fine-tuning and with a frozen
    encoder. Works in place and returns the model; ``k=0`` leaves only the pooler and the head trainable.
    """
    encoder = _encoder(model)
    layers = encoder.encoder.layer
    if not isinstance(k, int) or not 0 <= k <= len(layers):
        raise ValueError(f"k must be a whole number of layers from 0 to {len(layers)}, got {k!r}.")
    for p in model.parameters():
        p.requires_grad = False
    top = list(layers)[len(layers) - k :] if k else []
    unfrozen = top + [m for m in (getattr(encoder, "pooler", None),) if m is not None]
    unfrozen += [m for name, m in model.named_children() if m is not encoder and name != "dropout"]
    for module in unfrozen:
        for p in module.parameters():
            p.requires_grad = True
    return model
