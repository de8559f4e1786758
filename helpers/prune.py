"""Magnitude pruning of the encoder: the smallest weights set to zero, and what that does and does not buy.

Chapter 6, §6.8, prunes the fine-tuned model next to int8 quantisation and distillation. :func:`prune_encoder`
takes a copy of the model and zeroes the given share of the weights of the encoder's linear layers (the attention
projections and the feed-forward layers), choosing the smallest by absolute value across all of them at once
(global unstructured L1 pruning with :mod:`torch.nn.utils.prune`). :func:`encoder_sparsity` measures the share of
zeros. The embeddings, the pooler and the classification head are left alone.

Unstructured zeros keep the matrices' shapes: the dense kernels of a CPU or GPU multiply the zeros like any other
number, so the model is neither faster nor smaller on disk unless it is stored in a sparse format or run by a sparse
kernel. Structured pruning (whole heads or neurons) is what shrinks the matrices.
"""

from __future__ import annotations

import copy

import torch
from torch import nn
from torch.nn.utils import prune


def encoder_linears(model: nn.Module) -> list[tuple[str, nn.Linear]]:
    """The ``nn.Linear`` layers inside the model's transformer encoder (names containing ``encoder.``), by name."""
    found = [(name, m) for name, m in model.named_modules() if isinstance(m, nn.Linear) and "encoder." in f"{name}."]
    if not found:
        raise ValueError(
            "No linear layer inside an 'encoder' module was found: prune_encoder expects a BERT-style "
            "model (for example from helpers.load_model), not a quantised or RNN model."
        )
    return found


def prune_encoder(model: nn.Module, amount: float) -> nn.Module:
    """A copy of ``model`` with the ``amount`` share of its encoder's linear weights (the smallest) set to zero.

    Global unstructured magnitude pruning: one threshold for all the encoder's weight matrices, so layers with
    many small weights lose more. The pruning is made permanent (no masks left behind), and ``model`` itself is
    not changed. Biases are not pruned.
    """
    if not 0 <= amount < 1:
        raise ValueError(f"amount must be the share of weights to remove, in [0, 1), got {amount}.")
    pruned = copy.deepcopy(model)
    layers = encoder_linears(pruned)
    if amount > 0:
        targets = [(m, "weight") for _, m in layers]
        prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=float(amount))
        for m, name in targets:
            prune.remove(m, name)
    return pruned


@torch.no_grad()
def encoder_sparsity(model: nn.Module) -> float:
    """The share of exact zeros among the weights of the encoder's linear layers."""
    layers = encoder_linears(model)
    zeros = sum(int((m.weight == 0).sum()) for _, m in layers)
    return zeros / sum(m.weight.numel() for _, m in layers)
