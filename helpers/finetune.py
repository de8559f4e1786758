"""Small, tested pieces behind chapter 4's explanations of fine-tuning.

* :func:`cross_entropy_by_hand` - the classification loss written out from its formula;
* :func:`choose_max_length` - ``max_length`` from the measured token lengths instead of 512 by habit;
* :func:`random_batches`, :func:`padding_fraction` - how much of a batch is padding, for random
  batches, length-bucketed batches or a fixed width;
* :func:`adamw_step_seconds` - the time of one AdamW step, fused or not;
* :class:`stopwatch` - wall time of a block of code.

Devices follow the book's rule (:mod:`helpers.evaluate`): :func:`adamw_step_seconds` times a copy of the model
where the model is, or on ``device`` when one is given (only the copy moves).
"""

from __future__ import annotations

import copy
import math
import time
from typing import Sequence

import numpy as np
import torch


def cross_entropy_by_hand(logits, labels) -> torch.Tensor:
    r"""Mean cross-entropy :math:`-\frac{1}{N}\sum_i \log \mathrm{softmax}(z_i)_{y_i}`, written out.

    Written in chapter 4, §4.2 (the loss computed once by hand, checked against the model's).

    ``logits`` is ``(N, C)``, ``labels`` holds N class ids. The log of the softmax is computed as
    :math:`z_{i,y_i} - \log\sum_c e^{z_{i,c}}` (the log-sum-exp form, which never overflows), so the result
    equals ``torch.nn.functional.cross_entropy(logits, labels)``.
    """
    logits = torch.as_tensor(logits, dtype=torch.float64 if not torch.is_tensor(logits) else None)
    labels = torch.as_tensor(labels)
    if logits.ndim != 2:
        raise ValueError(f"logits must have shape (N, classes), got {tuple(logits.shape)}.")
    if labels.ndim != 1 or len(labels) != len(logits):
        raise ValueError(
            f"labels must hold one class id per row of logits ({len(logits)}), got shape {tuple(labels.shape)}."
        )
    if len(labels) == 0:
        raise ValueError("There are no examples: the mean loss of zero examples is undefined.")
    if labels.dtype.is_floating_point or labels.min() < 0 or labels.max() >= logits.shape[1]:
        raise ValueError(f"labels must be integer class ids in 0..{logits.shape[1] - 1}, got {labels.tolist()[:10]}.")
    top = logits.max(dim=1, keepdim=True).values  # subtract the row maximum: exp() cannot overflow
    log_norm = top.squeeze(1) + torch.log(torch.exp(logits - top).sum(dim=1))
    log_p_true = logits[torch.arange(len(labels)), labels.long()] - log_norm
    return -log_p_true.mean()


def choose_max_length(lengths: Sequence[int], quantile: float = 0.99, multiple: int = 8, limit: int = 512) -> int:
    """The smallest multiple of ``multiple`` that holds ``quantile`` of the texts whole, at most ``limit``.

    ``lengths`` are token counts with ``[CLS]`` and ``[SEP]``. Only the longest ``1 - quantile`` of the
    texts are truncated; with length-bucketed or dynamically padded batches a short ``max_length``
    saves little, but padding every text *to* ``max_length`` makes the choice decide the cost.
    """
    lengths = np.asarray(lengths)
    if lengths.size == 0:
        raise ValueError("No lengths given: measure the token lengths of the training texts first.")
    if not 0 < quantile <= 1:
        raise ValueError(f"quantile must be in (0, 1], got {quantile}.")
    if multiple < 1 or limit < 1:
        raise ValueError(f"multiple and limit must be positive, got {multiple} and {limit}.")
    needed = float(np.quantile(lengths, quantile, method="higher"))
    return int(min(math.ceil(needed / multiple) * multiple, limit))


def random_batches(n: int, batch_size: int, seed: int = 0) -> list[np.ndarray]:
    """Shuffle ``range(n)`` and cut it into batches: what ``DataLoader(shuffle=True)`` does."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
    order = np.random.default_rng(seed).permutation(n)
    return [order[i : i + batch_size] for i in range(0, n, batch_size)]


def padding_fraction(lengths: Sequence[int], batches: Sequence[Sequence[int]], width: int | None = None) -> float:
    """The share of token positions that are padding when each batch is padded to its longest text.

    With ``width`` every text is padded (and truncated) to that fixed width instead, as
    ``padding="max_length"`` does. Lengths above ``width`` count as ``width`` real tokens.
    """
    lengths = np.asarray(lengths)
    real = padded = 0
    for rows in batches:
        rows = np.asarray(rows, dtype=int)
        if rows.size == 0:
            continue
        lens = lengths[rows] if width is None else np.minimum(lengths[rows], width)
        real += int(lens.sum())
        padded += len(rows) * (int(lens.max()) if width is None else width)
    if padded == 0:
        raise ValueError("The batches hold no examples.")
    return 1.0 - real / padded


def adamw_step_seconds(
    model,
    *,
    fused: bool,
    steps: int = 3,
    lr: float = 1e-4,
    seed: int = 0,
    return_model: bool = False,
    device: str | torch.device | None = None,
):
    """Seconds per ``AdamW.step()`` on a copy of ``model`` (random gradients), with or without the fused kernel.

    The first step (which allocates the optimiser's state) is not timed. With ``return_model=True`` the
    stepped copy is returned too: fused and unfused AdamW give the same weights to rounding error.
    ``device``: where to time the copy (``None``: where the model is); the model itself never moves.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}.")
    work = copy.deepcopy(model)
    if device is not None:
        work.to(device)
    params = [p for p in work.parameters() if p.requires_grad]
    gen = torch.Generator().manual_seed(seed)
    for p in params:
        p.grad = (torch.randn(p.shape, generator=gen, dtype=p.dtype) * 1e-3).to(p.device)
    optimizer = torch.optim.AdamW(
        params, lr=lr, weight_decay=0.01, fused=fused or None, foreach=None if fused else True
    )
    cuda = any(p.is_cuda for p in params)
    optimizer.step()  # allocates exp_avg / exp_avg_sq: a one-off cost
    if cuda:
        torch.cuda.synchronize()  # GPU kernels run asynchronously: wait before and after timing them
    start = time.perf_counter()
    for _ in range(steps):
        optimizer.step()
    if cuda:
        torch.cuda.synchronize()
    seconds = (time.perf_counter() - start) / steps
    return (seconds, work) if return_model else seconds


class stopwatch:
    """``with stopwatch() as clock: ...`` then ``clock.seconds`` holds the block's wall time."""

    def __enter__(self) -> "stopwatch":
        self.seconds = math.nan
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc) -> bool:
        self.seconds = time.perf_counter() - self._start
        return False
