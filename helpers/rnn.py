"""A small recurrent text classifier trained from scratch (chapter 6: why Transformers rather than RNNs?).

:class:`BiLSTMClassifier` reads the same WordPiece token ids as BERT, but learns its embeddings from
nothing: embedding -> bidirectional LSTM -> max over time -> dropout -> linear. :func:`train_rnn` is a short,
plain training loop (Adam, shuffled mini-batches, evaluation after every epoch, the best epoch kept), and
:func:`encode` / :func:`predict_rnn` turn texts into ids and logits.

Devices follow the book's rule (:mod:`helpers.evaluate`): :func:`train_rnn` runs on ``device`` or, by default,
:func:`helpers.env.detect_device` (the GPU when there is one), and moves the model there in place;
:func:`predict_rnn` runs where the model is unless given a ``device``. The data may live anywhere: each batch is
copied to the device. Logits and histories come back on the CPU.
"""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .evaluate import accuracy_and_f1, encode_texts, prediction_device, training_device
from .models import count_parameters  # noqa: F401  (chapter 6 calls rnn.count_parameters)


class BiLSTMClassifier(nn.Module):
    """Embedding (trained from scratch) -> one bidirectional LSTM layer -> max-pool over tokens -> linear."""

    def __init__(self, vocab_size: int, num_labels: int, *, embed_dim: int = 128, hidden: int = 128,
                 dropout: float = 0.3, pad_id: int = 0):
        super().__init__()
        if vocab_size < 2 or num_labels < 2:
            raise ValueError(f"Need a vocabulary of at least 2 and at least 2 classes, got {vocab_size}, {num_labels}.")
        self.pad_id = pad_id
        self.embed = nn.Embedding(vocab_size, embed_dim, padding_idx=pad_id)
        self.lstm = nn.LSTM(embed_dim, hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.out = nn.Linear(2 * hidden, num_labels)

    def forward(self, input_ids: torch.Tensor, lengths: torch.Tensor) -> torch.Tensor:
        """Logits ``(batch, num_labels)`` for right-padded ``input_ids`` with true ``lengths``."""
        if (lengths < 1).any():
            raise ValueError("Every text needs at least one token (lengths must be >= 1).")
        packed = pack_padded_sequence(self.embed(input_ids), lengths.cpu(), batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)  # packing: the backward direction starts at each text's real last token
        out, _ = pad_packed_sequence(out, batch_first=True, padding_value=float("-inf"))
        return self.out(self.dropout(out.max(dim=1).values))


def encode(tokenizer, texts: list[str], max_length: int = 128) -> tuple[torch.Tensor, torch.Tensor]:
    """The WordPiece ids (with [CLS]/[SEP], right-padded) and lengths, exactly as the BERT chapters encode."""
    return encode_texts(tokenizer, texts, max_length)


@torch.no_grad()
def predict_rnn(model: nn.Module, input_ids: torch.Tensor, lengths: torch.Tensor, batch_size: int = 256, *,
                device: str | torch.device | None = None) -> torch.Tensor:
    """Logits for all rows, in order, as a CPU tensor (evaluation mode, restored afterwards).

    ``device``: where to run (the model is moved there); ``None`` runs where the model is.
    """
    device = prediction_device(model, device)
    was = model.training
    model.eval()
    try:
        out = []
        for i in range(0, len(lengths), batch_size):
            lens = lengths[i:i + batch_size]
            width = int(lens.max())
            out.append(model(input_ids[i:i + batch_size, :width].to(device), lens.to(device)).float())
    finally:
        model.train(was)
    return torch.cat(out).cpu() if out else torch.empty(0, model.out.out_features)


@dataclass
class RNNResult:
    """The trained model (its best epoch on the evaluation data), one history row per epoch, and the time."""

    model: nn.Module
    history: pd.DataFrame
    seconds: float


def train_rnn(model: nn.Module, train: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
              eval: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None, *, epochs: int = 5,
              batch_size: int = 32, lr: float = 2e-3, seed: int = 0, keep_best: bool = True,
              device: str | torch.device | None = None) -> RNNResult:
    """Train with Adam and cross-entropy on ``train = (ids, lengths, labels)``; evaluate on ``eval`` each epoch.

    ``device``: where to train (default :func:`helpers.env.detect_device`); the model is moved there in place
    and the data copied there once. The returned history holds plain numbers.
    """
    ids, lengths, labels = train
    if not len(ids) == len(lengths) == len(labels) or len(ids) == 0:
        raise ValueError(f"train needs equally many ids, lengths and labels, and at least one: {len(ids)}, "
                         f"{len(lengths)}, {len(labels)}.")
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be at least 1, got {epochs} and {batch_size}.")
    device = training_device(device)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model.to(device)
    ids, lengths, labels = ids.to(device), lengths.cpu(), labels.to(device)  # lengths stay for the host's widths
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    start = time.perf_counter()
    rows, best, best_state = [], -1.0, None
    for epoch in range(epochs):
        model.train()
        losses = []
        order = torch.from_numpy(rng.permutation(len(ids)))
        for i in range(0, len(ids), batch_size):
            rows_b = order[i:i + batch_size]
            width = int(lengths[rows_b].max())
            rows_d = rows_b.to(device)
            loss = F.cross_entropy(model(ids[rows_d, :width], lengths[rows_b].to(device)), labels[rows_d])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            losses.append(loss.item())
        row = {"epoch": epoch + 1, "train_loss": float(np.mean(losses)), "seconds": time.perf_counter() - start}
        if eval is not None:
            preds = predict_rnn(model, eval[0], eval[1], device=device).argmax(-1).numpy()
            row.update({f"eval_{k}": v for k, v in accuracy_and_f1(eval[2].cpu().numpy(), preds).items()})
            if keep_best and row["eval_accuracy"] > best:
                best, best_state = row["eval_accuracy"], copy.deepcopy(model.state_dict())
        rows.append(row)
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    return RNNResult(model=model, history=pd.DataFrame(rows), seconds=time.perf_counter() - start)
