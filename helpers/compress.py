"""Smaller and faster models (chapter 6): int8 dynamic quantisation, size, CPU latency, distillation.

* :func:`quantize_dynamic` stores the weights of every ``nn.Linear`` as 8-bit integers and quantises the
  activations on the fly; it runs on a CPU only. It uses ``torch.ao.quantization.quantize_dynamic``, which
  torch 2.13 still ships and runs but marks as deprecated (its warning says to move to the ``torchao``
  package's ``quantize_`` API; ``torchao`` is not a dependency of this book, so the deprecation warning is
  silenced here and the book says so).
* :func:`size_on_disk` and :func:`measure_latency` measure what compression buys.
* :func:`truncate_layers` builds a shallower student from the teacher's first ``k`` encoder layers, and
  :func:`distillation_loss` / :func:`distill` train it on the teacher's soft predictions (Hinton et al. 2015):
  ``alpha * T^2 * KL(softmax(teacher/T) || softmax(student/T)) + (1 - alpha) * CE(student, labels)``.

Devices (the book's rule, :mod:`helpers.evaluate`): :func:`distill` trains on ``device`` or, by default,
:func:`helpers.env.detect_device` (the GPU when there is one). :func:`quantize_dynamic` and :func:`cpu_latency`
stay on the CPU on purpose, because a CPU result is their point: int8 dynamic quantisation runs only on a CPU,
and the latency of a CPU deployment is what they measure. They work on a CPU copy (:func:`cpu_copy`) and never
move the caller's model, which can stay on the GPU.
"""

from __future__ import annotations

import copy
import io
import statistics
import time
import warnings
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

from .evaluate import attention_mask, encode_texts, logits_on_device, model_device, predict_logits, training_device
from .training import (
    Encoded,
    LengthBucketSampler,
    LoopRecorder,
    LoopState,
    LossLog,
    Progress,
    TrainResult,
    evaluate_encoded,
    make_optimizer,
    make_scheduler,
)


def cpu_copy(model: nn.Module) -> nn.Module:
    """A copy of ``model`` on the CPU in evaluation mode; ``model`` itself stays where it is (e.g. on the GPU).

    Use it instead of ``model.to("cpu")``, which moves the caller's model in place.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch nn.Module, got {type(model).__name__}.")
    return copy.deepcopy(model).to("cpu").eval()


def quantize_dynamic(model: nn.Module) -> nn.Module:
    """A CPU copy of ``model`` whose ``nn.Linear`` layers hold int8 weights (dynamic quantisation).

    The original model is left untouched (and where it was: a GPU model stays on the GPU). Embeddings and
    LayerNorm stay in float32.
    """
    student = cpu_copy(model)
    with warnings.catch_warnings():
        # torch 2.13 deprecates torch.ao.quantization in favour of the separate torchao package (not installed here)
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.filterwarnings("ignore", message=".*quantize_per_tensor.*")
        from torch.ao.quantization import quantize_dynamic as _quantize

        return _quantize(student, {nn.Linear}, dtype=torch.qint8)


def size_on_disk(model: nn.Module) -> int:
    """Bytes that ``torch.save(model.state_dict())`` writes (what a saved checkpoint of the weights costs)."""
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.save(model.state_dict(), buffer)
    return buffer.getbuffer().nbytes


@dataclass
class Latency:
    """Wall-clock seconds of repeated calls: the median is the number to quote; ``runs`` holds them all."""

    median: float
    best: float
    runs: list[float]


def measure_latency(fn: Callable[[], Any], repeats: int = 5, warmup: int = 1) -> Latency:
    """Call ``fn`` ``warmup`` times unmeasured, then ``repeats`` times, and return the timings."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}.")
    for _ in range(max(0, warmup)):
        fn()
    runs = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return Latency(median=statistics.median(runs), best=min(runs), runs=runs)


def cpu_latency(
    model: nn.Module,
    tokenizer,
    texts: list[str],
    *,
    max_length: int = 128,
    batch_size: int = 1,
    repeats: int = 5,
    warmup: int = 1,
) -> Latency:
    """Seconds to classify ``texts`` on the CPU in batches of ``batch_size`` (one call = all texts).

    Always the CPU, on purpose: this is the latency of a CPU deployment. A model on another device is timed
    as a CPU copy (:func:`cpu_copy`, made once before timing); the caller's model is not moved.
    """
    if next(model.parameters(), torch.empty(0)).device.type != "cpu" and not _is_quantized(model):
        model = cpu_copy(model)
    ids, lengths = encode_texts(tokenizer, texts, max_length)
    return measure_latency(lambda: predict_logits(model, ids, lengths, batch_size=batch_size), repeats, warmup)


def _is_quantized(model: nn.Module) -> bool:
    return any("quantized" in type(m).__module__ for m in model.modules())


def truncate_layers(model: nn.Module, k: int) -> nn.Module:
    """A copy of a BERT-style model that keeps only its first ``k`` encoder layers (and everything else).

    With ``k`` equal to the number of layers the copy computes exactly what the model does.
    """
    student = copy.deepcopy(model)
    base = getattr(student, student.base_model_prefix, student) if hasattr(student, "base_model_prefix") else student
    encoder = getattr(base, "encoder", None)
    if encoder is None or not hasattr(encoder, "layer"):
        raise TypeError(
            f"{type(model).__name__} has no encoder.layer list: truncate_layers is written for BERT-style models."
        )
    n = len(encoder.layer)
    if not 1 <= k <= n:
        raise ValueError(f"k must be between 1 and the model's {n} layers, got {k}.")
    encoder.layer = nn.ModuleList(list(encoder.layer)[:k])
    student.config.num_hidden_layers = k
    return student


def distillation_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    labels: torch.Tensor | None = None,
    *,
    temperature: float = 2.0,
    alpha: float = 0.5,
) -> torch.Tensor:
    """``alpha * T^2 * KL(p_teacher^T || p_student^T) + (1 - alpha) * CE(student, labels)``, mean over the batch.

    ``p^T = softmax(logits / T)``. The ``T^2`` keeps the soft term's gradients on the scale of the hard term's
    (Hinton et al. 2015). ``alpha=1`` is pure distillation (no labels needed).
    """
    if student_logits.shape != teacher_logits.shape:
        raise ValueError(
            f"student and teacher logits differ in shape: {tuple(student_logits.shape)} vs "
            f"{tuple(teacher_logits.shape)}."
        )
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}.")
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be between 0 and 1, got {alpha}.")
    if alpha < 1 and labels is None:
        raise ValueError("labels are needed unless alpha=1 (pure distillation).")
    t = temperature
    soft = (
        F.kl_div(
            F.log_softmax(student_logits / t, dim=-1),
            F.log_softmax(teacher_logits / t, dim=-1),
            reduction="batchmean",
            log_target=True,
        )
        * t
        * t
    )
    if alpha == 1:
        return soft
    return alpha * soft + (1 - alpha) * F.cross_entropy(student_logits, labels)


def distill(
    student: nn.Module,
    teacher: nn.Module,
    tokenizer,
    train_texts: list[str],
    train_labels: list[int],
    *,
    eval_texts: list[str] | None = None,
    eval_labels: list[int] | None = None,
    epochs: int = 2,
    batch_size: int = 32,
    lr: float = 1e-4,
    max_length: int = 128,
    temperature: float = 2.0,
    alpha: float = 0.5,
    seed: int = 0,
    progress: bool = True,
    log_every: int = 20,
    device: str | torch.device | None = None,
) -> TrainResult:
    """Train ``student`` to match ``teacher``'s logits (computed once, before training) and the labels.

    A short loop of its own, built from :func:`helpers.train`'s parts: its optimiser and schedule
    (:func:`helpers.training.make_optimizer`: fused AdamW, weight decay 0.01 on weight matrices only;
    :func:`helpers.training.make_scheduler`: linear warm-up over 10% of the steps, then decay), batches of
    similar length, its progress bar and loss log, fp32. Returns a :class:`helpers.training.TrainResult` with the
    same ``history`` columns (one row per epoch; ``eval_`` scores on ``eval_texts``) and ``steps``; the student
    ends with its last weights. ``device``: where to train (default :func:`helpers.env.detect_device`); the student
    is moved there in place, the teacher is run there once in inference mode and then put back where it was.
    """
    if len(train_texts) != len(train_labels) or not train_texts:
        raise ValueError(
            f"Need as many labels as texts, and at least one: {len(train_texts)} texts, {len(train_labels)} labels."
        )
    started = time.perf_counter()
    device = training_device(device)
    teacher_home = model_device(teacher)
    try:
        student.to(device)
        ids, lengths = encode_texts(tokenizer, train_texts, max_length)
        teacher_logits = logits_on_device(teacher, ids, lengths, device=device)
    finally:
        if model_device(teacher) != teacher_home:
            teacher.to(teacher_home)  # the teacher goes back where the caller keeps it
    data = Encoded(ids, lengths, torch.tensor([int(y) for y in train_labels]))
    held_out = None
    if eval_texts is not None:
        if eval_labels is None or len(eval_labels) != len(eval_texts):
            raise ValueError("eval_texts need as many eval_labels, one per text.")
        eval_ids, eval_lengths = encode_texts(tokenizer, eval_texts, max_length)
        held_out = Encoded(eval_ids, eval_lengths, torch.tensor([int(y) for y in eval_labels]))
    config = {
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "weight_decay": 0.01,
        "warmup_ratio": 0.1,
        "schedule": "linear",
        "max_length": max_length,
        "temperature": temperature,
        "alpha": alpha,
        "seed": seed,
        "device": str(device),
    }
    loop = _distill_loop(student, data, teacher_logits, held_out, config, progress, log_every, device)
    return LoopRecorder.result(student, loop, config, started)


def _distill_loop(
    student: nn.Module,
    data: Encoded,
    teacher_logits: torch.Tensor,
    held_out: Encoded | None,
    config: dict,
    progress: bool,
    log_every: int,
    device: torch.device,
) -> LoopState:
    """The body of :func:`distill`: the student's epochs in batches of similar length; one history row per epoch."""
    host_lengths = data.lengths.numpy()  # the batches' widths are read on the host: no device synchronisation
    data = data.to(device)
    epochs, seed = config["epochs"], config["seed"]
    torch.manual_seed(seed)
    sampler = LengthBucketSampler(host_lengths, config["batch_size"], seed=seed)
    optimizer = make_optimizer(student, config["lr"], config["weight_decay"], device)
    scheduler = make_scheduler(optimizer, epochs * len(sampler), config["warmup_ratio"], config["schedule"])
    loop, log, rows, bar = (
        LoopState(grad_accum=1),
        LossLog(log_every),
        LoopRecorder(device),
        Progress(progress, "accuracy"),
    )
    try:
        while loop.epoch < epochs:
            student.train()
            epoch = loop.epoch
            bar.start(len(sampler), 0, f"distil epoch {epoch + 1}/{epochs}")
            for batch in sampler.batches(epoch):
                rows_dev, lens = torch.from_numpy(batch).to(device), host_lengths[batch]
                width = int(lens.max())
                step_lr = scheduler.get_last_lr()[0]
                out = student(
                    input_ids=data.input_ids[rows_dev, :width],
                    attention_mask=attention_mask(data.lengths[rows_dev], width),
                )
                loss = distillation_loss(
                    out.logits,
                    teacher_logits[rows_dev],
                    data.labels[rows_dev],
                    temperature=config["temperature"],
                    alpha=config["alpha"],
                )
                loss.backward()
                torch.nn.utils.clip_grad_norm_(student.parameters(), 1.0)
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                loop.count_step(lens, len(batch) * width, len(sampler))
                bar.update()
                if log.add(loop.step, epoch + 1, step_lr, loss.detach()):
                    log.flush(loop)
                    bar.show_loss(loop.steps[-1]["loss"], rows.rate(loop))
            log.flush(loop)
            evaluate = (
                partial(evaluate_encoded, student, held_out, batch_size=64, precision="fp32")
                if held_out is not None
                else None
            )
            row = rows.record(loop, epoch + 1, scheduler.get_last_lr()[0], evaluate)
            rows.keep_if_best(loop, row, "eval_accuracy")
            bar.show_row(row)
            bar.close()
    finally:
        bar.close()
    student.eval()
    return loop
