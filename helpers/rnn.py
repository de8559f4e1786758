"""A small recurrent text classifier trained from scratch (chapter 6: why Transformers rather than RNNs?).

:class:`BiLSTMClassifier` reads the same WordPiece token ids as BERT, but learns its embeddings from
nothing: embedding -> bidirectional LSTM -> max over time -> dropout -> linear. :func:`train_rnn` is a short,
plain training loop (Adam at a constant rate, shuffled mini-batches, evaluation after every epoch, the best epoch
kept) built from :func:`helpers.train`'s parts, returning its :class:`helpers.training.TrainResult`, and
:func:`encode` / :func:`predict_rnn` turn texts into ids and logits.

Devices follow the book's rule (:mod:`helpers.evaluate`): :func:`train_rnn` runs on ``device`` or, by default,
:func:`helpers.env.detect_device` (the GPU when there is one), and moves the model there in place;
:func:`predict_rnn` runs where the model is unless given a ``device``. The data may live anywhere: each batch is
copied to the device. Logits and histories come back on the CPU.
"""

from __future__ import annotations

import math
import time
from functools import partial

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from .evaluate import accuracy_and_f1, encode_texts, prediction_device, training_device
from .models import count_parameters  # noqa: F401  (chapter 6 calls rnn.count_parameters)
from .training import LoopRecorder, LoopState, LossLog, Progress, TrainResult, make_optimizer, make_scheduler


class BiLSTMClassifier(nn.Module):
    """Embedding (trained from scratch) -> one bidirectional LSTM layer -> max-pool over tokens -> linear."""

    def __init__(
        self,
        vocab_size: int,
        num_labels: int,
        *,
        embed_dim: int = 128,
        hidden: int = 128,
        dropout: float = 0.3,
        pad_id: int = 0,
    ):
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
def predict_rnn(
    model: nn.Module,
    input_ids: torch.Tensor,
    lengths: torch.Tensor,
    batch_size: int = 256,
    *,
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """Logits for all rows, in order, as a CPU tensor (evaluation mode, restored afterwards).

    ``device``: where to run (the model is moved there); ``None`` runs where the model is.
    """
    device = prediction_device(model, device)
    was = model.training
    model.eval()
    try:
        out = []
        for i in range(0, len(lengths), batch_size):
            lens = lengths[i : i + batch_size]
            width = int(lens.max())
            out.append(model(input_ids[i : i + batch_size, :width].to(device), lens.to(device)).float())
    finally:
        model.train(was)
    return torch.cat(out).cpu() if out else torch.empty(0, model.out.out_features)


def train_rnn(
    model: nn.Module,
    train: tuple[torch.Tensor, torch.Tensor, torch.Tensor],
    eval: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None,
    *,
    epochs: int = 5,
    batch_size: int = 32,
    lr: float = 2e-3,
    weight_decay: float = 0.0,
    schedule: str = "constant",
    warmup_ratio: float = 0.0,
    seed: int = 0,
    keep_best: bool = True,
    progress: bool = True,
    log_every: int = 20,
    device: str | torch.device | None = None,
) -> TrainResult:
    """Train with cross-entropy on ``train = (ids, lengths, labels)``; evaluate on ``eval`` after every epoch.

    The optimiser, schedule, progress bar and loss log are :func:`helpers.train`'s
    (:func:`helpers.training.make_optimizer`, :func:`helpers.training.make_scheduler`): AdamW, here without weight
    decay, which is Adam, at a constant rate by default. Returns a :class:`helpers.training.TrainResult` with the
    same ``history`` (one row per epoch: train_loss, eval_loss, eval_accuracy, eval_f1, throughput, ...) and
    ``steps`` columns; with ``keep_best`` the model ends with the weights of its best epoch (by eval accuracy).
    ``device``: where to train (default :func:`helpers.env.detect_device`); the model is moved there in place
    and the data copied there once. The history holds plain numbers.
    """
    ids, lengths, labels = train
    if not len(ids) == len(lengths) == len(labels) or len(ids) == 0:
        raise ValueError(
            f"train needs equally many ids, lengths and labels, and at least one: {len(ids)}, "
            f"{len(lengths)}, {len(labels)}."
        )
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be at least 1, got {epochs} and {batch_size}.")
    started, device = time.perf_counter(), training_device(device)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model.to(device)
    ids, lengths, labels = ids.to(device), lengths.cpu(), labels.to(device)  # lengths stay for the host's widths
    steps_per_epoch = math.ceil(len(ids) / batch_size)
    optimizer = make_optimizer(model, lr, weight_decay, device)
    scheduler = make_scheduler(optimizer, epochs * steps_per_epoch, warmup_ratio, schedule)
    loop, log, rows, bar = (
        LoopState(grad_accum=1),
        LossLog(log_every),
        LoopRecorder(device),
        Progress(progress, "accuracy"),
    )
    try:
        while loop.epoch < epochs:
            model.train()
            epoch, order = loop.epoch, torch.from_numpy(rng.permutation(len(ids)))
            bar.start(steps_per_epoch, 0, f"epoch {epoch + 1}/{epochs}")
            for i in range(0, len(ids), batch_size):
                rows_b = order[i : i + batch_size]
                lens = lengths[rows_b]
                width, rows_d = int(lens.max()), rows_b.to(device)
                step_lr = scheduler.get_last_lr()[0]
                loss = F.cross_entropy(model(ids[rows_d, :width], lens.to(device)), labels[rows_d])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                loop.count_step(lens.numpy(), len(lens) * width, steps_per_epoch)
                bar.update()
                if log.add(loop.step, epoch + 1, step_lr, loss.detach()):
                    log.flush(loop)
                    bar.show_loss(loop.steps[-1]["loss"], rows.rate(loop))
            log.flush(loop)
            evaluate = partial(_scores, model, eval, device) if eval is not None else None
            row = rows.record(loop, epoch + 1, scheduler.get_last_lr()[0], evaluate)
            rows.keep_if_best(loop, row, "eval_accuracy", model=model if keep_best else None)
            bar.show_row(row)
            bar.close()
    finally:
        bar.close()
    if keep_best and loop.best_weights is not None:
        model.load_state_dict(loop.best_weights)
    model.eval()
    config = {
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "weight_decay": weight_decay,
        "schedule": schedule,
        "warmup_ratio": warmup_ratio,
        "seed": seed,
        "device": str(device),
    }
    return rows.result(model, loop, config, started)


def _scores(model: nn.Module, data: tuple[torch.Tensor, torch.Tensor, torch.Tensor], device) -> dict[str, float]:
    """Loss, accuracy and macro-F1 on ``data = (ids, lengths, labels)`` (the ``eval_`` columns of the history)."""
    logits, labels = predict_rnn(model, data[0], data[1], device=device), data[2].cpu()
    return {
        "loss": float(F.cross_entropy(logits, labels)),
        **accuracy_and_f1(labels.numpy(), logits.argmax(-1).numpy()),
    }
