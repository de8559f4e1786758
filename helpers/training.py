"""A fast, safe fine-tuning loop for sequence classification: chapter 4's engine.

``train(model, train_data, eval_data)`` fine-tunes any transformers ``...ForSequenceClassification``
model and returns a :class:`TrainResult` (the trained model and its history). Read it top to bottom:

1. **Check the inputs** before anything runs: texts are strings, labels fit the head, the tokenizer
   fits the model (:func:`check_inputs`).
2. **Tokenise once** into tensors that live on the device for the whole run (:func:`encode`).
3. **Batch by length** (:class:`LengthBucketSampler`): each batch holds texts of similar length, so
   it is padded only a little; the order is still random, and every example comes once per epoch.
4. **The step** (:func:`forward_backward`, :func:`optimizer_step`): autocast in bf16 (Ampere and newer)
   or fp16 with loss scaling (T4, V100), fp32 on a CPU (``precision="bf16"`` or ``"fp16"`` also run on a
   CPU when asked for: CPU autocast and ``GradScaler("cpu")``, which is how the tests check those paths
   without a GPU); TF32 matrix products; SDPA attention; fused
   AdamW with no weight decay on biases and LayerNorm; linear warm-up and decay; gradient clipping;
   gradient accumulation. Losses stay on the device and are read every ``log_every`` steps, so the
   GPU never waits for Python.
5. **Evaluate** every epoch (and every ``eval_every`` steps), keep the best weights, stop early.
6. **Survive**: checkpoints written atomically (:func:`save_checkpoint`), ``resume=True`` to continue
   exactly where a run stopped, and on CUDA out-of-memory the micro-batch is halved and the
   accumulation doubled, so the effective batch and the result stay the same.

Where it runs: ``device=`` or, by default, :func:`helpers.env.detect_device` (the book's device rule, in
:mod:`helpers.evaluate`). The learning rate, when not given, comes from :func:`default_lr`.

Defaults were chosen from measurements (see ``benchmarks/``): fp32 on a CPU, and no ``torch.compile``
by default because compiling costs about a minute on a fresh runtime, longer than a whole short run.
"""

from __future__ import annotations

import hashlib
import math
import os
import random
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from .env import best_precision
from .evaluate import (accuracy_and_f1, attention_mask, autocast_for, encode_texts, model_max_length, predict_logits,
                       training_device)

CHECKPOINT_NAME = "checkpoint.pt"
METRICS = {"accuracy": "max", "f1": "max", "loss": "min"}


# ----------------------------------------------------------------------------------------------------
# 1. Inputs: what the reader may pass, and clear errors for what cannot work
# ----------------------------------------------------------------------------------------------------

def as_texts_and_labels(data, what: str = "train_data") -> tuple[list, list, list[str] | None]:
    """``(texts, labels, class names or None)`` from a ``datasets.Dataset`` or a ``(texts, labels)`` pair."""
    names = None
    if hasattr(data, "column_names") and hasattr(data, "features"):  # a datasets.Dataset
        missing = {"text", "label"} - set(data.column_names)
        if missing:
            raise ValueError(f"{what} needs 'text' and 'label' columns; it has {data.column_names}.")
        names = getattr(data.features["label"], "names", None)
        return list(data["text"]), list(data["label"]), names
    if hasattr(data, "keys") and "train" in data.keys():
        raise TypeError(f"{what} is a DatasetDict: pass one split, e.g. data['train'].")
    if isinstance(data, (tuple, list)) and len(data) == 2 and not isinstance(data[0], str):
        texts, labels = data
        return list(texts), list(labels), None
    raise TypeError(f"{what} must be a datasets.Dataset with 'text' and 'label' columns or a pair "
                    f"(texts, labels); got {type(data).__name__}.")


def check_inputs(model, tokenizer, texts: list, labels: list, what: str = "train_data") -> None:
    """Raise a clear error for anything that would fail (or silently go wrong) once training has started."""
    if not type(model).__name__.endswith("ForSequenceClassification"):
        raise TypeError(f"{type(model).__name__} has no sequence-classification head. Load the model with "
                        "helpers.load_model(labels=...) or AutoModelForSequenceClassification.from_pretrained(..., "
                        "num_labels=...).")
    num_labels = model.config.num_labels
    if num_labels < 2:
        raise ValueError(f"The model has num_labels={num_labels}: that is regression, not classification. "
                         "Load it with num_labels set to the number of classes.")
    if len(texts) == 0:
        raise ValueError(f"{what} is empty: there is nothing to train or evaluate on.")
    if len(texts) != len(labels):
        raise ValueError(f"{what} has {len(texts)} texts but {len(labels)} labels.")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"{what}: text {i} is {type(t).__name__} ({t!r:.60}), not a string.")
    for i, y in enumerate(labels):
        if isinstance(y, bool) or not isinstance(y, (int, np.integer)) or not 0 <= int(y) < num_labels:
            raise ValueError(f"{what}: label {i} is {y!r}, but the model's head has {num_labels} classes: labels "
                             f"must be integers 0..{num_labels - 1}. Load the model with the right num_labels.")
    vocab = model.get_input_embeddings().num_embeddings
    if len(tokenizer) > vocab:
        raise ValueError(f"The tokenizer knows {len(tokenizer)} tokens but the model's embedding table has {vocab}: "
                         "they do not belong together. Load both from the same name.")


def find_tokenizer(model):
    """The tokenizer saved with the model (its ``name_or_path``), or a clear error asking for one."""
    from transformers import AutoTokenizer

    source = getattr(model, "name_or_path", "") or ""
    try:
        return AutoTokenizer.from_pretrained(source)
    except Exception:  # no folder, no hub, no tokenizer files: all mean the same to the reader
        raise ValueError("No tokenizer was given and none could be loaded from the model's name "
                         f"({source!r}). Pass tokenizer=helpers.load_tokenizer(...).") from None


# ----------------------------------------------------------------------------------------------------
# 2. Tokenise once
# ----------------------------------------------------------------------------------------------------

@dataclass
class Encoded:
    """A split as tensors: right-padded token ids, true lengths and labels (moved to the device once)."""

    input_ids: torch.Tensor
    lengths: torch.Tensor
    labels: torch.Tensor

    def __len__(self) -> int:
        return len(self.lengths)

    def to(self, device) -> "Encoded":
        return Encoded(*(t.to(device) for t in (self.input_ids, self.lengths, self.labels)))


def encode(tokenizer, texts: list[str], labels: list[int], max_length: int) -> Encoded:
    """Tokenise all texts at once (the fast Rust tokenizer) and keep the result as tensors."""
    ids, lengths = encode_texts(tokenizer, texts, max_length)
    return Encoded(ids, lengths, torch.tensor([int(y) for y in labels], dtype=torch.long))


# ----------------------------------------------------------------------------------------------------
# 3. Length-bucketed batches
# ----------------------------------------------------------------------------------------------------

class LengthBucketSampler:
    """Random batches of texts of similar length; every example exactly once per epoch.

    Each epoch: shuffle all examples; cut the shuffled list into pools of ``pool_batches`` batches;
    sort each pool by length (the shuffle breaks ties at random) and cut it into batches; shuffle the
    order of all batches. ``pool_batches=None`` makes one pool of everything: the least padding.
    The order depends only on ``(seed, epoch)``, so a resumed run sees the same batches.
    """

    def __init__(self, lengths, batch_size: int, seed: int = 0, pool_batches: int | None = None):
        self.lengths = np.asarray(lengths)
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}.")
        self.batch_size = batch_size
        self.seed = seed
        self.pool_batches = pool_batches

    def __len__(self) -> int:
        return math.ceil(len(self.lengths) / self.batch_size)

    def batches(self, epoch: int) -> list[np.ndarray]:
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(len(self.lengths))
        pool = len(order) if self.pool_batches is None else self.pool_batches * self.batch_size
        out = []
        for start in range(0, len(order), pool):
            chunk = order[start:start + pool]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            out += [chunk[i:i + self.batch_size] for i in range(0, len(chunk), self.batch_size)]
        return [out[i] for i in rng.permutation(len(out))]


# ----------------------------------------------------------------------------------------------------
# 4. Optimiser, schedule, precision, the step
# ----------------------------------------------------------------------------------------------------

def param_groups(model, weight_decay: float) -> list[dict]:
    """Two groups: weight decay on weight matrices, none on biases and LayerNorm (1-d tensors)."""
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim < 2 else decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


FUSED_DEVICES = ("cuda", "cpu", "mps", "xpu")  # where torch 2.x has fused AdamW kernels


def make_optimizer(model, lr: float, weight_decay: float, device: torch.device) -> torch.optim.Optimizer:
    """AdamW with the fused kernel (all parameters in one pass) where this torch has it for the device.

    Fused is the fastest on a GPU and, measured on a 2-core CPU, about 2.5 times faster than the default
    there too (22.7M parameters: 0.45 s against 1.26 s per step on a busy machine).
    """
    groups = param_groups(model, weight_decay)
    if torch.device(device).type not in FUSED_DEVICES:  # the fused kernel would fail at the first step
        return torch.optim.AdamW(groups, lr=lr)
    try:
        return torch.optim.AdamW(groups, lr=lr, fused=True)
    except (RuntimeError, TypeError, ValueError):  # an older torch or a device without the fused kernel
        return torch.optim.AdamW(groups, lr=lr)


def make_scheduler(optimizer, total_steps: int, warmup_ratio: float):
    """Linear warm-up over ``warmup_ratio`` of the steps, then linear decay to zero."""
    from transformers import get_linear_schedule_with_warmup

    return get_linear_schedule_with_warmup(optimizer, math.ceil(warmup_ratio * total_steps), total_steps)


def default_batch_size(device: torch.device, n_train: int) -> int:
    """32 on a CPU; on a GPU the largest power of two up to 256 that still gives 50 steps per epoch.

    A GPU step on short texts costs about the same at batch 32 as at 256 (it is launch-bound), so large
    batches are nearly free throughput; 50 steps per epoch keep enough updates for small data sets.
    """
    if device.type != "cuda":
        return 32
    size = 256
    while size > 32 and n_train / size < 50:
        size //= 2
    return size


LR_SMALL, LR_SMALL_CAP = 1e-4, 2e-4  # hidden < 768 (MiniLM): at batch 32, and the most ever used
LR_BASE, LR_BASE_CAP = 3e-5, 5e-5  # hidden >= 768 (BERT-base and larger): at batch 32, and the most ever used


def default_lr(model, effective_batch: int) -> float:
    """The learning rate :func:`train` uses when none is given: a rate at batch 32, scaled by the square root
    of ``effective_batch / 32`` and never above a cap that was measured or published.

    * **BERT-base and larger** (``hidden_size >= 768``): 3e-5 at batch 32, the middle of the range that
      Devlin et al. (2019, appendix A.3) searched for fine-tuning (batch 16 or 32, rates 5e-5, 3e-5, 2e-5);
      capped at 5e-5, the top of that range, which the square root reaches near batch 89. So: 1.5e-5 at
      batch 8, 3e-5 at 32, 5e-5 at 128 and above, never more. (Growing with the batch without a cap gave
      BERT-base 1.4e-4 at batch 256, a known way to make it diverge.)
    * **Small encoders** (``hidden_size < 768``, MiniLM): 1e-4 at batch 32, capped at 2e-4, reached at
      batch 128: 5e-5 at batch 8, 1e-4 at 32, 2e-4 at 128, 256 and 1024. The cap is what was measured to
      work in one-seed runs on an H100 while this book was written (the project's reference notes; not yet
      repeated in ``benchmarks/results``): all-MiniLM-L6-v2 on Rotten Tomatoes, bf16, 3 epochs, 2e-4 gave
      0.837 test accuracy at batch 128 and 0.838 at batch 256, while at batch 512 the larger rates fell,
      0.831 with 4e-4 and 0.819 with 8e-4.

    Below batch 32 the rate shrinks with the same square root (noisier gradients, smaller steps). The rate
    used is recorded in ``TrainResult.config["lr"]`` and in every checkpoint.
    """
    small = getattr(model.config, "hidden_size", 768) < 768
    base, cap = (LR_SMALL, LR_SMALL_CAP) if small else (LR_BASE, LR_BASE_CAP)
    return min(base * math.sqrt(effective_batch / 32), cap)


def micro_batches(rows: torch.Tensor, host_lengths: np.ndarray, parts: int, multiple: int, cap: int):
    """Split one batch into ``parts`` micro-batches: (row slice, padded width) each."""
    out = []
    size = math.ceil(len(host_lengths) / parts)
    for start in range(0, len(host_lengths), size):
        width = int(host_lengths[start:start + size].max())
        width = min(math.ceil(width / multiple) * multiple, cap)
        out.append((rows[start:start + size], width))
    return out


def forward_backward(model, data: Encoded, rows: torch.Tensor, width: int, denominator, autocast,
                     scaler, class_weights) -> torch.Tensor:
    """Forward and backward for one micro-batch; returns its share of the batch's mean loss (on the device).

    The loss is summed over the micro-batch and divided by the size of the whole batch, so that
    gradients add up to exactly the full batch's gradient however it is split.
    """
    ids = data.input_ids[rows, :width]
    with autocast:
        logits = model(input_ids=ids, attention_mask=attention_mask(data.lengths[rows], width)).logits
    loss = F.cross_entropy(logits.float(), data.labels[rows], weight=class_weights, reduction="sum") / denominator
    (scaler.scale(loss) if scaler is not None else loss).backward()
    return loss.detach()


def optimizer_step(model, optimizer, scheduler, scaler, max_grad_norm: float | None) -> bool:
    """Unscale (fp16), clip, step, advance the schedule, clear gradients; returns whether the step was taken.

    bf16 and fp32 never skip and never synchronise with the host. With fp16 the loss scaler skips the
    update when a gradient is inf or NaN (and halves its scale); the schedule then does not advance either,
    so a skipped step costs no learning rate (the rates of the remaining steps stay as planned). Detecting
    the skip reads the scale back from the device: one host synchronisation per fp16 step.
    """
    if scaler is not None:
        scaler.unscale_(optimizer)
    if max_grad_norm:
        torch.nn.utils.clip_grad_norm_(model.parameters(), max_grad_norm)
    taken = True
    if scaler is not None:
        scale = scaler.get_scale()
        scaler.step(optimizer)  # skipped inside when the unscaled gradients hold inf or NaN
        scaler.update()  # ... and then the scale shrinks: the only sign of a skip
        taken = scaler.get_scale() >= scale
    else:
        optimizer.step()
    if taken:
        scheduler.step()
    optimizer.zero_grad(set_to_none=True)
    return taken


# ----------------------------------------------------------------------------------------------------
# 5. Evaluation
# ----------------------------------------------------------------------------------------------------

def evaluate_encoded(model, data: Encoded, *, batch_size: int, precision: str, class_weights=None) -> dict:
    """Loss, accuracy and macro-F1 of the model on a pre-tokenised split."""
    logits = predict_logits(model, data.input_ids, data.lengths.cpu(), batch_size=batch_size, precision=precision)
    labels = data.labels.cpu()
    weight = class_weights.cpu() if class_weights is not None else None
    loss = float(F.cross_entropy(logits, labels, weight=weight))
    return {"loss": loss, **accuracy_and_f1(labels.numpy(), logits.argmax(-1).numpy())}


# ----------------------------------------------------------------------------------------------------
# 6. Checkpoints
# ----------------------------------------------------------------------------------------------------

def rng_state(device: torch.device) -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if device.type == "cuda":
        state["cuda"] = torch.cuda.get_rng_state(device)
    return state


def set_rng_state(state: dict, device: torch.device) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if device.type == "cuda" and "cuda" in state:
        torch.cuda.set_rng_state(state["cuda"], device)


def save_checkpoint(folder: str | Path, state: dict) -> Path:
    """Write ``state`` to ``folder/checkpoint.pt`` atomically: a reader never finds half a checkpoint.

    The state goes to a temporary file in the same folder, is flushed to disk, and then replaces the
    old checkpoint in one ``os.replace`` (atomic on Linux, macOS, Windows, and Google Drive's mount).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / CHECKPOINT_NAME
    tmp = folder / f".{CHECKPOINT_NAME}.{os.getpid()}.tmp"
    with open(tmp, "wb") as fh:
        torch.save(state, fh)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, final)
    return final


def load_checkpoint(folder: str | Path) -> dict | None:
    """The state saved in ``folder``, or ``None`` when there is none yet."""
    path = Path(folder) / CHECKPOINT_NAME
    if not path.exists():
        return None
    return torch.load(path, map_location="cpu", weights_only=False)


def fingerprint(data: Encoded) -> str:
    """A short hash of the tokenised training data: resuming on other data is an error."""
    h = hashlib.sha1()
    for t in (data.input_ids, data.lengths, data.labels):
        h.update(t.cpu().numpy().tobytes())
    return h.hexdigest()[:16]


# ----------------------------------------------------------------------------------------------------
# 7. The result, and plotting it
# ----------------------------------------------------------------------------------------------------

@dataclass
class TrainResult:
    """What :func:`train` returns.

    * ``model``: the trained model (the best one seen, when evaluating with ``keep_best=True``);
    * ``history``: one row per evaluation point (each epoch, and every ``eval_every`` steps): epoch,
      step, train_loss, lr, eval_loss, eval_accuracy, eval_f1, seq_per_s, tokens_per_s,
      padding (fraction of padded tokens), seconds (training time since the previous row);
    * ``steps``: one row per optimiser step: step, epoch, loss, lr;
    * ``best``: the history row of the best evaluation (or ``None``), ``config``: what ran.
    """

    model: Any
    history: pd.DataFrame
    steps: pd.DataFrame
    best: dict | None
    config: dict
    seconds: float
    notes: list[str] = field(default_factory=list)

    def plot(self, **kwargs):
        return plot_history(self, **kwargs)


def plot_history(history, steps=None, *, title: str = "Fine-tuning history"):
    """Loss and learning rate per step (left), evaluation metrics per epoch (right); returns the figure."""
    import matplotlib.pyplot as plt

    if isinstance(history, TrainResult):
        history, steps = history.history, history.steps
    history = pd.DataFrame(history)
    steps = pd.DataFrame(steps) if steps is not None else None
    fig, (ax_loss, ax_metric) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    if steps is not None and len(steps):
        ax_loss.plot(steps["step"], steps["loss"], color="tab:blue", alpha=0.35, lw=0.8, label="train loss (step)")
        smooth = steps["loss"].rolling(max(1, len(steps) // 20), min_periods=1).mean()
        ax_loss.plot(steps["step"], smooth, color="tab:blue", label="train loss (smoothed)")
        ax_lr = ax_loss.twinx()
        ax_lr.plot(steps["step"], steps["lr"], color="tab:gray", ls="--", lw=1)
        ax_lr.set_ylabel("learning rate (dashed)")
    if "eval_loss" in history and history["eval_loss"].notna().any():
        ax_loss.plot(history["step"], history["eval_loss"], "o-", color="tab:orange", label="validation loss")
    ax_loss.set(xlabel="optimiser step", ylabel="cross-entropy loss", title="Loss and learning rate")
    ax_loss.legend(loc="upper right", fontsize="small")
    metric_cols = [c for c in ("eval_accuracy", "eval_f1") if c in history and history[c].notna().any()]
    for col, color in zip(metric_cols, ("tab:green", "tab:red")):
        ax_metric.plot(history["epoch"], history[col], "o-", color=color, label=col.removeprefix("eval_"))
    if metric_cols:
        ax_metric.legend(loc="lower right", fontsize="small")
    else:
        ax_metric.text(0.5, 0.5, "no validation data", ha="center", va="center", transform=ax_metric.transAxes)
    ax_metric.set(xlabel="epoch", ylabel="validation score", title="Validation accuracy and macro-F1")
    for ax in (ax_loss, ax_metric):
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    return fig


# ----------------------------------------------------------------------------------------------------
# 8. train()
# ----------------------------------------------------------------------------------------------------

@dataclass
class Config:
    """Every setting that decides the result (saved in checkpoints and compared on resume)."""

    epochs: int
    effective_batch: int
    lr: float
    weight_decay: float
    warmup_ratio: float
    max_length: int
    max_grad_norm: float | None
    seed: int
    metric: str
    precision: str
    pool_batches: int | None
    data: str


def train(model, train_data, eval_data=None, *, tokenizer=None, epochs: int = 3, batch_size: int | None = None,
          lr: float | None = None, weight_decay: float = 0.01, warmup_ratio: float = 0.06,
          max_length: int | None = None, grad_accum: int = 1, max_grad_norm: float | None = 1.0,
          precision: str = "auto", compile: bool | str = "auto", eval_every: int | None = None,
          metric: str = "accuracy", keep_best: bool = True, early_stopping_patience: int | None = None,
          checkpoint_dir: str | Path | None = None, checkpoint_every: int | None = None, resume: bool = False,
          seed: int = 0, progress: bool = True, log_every: int = 20, class_weights: Sequence[float] | None = None,
          pool_batches: int | None = None, device: str | torch.device | None = None,
          eval_batch_size: int | None = None,
          on_step: Callable[[int], None] | None = None) -> TrainResult:
    """Fine-tune ``model`` on ``train_data``; evaluate on ``eval_data`` after every epoch.

    Data: a ``datasets.Dataset`` with ``text`` and ``label`` columns, or a pair ``(texts, labels)``.
    ``batch_size`` is the micro-batch on the device; the optimiser sees ``batch_size * grad_accum``
    examples per step. ``None`` settings are chosen from the device and the data: batch 32 on a CPU
    (up to 256 on a GPU), ``lr`` by :func:`default_lr`, ``max_length`` the longest text up to the
    model's limit (length bucketing makes long outliers cheap), precision by
    :func:`helpers.env.best_precision`. ``compile="auto"`` means no ``torch.compile``; pass ``True`` or a
    mode (``"reduce-overhead"`` for CUDA graphs) for long runs. ``metric`` (accuracy, f1 or loss)
    picks the best model and drives ``early_stopping_patience`` (in evaluations). With
    ``checkpoint_dir`` a checkpoint is written after every epoch (and every ``checkpoint_every``
    steps); ``resume=True`` continues from it and ends with the same weights as an uninterrupted run.
    ``on_step(step)`` is called after every optimiser step (a raise there interrupts the run).
    ``device`` (``"cuda"``, ``"cpu"``, a ``torch.device``; default :func:`helpers.env.detect_device`): the
    model is moved there in place, with all the data; the history comes back as plain numbers.
    ``precision="fp16"`` uses a loss scaler (``torch.amp.GradScaler``); steps it skips for inf/NaN
    gradients do not advance the schedule and are counted in ``config["skipped_steps"]``.
    """
    t_call = time.perf_counter()
    notes: list[str] = []

    # --- inputs -------------------------------------------------------------------------------------
    texts, labels, names = as_texts_and_labels(train_data, "train_data")
    tokenizer = tokenizer if tokenizer is not None else find_tokenizer(model)
    check_inputs(model, tokenizer, texts, labels, "train_data")
    if eval_data is not None:
        eval_texts, eval_labels, _ = as_texts_and_labels(eval_data, "eval_data")
        check_inputs(model, tokenizer, eval_texts, eval_labels, "eval_data")
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}.")
    if epochs < 1 or grad_accum < 1:
        raise ValueError(f"epochs and grad_accum must be at least 1 (got {epochs}, {grad_accum}).")
    if resume and checkpoint_dir is None:
        raise ValueError("resume=True needs checkpoint_dir: the folder where the interrupted run saved its state.")
    if names and all(v.startswith("LABEL_") for v in model.config.id2label.values()) \
            and len(names) == model.config.num_labels:
        model.config.id2label = dict(enumerate(names))  # so predictions print class names
        model.config.label2id = {n: i for i, n in enumerate(names)}

    # --- device, precision, data on the device -----------------------------------------------------------
    device = training_device(device)
    precision = best_precision(device.type) if precision == "auto" else precision
    if precision not in ("fp32", "bf16", "fp16"):
        raise ValueError(f"precision must be auto, fp32, bf16 or fp16, got {precision!r}.")
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True  # fp32 leftovers (the fp32 loss, the head) use TF32
        torch.backends.cudnn.allow_tf32 = True
    max_length = max_length or model_max_length(model, tokenizer)
    train_enc = encode(tokenizer, texts, labels, max_length)
    eval_enc = encode(tokenizer, eval_texts, eval_labels, max_length).to(device) if eval_data is not None else None
    host_lengths = train_enc.lengths.numpy()
    train_dev = train_enc.to(device)
    micro = batch_size or default_batch_size(device, len(texts))
    effective = micro * grad_accum
    lr = lr if lr is not None else default_lr(model, effective)
    cfg = Config(epochs, effective, lr, weight_decay, warmup_ratio, max_length, max_grad_norm, seed, metric,
                 precision, pool_batches, fingerprint(train_enc))
    weights = torch.tensor(class_weights, dtype=torch.float32, device=device) if class_weights is not None else None
    multiple = 8 if device.type == "cuda" else 1  # tensor cores like multiples of 8; a CPU does not care
    width_cap = train_enc.input_ids.shape[1]

    # --- model, optimiser, schedule ------------------------------------------------------------------
    torch.manual_seed(seed)
    model.to(device)
    attn_before = getattr(model.config, "_attn_implementation", None)
    if attn_before == "eager" and hasattr(model, "set_attn_implementation"):
        try:
            model.set_attn_implementation("sdpa")  # same numbers, faster; switched back at the end
        except Exception:  # noqa: BLE001 - a model without SDPA support trains with eager attention
            attn_before = None
    sampler = LengthBucketSampler(host_lengths, effective, seed=seed, pool_batches=pool_batches)
    steps_per_epoch = len(sampler)
    total_steps = epochs * steps_per_epoch
    optimizer = make_optimizer(model, lr, weight_decay, device)
    scheduler = make_scheduler(optimizer, total_steps, warmup_ratio)
    scaler = torch.amp.GradScaler(device.type) if precision == "fp16" else None
    autocast = autocast_for(device, precision)
    forward_model = model
    if compile not in ("auto", False, None):
        forward_model = torch.compile(model) if compile is True else torch.compile(model, mode=compile)

    # --- the loop's state: everything a checkpoint must hold ------------------------------------------
    state = {"epoch": 0, "batch": 0, "step": 0, "history": [], "steps": [], "best_score": None, "best_row": None,
             "best_weights": None, "bad_evals": 0, "stopped": False, "grad_accum": grad_accum, "skipped_steps": 0,
             "interval": {"losses": [], "examples": 0, "tokens": 0, "padded": 0}}
    if resume:
        saved = load_checkpoint(checkpoint_dir)
        if saved is None:
            notes.append(f"resume=True but {checkpoint_dir} holds no checkpoint yet: starting from the beginning.")
        else:
            differ = {k: (v, saved["config"].get(k)) for k, v in asdict(cfg).items() if saved["config"].get(k) != v}
            if differ:
                raise ValueError("The checkpoint was made with other settings or data; resume with the same ones "
                                 f"or choose another checkpoint_dir. Differences (now, saved): {differ}")
            model.load_state_dict(saved["model"])
            optimizer.load_state_dict(saved["optimizer"])
            scheduler.load_state_dict(saved["scheduler"])
            if scaler is not None and saved.get("scaler") is not None:
                scaler.load_state_dict(saved["scaler"])
            set_rng_state(saved["rng"], device)
            state.update(saved["loop"])
            notes.append(f"Resumed from {Path(checkpoint_dir) / CHECKPOINT_NAME} at step {state['step']} "
                         f"(epoch {state['epoch'] + 1}, batch {state['batch']}).")
    for note in notes:
        print(note)

    def checkpoint() -> None:
        flush_losses()
        save_checkpoint(checkpoint_dir, {
            "config": asdict(cfg), "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict() if scaler is not None else None,
            "rng": rng_state(device), "loop": state})

    pending: list[tuple[int, int, float, torch.Tensor]] = []  # (step, epoch, lr, loss on the device)

    def flush_losses() -> None:
        """Read the losses of the last steps from the device: the only regular host synchronisation."""
        if pending:
            values = torch.stack([p[3] for p in pending]).tolist()
            for (step, epoch, step_lr, _), value in zip(pending, values):
                state["steps"].append({"step": step, "epoch": epoch, "loss": value, "lr": step_lr})
                state["interval"]["losses"].append(value)
            pending.clear()

    clock = {"t": time.perf_counter()}

    def record(epoch_float: float) -> bool:
        """Close an interval: throughput, evaluation, best model, early stopping. True means stop."""
        flush_losses()
        if device.type == "cuda":
            torch.cuda.synchronize(device)
        seconds = time.perf_counter() - clock["t"]
        iv = state["interval"]
        row = {"epoch": round(epoch_float, 4), "step": state["step"],
               "train_loss": float(np.mean(iv["losses"])) if iv["losses"] else math.nan,
               "lr": scheduler.get_last_lr()[0]}
        if eval_enc is not None:
            scores = evaluate_encoded(model, eval_enc, batch_size=eval_batch_size or 2 * micro, precision=precision,
                                      class_weights=weights)
            row.update({f"eval_{k}": v for k, v in scores.items()})
        row.update({"seq_per_s": iv["examples"] / seconds if seconds > 0 else math.nan,
                    "tokens_per_s": iv["tokens"] / seconds if seconds > 0 else math.nan,
                    "padding": 1 - iv["tokens"] / iv["padded"] if iv["padded"] else math.nan,
                    "seconds": seconds})
        state["history"].append(row)
        state["interval"] = {"losses": [], "examples": 0, "tokens": 0, "padded": 0}
        stop = False
        if eval_enc is not None:
            score = row[f"eval_{metric}"]
            better = state["best_score"] is None or (score > state["best_score"] if METRICS[metric] == "max"
                                                     else score < state["best_score"])
            if better:
                state["best_score"], state["best_row"], state["bad_evals"] = score, dict(row), 0
                if keep_best:
                    state["best_weights"] = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
            else:
                state["bad_evals"] += 1
                stop = early_stopping_patience is not None and state["bad_evals"] >= early_stopping_patience
        if bar is not None:
            bar.set_postfix(postfix(row), refresh=False)
        clock["t"] = time.perf_counter()
        return stop

    def postfix(row: dict) -> dict:
        out = {"loss": f"{row['train_loss']:.3f}", "seq/s": f"{row['seq_per_s']:.0f}"}
        if f"eval_{metric}" in row:
            out[metric] = f"{row[f'eval_{metric}']:.3f}"
        return out

    # --- the loop ------------------------------------------------------------------------------------------
    model.train()
    bar = None
    try:
        while state["epoch"] < epochs and not state["stopped"]:
            epoch = state["epoch"]
            batches = sampler.batches(epoch)
            order = np.concatenate(batches)
            order_dev = torch.from_numpy(order).to(device, non_blocking=True)  # one copy per epoch
            bounds = np.cumsum([0] + [len(b) for b in batches])
            bar = _progress(progress, steps_per_epoch, state["batch"], f"epoch {epoch + 1}/{epochs}")
            while state["batch"] < steps_per_epoch:
                b = state["batch"]
                rows = order_dev[bounds[b]:bounds[b + 1]]
                lens = host_lengths[batches[b]]
                step_lr = scheduler.get_last_lr()[0]  # the rate this step uses
                loss = run_step(forward_model, model, train_dev, rows, lens, optimizer, scheduler, scaler, autocast,
                                weights, max_grad_norm, state, multiple, width_cap, device)
                state["step"] += 1
                state["batch"] += 1
                pending.append((state["step"], epoch + 1, step_lr, loss))
                iv = state["interval"]
                iv["examples"] += len(lens)
                iv["tokens"] += int(lens.sum())
                iv["padded"] += sum(len(r) * w for r, w in micro_batches(rows, lens, state["grad_accum"],
                                                                          multiple, width_cap))
                if bar is not None:
                    bar.update(1)
                if len(pending) >= log_every:
                    flush_losses()
                    if bar is not None:
                        rate = iv["examples"] / max(time.perf_counter() - clock["t"], 1e-9)
                        bar.set_postfix({"loss": f"{state['steps'][-1]['loss']:.3f}", "seq/s": f"{rate:.0f}"},
                                        refresh=False)
                last_of_epoch = state["batch"] == steps_per_epoch
                if last_of_epoch:
                    state["epoch"] += 1
                    state["batch"] = 0
                if last_of_epoch or (eval_every and state["step"] % eval_every == 0):
                    if record(epoch + state["batch"] / steps_per_epoch if not last_of_epoch else epoch + 1):
                        state["stopped"] = True
                if checkpoint_dir is not None and (last_of_epoch or state["stopped"] or
                                                   (checkpoint_every and state["step"] % checkpoint_every == 0)):
                    checkpoint()
                if on_step is not None:
                    on_step(state["step"])
                if state["stopped"] or last_of_epoch:
                    break
            if bar is not None:
                bar.close()
                bar = None
        flush_losses()
    finally:
        if bar is not None:
            bar.close()
        if attn_before == "eager":
            model.set_attn_implementation("eager")

    if state["skipped_steps"]:
        notes.append(f"The fp16 loss scaler skipped {state['skipped_steps']} of {state['step']} optimiser steps "
                     "(inf or NaN gradients while it lowered its scale); the schedule did not advance on them.")
        print(notes[-1])
    if state["stopped"]:
        notes.append(f"Early stopping after step {state['step']}: no better {metric} in "
                     f"{early_stopping_patience} evaluations.")
        print(notes[-1])
    if keep_best and state["best_weights"] is not None:
        model.load_state_dict(state["best_weights"])
    model.eval()
    return TrainResult(model=model, history=pd.DataFrame(state["history"]), steps=pd.DataFrame(state["steps"]),
                       best=state["best_row"], config={**asdict(cfg), "micro_batch": micro, "device": str(device),
                                                       "grad_accum": state["grad_accum"],
                                                       "skipped_steps": state["skipped_steps"]},
                       seconds=time.perf_counter() - t_call, notes=notes)


def run_step(forward_model, model, data: Encoded, rows, lens: np.ndarray, optimizer, scheduler, scaler, autocast,
             weights, max_grad_norm, state: dict, multiple: int, width_cap: int, device) -> torch.Tensor:
    """One optimiser step over one batch, split into ``state['grad_accum']`` micro-batches.

    On CUDA out-of-memory the gradients are cleared and the same batch is retried in twice as many
    micro-batches of half the size: the effective batch, and so the result, stays the same.
    """
    if weights is not None:
        denominator = weights[data.labels[rows]].sum()  # weighted mean, computed on the device
    else:
        denominator = len(lens)
    while True:
        try:
            total = torch.zeros((), device=device)
            for part_rows, width in micro_batches(rows, lens, state["grad_accum"], multiple, width_cap):
                total += forward_backward(forward_model, data, part_rows, width, denominator, autocast, scaler,
                                          weights)
            if not optimizer_step(model, optimizer, scheduler, scaler, max_grad_norm):
                state["skipped_steps"] = state.get("skipped_steps", 0) + 1
            return total
        except torch.OutOfMemoryError:
            micro = math.ceil(len(lens) / state["grad_accum"])
            if micro <= 1:
                raise
            optimizer.zero_grad(set_to_none=True)
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            state["grad_accum"] *= 2
            new_micro = math.ceil(len(lens) / state["grad_accum"])
            message = (f"Out of GPU memory at micro-batch {micro}: retrying with micro-batch {new_micro} and "
                       f"{state['grad_accum']} accumulation steps (same effective batch, same result).")
            warnings.warn(message, RuntimeWarning, stacklevel=2)


def _progress(enabled: bool, total: int, initial: int, desc: str):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, desc=desc, unit="step", leave=True, dynamic_ncols=True)
