"""A fast, safe fine-tuning loop for sequence classification: chapter 4's engine.

``train(model, train_data, eval_data)`` fine-tunes any transformers ``...ForSequenceClassification``
model and returns a :class:`TrainResult` (the trained model and its history). :func:`train` is a short
spine that reads top to bottom in five phases; each phase is a small named part of this module:

1. **Prepare.** Check the inputs before anything runs: texts are strings, labels fit the head, the
   tokenizer fits the model (:func:`read_inputs`, :func:`check_inputs`, :func:`check_settings`). Choose
   the device and precision (:func:`choose_device_and_precision`), tokenise once into tensors that live
   on the device for the whole run (:func:`encode_splits`), batch by length (:class:`LengthBucketSampler`:
   each batch holds texts of similar length, so it is padded only a little; the order is still random,
   and every example comes once per epoch), and build the step (:func:`prepare_step`): fused AdamW with
   no weight decay on biases and LayerNorm, linear warm-up and decay, SDPA attention, and autocast in
   bf16 (Ampere and newer) or fp16 with loss scaling (T4, V100), fp32 on a CPU (``precision="bf16"`` or
   ``"fp16"`` also run on a CPU when asked for: CPU autocast and ``GradScaler("cpu")``, which is how the
   tests check those paths without a GPU); TF32 matrix products.
2. **Loop.** One optimiser step per batch (:func:`run_step`: :func:`forward_backward` per micro-batch,
   then :func:`optimizer_step`, with gradient clipping and accumulation); where the loop stands is one
   :class:`LoopState`. Losses stay on the device and are read every ``log_every`` steps
   (:class:`LossLog`), so the GPU never waits for Python.
3. **Evaluate** every epoch (and every ``eval_every`` steps), keep the best weights, stop early
   (:class:`Evaluation`).
4. **Checkpoint** (:class:`Checkpoints`): the settings, the model, optimiser, schedule, loss scaler,
   random generators and the :class:`LoopState`, written atomically (:func:`save_checkpoint`);
   ``resume=True`` continues exactly where a run stopped. On CUDA out-of-memory the micro-batch is halved
   and the accumulation doubled, so the effective batch and the result stay the same.
5. **Finish** (:func:`finish`): notes on skipped fp16 steps and early stopping, the best weights loaded,
   the :class:`TrainResult`.

Where it runs: ``device=`` or, by default, :func:`helpers.env.detect_device` (the book's device rule, in
:mod:`helpers.evaluate`). The learning rate, when not given, comes from :func:`default_lr`.

Defaults were chosen from measurements (see ``benchmarks/``): fp32 on a CPU, and no ``torch.compile``
by default because compiling costs about a minute on a fresh runtime, longer than a whole short run.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import random
import time
import warnings
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from .env import autocast_for, best_precision
from .evaluate import accuracy_and_f1, attention_mask, encode_texts, model_max_length, predict_logits

if TYPE_CHECKING:  # helpers.distributed is imported when used, so that `python -m helpers.distributed` runs clean
    from .distributed import World

CHECKPOINT_NAME = "checkpoint.pt"
METRICS = {"accuracy": "max", "f1": "max", "loss": "min"}


# ----------------------------------------------------------------------------------------------------
# 1. Inputs: what the reader may pass, and clear errors for what cannot work
# ----------------------------------------------------------------------------------------------------


def as_texts_and_labels(
    data, what: str = "train_data", names: list[str] | None = None
) -> tuple[list, list, list[str] | None]:
    """``(texts, labels, class names or None)`` from a ``datasets.Dataset``, a pandas DataFrame or a ``(texts,
    labels)`` pair. ``names``: the class names the labels must be numbered by (a DataFrame's string labels)."""
    if isinstance(data, pd.DataFrame):
        return frame_texts_and_labels(data, what, names)
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
    raise TypeError(
        f"{what} must be a datasets.Dataset or a pandas DataFrame with 'text' and 'label' columns, or a "
        f"pair (texts, labels); got {type(data).__name__}."
    )


def frame_texts_and_labels(frame: pd.DataFrame, what: str, names: list[str] | None) -> tuple[list, list, list | None]:
    """A DataFrame's ``text`` and ``label`` columns as ``(texts, labels, class names or None)``.

    Integer labels are kept as they are (class ids). Strings, a categorical or bools become class ids by
    :mod:`helpers.tables`' rules (sorted strings, the categories' order), or by ``names`` when given (the model's
    own class names, or the training split's for ``eval_data``). Missing labels and float labels get the errors
    :func:`helpers.tables.from_table` gives (a whole-number float column: convert it with ``astype(int)``).
    """
    from .tables import _check_columns, _label_ids

    try:
        _check_columns(frame, "text", "label")
    except (KeyError, ValueError) as err:
        raise type(err)(f"{what}: {err.args[0]}") from None
    values = frame["label"]
    if pd.api.types.is_integer_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return list(frame["text"]), [int(y) for y in values], None
    try:
        ids, found = _label_ids(values)  # raises for float labels
    except ValueError as err:
        raise ValueError(f"{what}: {err}") from None
    if names is None:
        return list(frame["text"]), ids.tolist(), found
    unknown = sorted(set(found) - set(names))
    if unknown:
        raise ValueError(f"{what} has labels {unknown} that are not among the classes {names}.")
    lookup = {n: i for i, n in enumerate(names)}
    return list(frame["text"]), [lookup[found[i]] for i in ids], list(names)


def check_inputs(model, tokenizer, texts: list, labels: list, what: str = "train_data") -> None:
    """Raise a clear error for anything that would fail (or silently go wrong) once training has started."""
    if not type(model).__name__.endswith("ForSequenceClassification"):
        raise TypeError(
            f"{type(model).__name__} has no sequence-classification head. Load the model with "
            "helpers.load_model(labels=...) or AutoModelForSequenceClassification.from_pretrained(..., "
            "num_labels=...)."
        )
    num_labels = model.config.num_labels
    if num_labels < 2:
        raise ValueError(
            f"The model has num_labels={num_labels}: that is regression, not classification. "
            "Load it with num_labels set to the number of classes."
        )
    if len(texts) == 0:
        raise ValueError(f"{what} is empty: there is nothing to train or evaluate on.")
    if len(texts) != len(labels):
        raise ValueError(f"{what} has {len(texts)} texts but {len(labels)} labels.")
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"{what}: text {i} is {type(t).__name__} ({t!r:.60}), not a string.")
    for i, y in enumerate(labels):
        if isinstance(y, (float, np.floating)):
            fix = (
                "drop the rows without a label"
                if math.isnan(y)
                else "convert them to integers first, e.g. "
                "df['label'] = df['label'].astype(int) or labels = [int(y) for y in labels]"
            )
            raise ValueError(
                f"{what}: label {i} is {y!r}, a float: labels must be integer class ids 0.."
                f"{num_labels - 1}; {fix}. (pandas turns an integer column into floats when a value "
                "is missing.)"
            )
        if isinstance(y, bool) or not isinstance(y, (int, np.integer)) or not 0 <= int(y) < num_labels:
            raise ValueError(
                f"{what}: label {i} is {y!r}, but the model's head has {num_labels} classes: labels "
                f"must be integers 0..{num_labels - 1}. Load the model with the right num_labels."
            )
    vocab = model.get_input_embeddings().num_embeddings
    if len(tokenizer) > vocab:
        raise ValueError(
            f"The tokenizer knows {len(tokenizer)} tokens but the model's embedding table has {vocab}: "
            "they do not belong together. Load both from the same name."
        )


def find_tokenizer(model):
    """The tokenizer saved with the model (its ``name_or_path``), or a clear error asking for one."""
    from transformers import AutoTokenizer

    source = getattr(model, "name_or_path", "") or ""
    try:
        return AutoTokenizer.from_pretrained(source)
    except Exception:  # no folder, no hub, no tokenizer files: all mean the same to the reader
        raise ValueError(
            "No tokenizer was given and none could be loaded from the model's name "
            f"({source!r}). Pass tokenizer=helpers.load_tokenizer(...)."
        ) from None


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
            chunk = order[start : start + pool]
            chunk = chunk[np.argsort(self.lengths[chunk], kind="stable")]
            out += [chunk[i : i + self.batch_size] for i in range(0, len(chunk), self.batch_size)]
        return [out[i] for i in rng.permutation(len(out))]


# ----------------------------------------------------------------------------------------------------
# 4. Optimiser, schedule, precision, the step
# ----------------------------------------------------------------------------------------------------


def param_groups(model, weight_decay: float) -> list[dict]:
    """Two groups: weight decay on weight matrices, none on biases and LayerNorm (1-d tensors).

    Only parameters with ``requires_grad=True`` are in them: a reader who freezes the encoder except its top
    layers (chapter 4's feature extraction against fine-tuning) calls :func:`train` as usual, and the frozen
    weights stay exactly as they were (no update, no weight decay).
    """
    decay, no_decay = [], []
    for p in model.parameters():
        if p.requires_grad:
            (no_decay if p.ndim < 2 else decay).append(p)
    if not decay and not no_decay:
        raise ValueError(
            "No parameter of the model has requires_grad=True: there is nothing to train. Unfreeze "
            "some, e.g. `for p in model.classifier.parameters(): p.requires_grad = True`."
        )
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


SCHEDULES = ("linear", "constant", "cosine", "exponential")  # what train(schedule=...) accepts
EXPONENTIAL_FINAL = 0.01  # the exponential schedule ends at lr x 0.01 at the last step


def make_scheduler(
    optimizer,
    total_steps: int,
    warmup_ratio: float,
    schedule: str = "linear",
    final_fraction: float = EXPONENTIAL_FINAL,
):
    """Linear warm-up over ``warmup_ratio`` of the steps, then the rate follows ``schedule`` (chapter 4 compares them):

    * ``"linear"`` (the default): linear decay to zero at the last step;
    * ``"constant"``: the peak rate until the end;
    * ``"cosine"``: half a cosine, from the peak down to zero at the last step;
    * ``"exponential"``: the rate shrinks by the same factor every step, from the peak to ``lr x final_fraction``
      (``lr x 0.01`` by default) at the last step: exponential decay never reaches zero, so it needs a stated end.

    The first three are transformers' own schedules (:func:`transformers.get_scheduler`); the exponential one is a
    ``torch.optim.lr_scheduler.LambdaLR``, because transformers has none.
    """
    from transformers import get_scheduler

    check_schedule(schedule)
    warmup = math.ceil(warmup_ratio * total_steps)
    if schedule == "exponential":
        decay_steps = max(total_steps - 1 - warmup, 1)  # the last step (number total_steps - 1) uses the final rate

        def factor(step: int) -> float:
            if step < warmup:
                return step / warmup  # the same warm-up as transformers' schedules
            return final_fraction ** (min(step - warmup, decay_steps) / decay_steps)

        return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
    name = {"constant": "constant_with_warmup"}.get(schedule, schedule)
    return get_scheduler(name, optimizer, num_warmup_steps=warmup, num_training_steps=total_steps)


def check_schedule(schedule: str) -> None:
    """A clear error for a schedule :func:`make_scheduler` does not know."""
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {', '.join(SCHEDULES)}; got {schedule!r}.")


def default_train_batch_size(device: torch.device, n_train: int) -> int:
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
        width = int(host_lengths[start : start + size].max())
        width = min(math.ceil(width / multiple) * multiple, cap)
        out.append((rows[start : start + size], width))
    return out


def forward_backward(
    model, data: Encoded, rows: torch.Tensor, width: int, denominator, autocast, scaler, class_weights
) -> torch.Tensor:
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


def evaluate_encoded(
    model, data: Encoded, *, batch_size: int, precision: str, class_weights=None, world: World | None = None
) -> dict:
    """Loss, accuracy and macro-F1 of the model on a pre-tokenised split. With several processes (``world``) each
    predicts rows ``rank, rank + size, ...`` and the logits are gathered: the metrics are those of one process."""
    world = world or single_process()
    rows = torch.arange(world.rank, len(data), world.size, device=data.input_ids.device)
    logits = predict_logits(
        model, data.input_ids[rows], data.lengths[rows].cpu(), batch_size=batch_size, precision=precision
    )
    from .distributed import gather_rows

    logits = gather_rows(logits, len(data), world)
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
# 8. The loop's parts: settings, state, the step, loss logging, evaluation, checkpoints, progress
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
    schedule: str = "linear"


@dataclass
class Interval:
    """What the steps since the last history row did: their losses (once read), examples and tokens."""

    losses: list[float] = field(default_factory=list)
    examples: int = 0
    tokens: int = 0  # real tokens
    padded: int = 0  # tokens including padding


@dataclass
class LoopState:
    """Where the loop stands: exactly what a checkpoint saves (under ``"loop"``) and ``resume=True`` restores."""

    grad_accum: int  # micro-batches per step (doubled when the GPU runs out of memory)
    epoch: int = 0  # epochs finished
    batch: int = 0  # batches of the current epoch done
    step: int = 0  # optimiser steps done
    history: list[dict] = field(default_factory=list)  # one row per evaluation point
    steps: list[dict] = field(default_factory=list)  # one row per step whose loss has been read
    best_score: float | None = None
    best_row: dict | None = None
    best_weights: dict | None = None  # a CPU copy, with keep_best
    bad_evals: int = 0  # evaluations since the best one
    stopped: bool = False  # by early stopping
    skipped_steps: int = 0  # fp16 steps skipped by the loss scaler
    interval: Interval = field(default_factory=Interval)

    def to_checkpoint(self) -> dict:
        """A plain dict with one key per field (the tensors are not copied)."""
        return {**{f.name: getattr(self, f.name) for f in fields(self)}, "interval": dict(vars(self.interval))}

    @classmethod
    def from_checkpoint(cls, saved: dict) -> "LoopState":
        return cls(**{**saved, "interval": Interval(**saved["interval"])})

    def count_step(self, lens: np.ndarray, padded: int, steps_per_epoch: int) -> bool:
        """Count one finished step of ``len(lens)`` examples; returns whether it ended the epoch."""
        self.step += 1
        self.batch += 1
        self.interval.examples += len(lens)
        self.interval.tokens += int(lens.sum())
        self.interval.padded += padded
        if self.batch < steps_per_epoch:
            return False
        self.epoch, self.batch = self.epoch + 1, 0
        return True


@dataclass
class StepParts:
    """Everything one optimiser step uses, built once by :func:`prepare_step`."""

    model: Any
    forward_model: Any  # the model, or its torch.compile wrapper
    data: Encoded  # the training split, on the device
    optimizer: torch.optim.Optimizer
    scheduler: Any
    scaler: Any  # a GradScaler for fp16, else None
    autocast: Any
    class_weights: torch.Tensor | None
    max_grad_norm: float | None
    multiple: int  # padded widths are multiples of this (8 for tensor cores)
    width_cap: int
    device: torch.device
    attn_before: str | None  # "eager" when the model was switched to SDPA for the run
    ddp: Any = None  # the DistributedDataParallel wrapper, with several processes
    world_size: int = 1

    def sync_gradients(self, last: bool):
        """With DDP, gradients are all-reduced in the backward of a step's last micro-batch only."""
        return self.ddp.no_sync() if self.ddp is not None and not last else contextlib.nullcontext()

    def padded_tokens(self, rows, lens: np.ndarray, grad_accum: int) -> int:
        return sum(len(r) * w for r, w in micro_batches(rows, lens, grad_accum, self.multiple, self.width_cap))

    def restore_attention(self) -> None:
        if self.attn_before == "eager":
            self.model.set_attn_implementation("eager")


def prepare_step(
    model,
    data: Encoded,
    cfg: Config,
    total_steps: int,
    device: torch.device,
    compile,
    class_weights,
    world: World | None = None,
) -> StepParts:
    """Seed, move the model, switch to SDPA attention, build AdamW, the schedule, the loss scaler, autocast; with
    several processes, wrap the model in DDP (which first copies rank 0's weights to every process)."""
    world = world or single_process()
    weights = torch.tensor(class_weights, dtype=torch.float32, device=device) if class_weights is not None else None
    torch.manual_seed(cfg.seed + world.rank)  # each process draws its own dropout masks
    model.to(device)
    attn_before = getattr(model.config, "_attn_implementation", None)
    if attn_before == "eager" and hasattr(model, "set_attn_implementation"):
        try:
            model.set_attn_implementation("sdpa")  # same numbers, faster; switched back at the end
        except Exception:  # noqa: BLE001 - a model without SDPA support trains with eager attention
            attn_before = None
    optimizer = make_optimizer(model, cfg.lr, cfg.weight_decay, device)
    scheduler = make_scheduler(optimizer, total_steps, cfg.warmup_ratio, cfg.schedule)
    scaler = torch.amp.GradScaler(device.type) if cfg.precision == "fp16" else None
    autocast = autocast_for(device, cfg.precision)
    ddp = None
    if world.active:
        from torch.nn.parallel import DistributedDataParallel

        # no buffer broadcast before each forward: BERT's buffers (position ids) never change, and without it a
        # process whose shard splits into fewer micro-batches than another's cannot leave the others waiting
        ddp = DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None, broadcast_buffers=False
        )
    forward_model = ddp or model
    if compile not in ("auto", False, None):
        forward_model = torch.compile(forward_model) if compile is True else torch.compile(forward_model, mode=compile)
    return StepParts(
        model,
        forward_model,
        data,
        optimizer,
        scheduler,
        scaler,
        autocast,
        weights,
        cfg.max_grad_norm,
        8 if device.type == "cuda" else 1,  # tensor cores like multiples of 8; a CPU does not care
        data.input_ids.shape[1],
        device,
        attn_before,
        ddp,
        world.size,
    )


def run_step(parts: StepParts, rows, lens: np.ndarray, loop: LoopState, global_rows=None) -> torch.Tensor:
    """One optimiser step over one batch, split into ``loop.grad_accum`` micro-batches; its loss, on the device.

    On CUDA out-of-memory the gradients are cleared and the same batch is retried in twice as many
    micro-batches of half the size: the effective batch, and so the result, stays the same. With several
    processes, ``rows`` is this process's shard of ``global_rows``; the loss is divided by the whole batch's
    size over the number of processes, because DDP averages the processes' gradients; an out-of-memory
    error there stops every process with a clear message (:func:`out_of_memory_in_parallel`).
    """
    data, weights = parts.data, parts.class_weights
    every = rows if global_rows is None else global_rows
    denominator = (weights[data.labels[every]].sum() if weights is not None else len(every)) / parts.world_size
    while True:
        try:
            total = torch.zeros((), device=parts.device)
            pieces = micro_batches(rows, lens, loop.grad_accum, parts.multiple, parts.width_cap)
            for i, (part_rows, width) in enumerate(pieces):
                with parts.sync_gradients(last=i == len(pieces) - 1):
                    total += forward_backward(
                        parts.forward_model, data, part_rows, width, denominator, parts.autocast, parts.scaler, weights
                    )
            if not optimizer_step(parts.model, parts.optimizer, parts.scheduler, parts.scaler, parts.max_grad_norm):
                loop.skipped_steps += 1
            return total
        except torch.OutOfMemoryError as err:
            micro = math.ceil(len(lens) / loop.grad_accum)
            if parts.world_size > 1:
                raise out_of_memory_in_parallel(micro, loop) from err
            if micro <= 1:
                raise
            parts.optimizer.zero_grad(set_to_none=True)
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
            loop.grad_accum *= 2
            new_micro = math.ceil(len(lens) / loop.grad_accum)
            message = (
                f"Out of GPU memory at micro-batch {micro}: retrying with micro-batch {new_micro} and "
                f"{loop.grad_accum} accumulation steps (same effective batch, same result)."
            )
            warnings.warn(message, RuntimeWarning, stacklevel=2)


def out_of_memory_in_parallel(micro: int, loop: LoopState) -> RuntimeError:
    """The error that stops a data-parallel run on out-of-memory: the other processes are waiting in the gradient
    all-reduce, which this one can no longer join, so ``torchrun`` stops them all (no hang, and no silent retry with
    other batches on one process only)."""
    return RuntimeError(
        f"Out of GPU memory in process {os.environ.get('RANK', '?')} at micro-batch {micro}: stopping "
        "every process. Rerun with a smaller batch_size and a larger grad_accum (the same effective "
        f"batch: e.g. batch_size={max(micro // 2, 1)}, grad_accum={2 * loop.grad_accum}); with "
        "checkpoint_dir and resume=True the run continues from its last checkpoint."
    )


class EpochBatches:
    """One epoch's batches: the order is copied to the device once, and batch ``b`` is a slice of it. With several
    processes, each takes its shard of every batch (:func:`helpers.distributed.shard`)."""

    def __init__(self, sampler: LengthBucketSampler, epoch: int, device: torch.device, world: World | None = None):
        from .distributed import shard

        world = world or single_process()
        self.whole, self.lengths = sampler.batches(epoch), sampler.lengths
        self.shards = [shard(self.whole, r, world.size) for r in range(world.size)]
        self.batches, self.world = self.shards[world.rank], world
        self.order = torch.from_numpy(np.concatenate(self.whole)).to(device, non_blocking=True)
        self.bounds = np.cumsum([0] + [len(b) for b in self.whole])

    def __getitem__(self, b: int) -> tuple[torch.Tensor, np.ndarray, torch.Tensor]:
        """(this process's rows on the device, their lengths on the host, the whole batch's rows on the device)."""
        whole = self.order[self.bounds[b] : self.bounds[b + 1]]
        return whole[self.world.rank :: self.world.size], self.lengths[self.batches[b]], whole

    def counts(self, b: int, parts: StepParts, grad_accum: int) -> tuple[np.ndarray, int]:
        """The whole batch's lengths and its padded tokens summed over every process's shard (for the history)."""
        padded = sum(parts.padded_tokens(s[b], self.lengths[s[b]], grad_accum) for s in self.shards)
        return self.lengths[self.whole[b]], padded


class LossLog:
    """Losses stay on the device and are read every ``log_every`` steps: the loop's only regular host sync."""

    def __init__(self, every: int):
        self.every = every
        self.pending: list[tuple[int, int, float, torch.Tensor]] = []  # (step, epoch, lr, loss on the device)

    def add(self, step: int, epoch: int, lr: float, loss: torch.Tensor) -> bool:
        """Keep one step's loss; returns whether ``log_every`` losses are waiting to be read."""
        self.pending.append((step, epoch, lr, loss))
        return len(self.pending) >= self.every

    def flush(self, loop: LoopState) -> float | None:
        """Read the waiting losses from the device into ``loop.steps`` and the current interval; the latest loss."""
        if self.pending:
            values = torch.stack([p[3] for p in self.pending]).tolist()
            for (step, epoch, lr, _), value in zip(self.pending, values):
                loop.steps.append({"step": step, "epoch": epoch, "loss": value, "lr": lr})
                loop.interval.losses.append(value)
            self.pending.clear()
        return loop.steps[-1]["loss"] if loop.steps else None


class Evaluation:
    """Closes an interval into a history row (training loss, validation scores, throughput), keeps the best
    weights, and decides early stopping."""

    def __init__(
        self,
        parts: StepParts,
        data: Encoded | None,
        *,
        batch_size: int,
        precision: str,
        metric: str,
        keep_best: bool,
        patience: int | None,
        world: World | None = None,
    ):
        self.parts, self.data, self.batch_size, self.precision = parts, data, batch_size, precision
        self.world = world or single_process()
        self.metric, self.keep_best, self.patience = metric, keep_best, patience
        self.since = time.perf_counter()  # when the current interval started

    def rate(self, loop: LoopState) -> float:
        """Examples per second so far in this interval."""
        return loop.interval.examples / max(time.perf_counter() - self.since, 1e-9)

    def record(self, loop: LoopState, epoch: float) -> dict:
        """Append the interval's row to ``loop.history``; sets ``loop.stopped`` when patience has run out."""
        if self.parts.device.type == "cuda":
            torch.cuda.synchronize(self.parts.device)
        seconds = time.perf_counter() - self.since
        iv = loop.interval
        row = {
            "epoch": round(epoch, 4),
            "step": loop.step,
            "train_loss": float(np.mean(iv.losses)) if iv.losses else math.nan,
            "lr": self.parts.scheduler.get_last_lr()[0],
        }
        if self.data is not None:
            scores = evaluate_encoded(
                self.parts.model,
                self.data,
                batch_size=self.batch_size,
                precision=self.precision,
                class_weights=self.parts.class_weights,
                world=self.world,
            )
            row.update({f"eval_{k}": v for k, v in scores.items()})
        row.update(
            {
                "seq_per_s": iv.examples / seconds if seconds > 0 else math.nan,
                "tokens_per_s": iv.tokens / seconds if seconds > 0 else math.nan,
                "padding": 1 - iv.tokens / iv.padded if iv.padded else math.nan,
                "seconds": seconds,
            }
        )
        loop.history.append(row)
        loop.interval = Interval()
        if self.data is not None:
            self.keep_if_best(loop, row)
        self.since = time.perf_counter()
        return row

    def keep_if_best(self, loop: LoopState, row: dict) -> None:
        score = row[f"eval_{self.metric}"]
        better = loop.best_score is None or (
            score > loop.best_score if METRICS[self.metric] == "max" else score < loop.best_score
        )
        if better:
            loop.best_score, loop.best_row, loop.bad_evals = score, dict(row), 0
            if self.keep_best:
                loop.best_weights = {
                    k: v.detach().to("cpu", copy=True) for k, v in self.parts.model.state_dict().items()
                }
        else:
            loop.bad_evals += 1
            if self.patience is not None and loop.bad_evals >= self.patience:
                loop.stopped = True


class LoopRecorder:
    """The rows of ``TrainResult.history`` for the book's smaller loops (:func:`train_pretraining`,
    :func:`train_heads`, :func:`helpers.rnn.train_rnn`, :func:`helpers.compress.distill`), in the columns
    :func:`helpers.train` writes: epoch, step, train_loss, lr, the ``eval_`` scores, seq_per_s, tokens_per_s,
    padding and seconds (training time since the previous row, evaluation not included). The loops keep their
    state in a :class:`helpers.training.LoopState` and read their losses with a :class:`helpers.training.LossLog`,
    as :func:`helpers.train` does; :meth:`result` returns the same :class:`helpers.training.TrainResult`.
    """

    def __init__(self, device: str | torch.device):
        self.device = torch.device(device)
        self.since = time.perf_counter()  # when the current interval started

    def rate(self, loop: LoopState) -> float:
        """Examples per second so far in this interval (for the progress bar)."""
        return loop.interval.examples / max(time.perf_counter() - self.since, 1e-9)

    def record(self, loop: LoopState, epoch: float, lr: float, evaluate: Callable[[], dict] | None = None) -> dict:
        """Close the interval into a history row (``evaluate()`` gives its ``eval_`` scores) and append it."""
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        seconds, iv = time.perf_counter() - self.since, loop.interval
        row = {
            "epoch": round(epoch, 4),
            "step": loop.step,
            "train_loss": float(np.mean(iv.losses)) if iv.losses else math.nan,
            "lr": lr,
        }
        row.update({f"eval_{k}": v for k, v in (evaluate() if evaluate is not None else {}).items()})
        row.update(
            seq_per_s=iv.examples / seconds if seconds > 0 else math.nan,
            tokens_per_s=iv.tokens / seconds if seconds > 0 else math.nan,
            padding=1 - iv.tokens / iv.padded if iv.padded else math.nan,
            seconds=seconds,
        )
        loop.history.append(row)
        loop.interval = Interval()
        self.since = time.perf_counter()
        return row

    @staticmethod
    def keep_if_best(loop: LoopState, row: dict, column: str, *, higher_is_better: bool = True, model=None) -> bool:
        """Remember ``row`` as the best so far by ``column`` (and a CPU copy of ``model``'s weights, when given)."""
        score = row.get(column, math.nan)
        if math.isnan(score) or (
            loop.best_score is not None
            and not (score > loop.best_score if higher_is_better else score < loop.best_score)
        ):
            return False
        loop.best_score, loop.best_row = score, dict(row)
        if model is not None:
            loop.best_weights = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        return True

    @staticmethod
    def result(model, loop: LoopState, config: dict, started: float, kind: type = TrainResult) -> TrainResult:
        """The :class:`helpers.training.TrainResult` (or ``kind``, a subclass) of a finished loop."""
        return kind(
            model=model,
            history=pd.DataFrame(loop.history),
            steps=pd.DataFrame(loop.steps),
            best=loop.best_row,
            config=config,
            seconds=time.perf_counter() - started,
            notes=[],
        )


@dataclass
class Checkpoints:
    """When checkpoints are written, and what they hold: the settings, model, optimiser, schedule, loss scaler,
    random generators and the :class:`LoopState`; :meth:`resume` puts all of it back."""

    folder: str | Path | None
    every: int | None
    config: Config
    parts: StepParts
    world: Any = None  # a helpers.distributed.World (None: one process)

    def __post_init__(self):
        self.world = self.world or single_process()

    def due(self, loop: LoopState, last_of_epoch: bool) -> bool:
        """After every epoch, on stopping, and every ``checkpoint_every`` steps (when there is a folder)."""
        return self.folder is not None and bool(
            last_of_epoch or loop.stopped or (self.every and loop.step % self.every == 0)
        )

    def save(self, loop: LoopState) -> None:
        """Rank 0 writes (every rank calls this: the ranks' random generators are gathered to rank 0 first)."""
        from .distributed import gather_objects

        p, rngs = self.parts, gather_objects(rng_state(self.parts.device), self.world)
        if not self.world.is_main:
            return
        parallel = {"world_size": self.world.size, "rng_ranks": rngs} if self.world.active else {}
        save_checkpoint(
            self.folder,
            {
                "config": asdict(self.config),
                "model": p.model.state_dict(),
                "optimizer": p.optimizer.state_dict(),
                "scheduler": p.scheduler.state_dict(),
                "scaler": p.scaler.state_dict() if p.scaler is not None else None,
                "rng": rngs[0],
                "loop": loop.to_checkpoint(),
                **parallel,
            },
        )

    def resume(self, loop: LoopState, notes: list[str]) -> LoopState:
        """The saved loop state, with the model, optimiser, schedule, scaler and generators restored (or ``loop``
        when the folder holds no checkpoint yet); the note it adds is printed."""
        saved, p = load_checkpoint(self.folder), self.parts
        if saved is None:
            notes.append(f"resume=True but {self.folder} holds no checkpoint yet: starting from the beginning.")
        else:
            differ = {
                k: (v, saved["config"].get(k)) for k, v in asdict(self.config).items() if saved["config"].get(k) != v
            }
            if differ:
                raise ValueError(
                    "The checkpoint was made with other settings or data; resume with the same ones "
                    f"or choose another checkpoint_dir. Differences (now, saved): {differ}"
                )
            p.model.load_state_dict(saved["model"])
            p.optimizer.load_state_dict(saved["optimizer"])
            p.scheduler.load_state_dict(saved["scheduler"])
            if p.scaler is not None and saved.get("scaler") is not None:
                p.scaler.load_state_dict(saved["scaler"])
            saved_size, accum = saved.get("world_size", 1), loop.grad_accum
            set_rng_state(
                saved["rng_ranks"][self.world.rank] if saved_size == self.world.size > 1 else saved["rng"], p.device
            )
            loop = LoopState.from_checkpoint(saved["loop"])
            notes.append(
                f"Resumed from {Path(self.folder) / CHECKPOINT_NAME} at step {loop.step} "
                f"(epoch {loop.epoch + 1}, batch {loop.batch})."
            )
            if saved_size != self.world.size:  # the same effective batch, cut differently
                loop.grad_accum = accum
                notes[-1] += (
                    f" It was written by {saved_size} process(es) and continues in {self.world.size}, "
                    "with the same effective batch; dropout draws other masks from here on."
                )
        if self.world.is_main:
            print(notes[-1])
        return loop


class Progress:
    """One tqdm bar per epoch, with the latest loss, throughput and score (nothing when ``progress=False``)."""

    def __init__(self, enabled: bool, metric: str):
        self.enabled, self.metric, self.bar = enabled, metric, None

    def start(self, total: int, initial: int, desc: str) -> None:
        if self.enabled:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=total, initial=initial, desc=desc, unit="step", leave=True, dynamic_ncols=True)

    def update(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def show_loss(self, loss: float, rate: float) -> None:
        if self.bar is not None:
            self.bar.set_postfix({"loss": f"{loss:.3f}", "seq/s": f"{rate:.0f}"}, refresh=False)

    def show_row(self, row: dict) -> None:
        if self.bar is not None:
            shown = {"loss": f"{row['train_loss']:.3f}", "seq/s": f"{row['seq_per_s']:.0f}"}
            if f"eval_{self.metric}" in row:
                shown[self.metric] = f"{row[f'eval_{self.metric}']:.3f}"
            self.bar.set_postfix(shown, refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


# ----------------------------------------------------------------------------------------------------
# 9. Preparing and finishing a run
# ----------------------------------------------------------------------------------------------------


def read_inputs(model, train_data, eval_data, tokenizer):
    """``(tokenizer, (texts, labels, class names), (eval texts, eval labels) or None)``, all checked; a head with
    placeholder class names gets the data's (:func:`name_classes`)."""
    own = list(model.config.id2label.values()) if hasattr(model, "config") else []
    own = None if not own or all(str(v).startswith("LABEL_") for v in own) else own  # the head's real class names
    texts, labels, names = as_texts_and_labels(train_data, "train_data", own)
    tokenizer = tokenizer if tokenizer is not None else find_tokenizer(model)
    check_inputs(model, tokenizer, texts, labels, "train_data")
    evaluation = None
    if eval_data is not None:
        eval_texts, eval_labels, _ = as_texts_and_labels(eval_data, "eval_data", names or own)
        check_inputs(model, tokenizer, eval_texts, eval_labels, "eval_data")
        evaluation = (eval_texts, eval_labels)
    name_classes(model, names)
    return tokenizer, (texts, labels, names), evaluation


def check_settings(
    metric: str, epochs: int, grad_accum: int, resume: bool, checkpoint_dir, schedule: str = "linear"
) -> None:
    """Clear errors for settings that cannot work, before anything runs."""
    check_schedule(schedule)
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}.")
    if epochs < 1 or grad_accum < 1:
        raise ValueError(f"epochs and grad_accum must be at least 1 (got {epochs}, {grad_accum}).")
    if resume and checkpoint_dir is None:
        raise ValueError("resume=True needs checkpoint_dir: the folder where the interrupted run saved its state.")


def name_classes(model, names: list[str] | None) -> None:
    """Give a head with placeholder names (LABEL_0, ...) the data's class names, so predictions print them."""
    if (
        names
        and all(v.startswith("LABEL_") for v in model.config.id2label.values())
        and len(names) == model.config.num_labels
    ):
        model.config.id2label = dict(enumerate(names))
        model.config.label2id = {n: i for i, n in enumerate(names)}


def single_process() -> World:
    """The :class:`helpers.distributed.World` of an ordinary run: one process, rank 0."""
    from .distributed import World

    return World()


def choose_device_and_precision(device, precision: str) -> tuple[World, torch.device, str]:
    """The processes (:func:`helpers.distributed.start`: one, or torchrun's N, each with its device), the device
    (:func:`helpers.evaluate.training_device`; ``cuda:LOCAL_RANK`` under torchrun) and the precision, ``"auto"``
    resolved there."""
    from .distributed import start

    world, device = start(device)
    precision = best_precision(device.type) if precision == "auto" else precision
    if precision not in ("fp32", "bf16", "fp16"):
        raise ValueError(f"precision must be auto, fp32, bf16 or fp16, got {precision!r}.")
    if device.type == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True  # fp32 leftovers (the fp32 loss, the head) use TF32
        torch.backends.cudnn.allow_tf32 = True
    return world, device, precision


@dataclass
class Splits:
    """The tokenised data: the training split on the device, its lengths on the host (batches and padding are
    planned there), its fingerprint, and the evaluation split on the device (or ``None``)."""

    train: Encoded
    host_lengths: np.ndarray
    fingerprint: str
    eval: Encoded | None
    max_length: int


def encode_splits(
    model, tokenizer, train: tuple, evaluation: tuple | None, max_length: int | None, device: torch.device
) -> Splits:
    max_length = max_length or model_max_length(model, tokenizer)
    train_enc = encode(tokenizer, train[0], train[1], max_length)
    eval_enc = encode(tokenizer, *evaluation, max_length).to(device) if evaluation is not None else None
    return Splits(train_enc.to(device), train_enc.lengths.numpy(), fingerprint(train_enc), eval_enc, max_length)


def parameter_counts(model) -> dict:
    """How many weights the model has, and how many of them training changed (``requires_grad=True``)."""
    return {
        "parameters": sum(p.numel() for p in model.parameters()),
        "trainable_parameters": sum(p.numel() for p in model.parameters() if p.requires_grad),
    }


def finish(
    model,
    loop: LoopState,
    config: dict,
    notes: list[str],
    *,
    metric: str,
    patience: int | None,
    keep_best: bool,
    started: float,
    world: World | None = None,
) -> TrainResult:
    """Say what happened (skipped fp16 steps, early stopping), load the best weights, return the result (the same
    on every process)."""
    world = world or single_process()
    said = []
    if loop.skipped_steps:
        said.append(
            f"The fp16 loss scaler skipped {loop.skipped_steps} of {loop.step} optimiser steps "
            "(inf or NaN gradients while it lowered its scale); the schedule did not advance on them."
        )
    if loop.stopped:
        said.append(f"Early stopping after step {loop.step}: no better {metric} in {patience} evaluations.")
    for note in said:
        notes.append(note)
        if world.is_main:  # one process speaks for all
            print(note)
    if keep_best and loop.best_weights is not None:
        model.load_state_dict(loop.best_weights)
    model.eval()
    return TrainResult(
        model=model,
        history=pd.DataFrame(loop.history),
        steps=pd.DataFrame(loop.steps),
        best=loop.best_row,
        config={
            **config,
            "grad_accum": loop.grad_accum,
            "skipped_steps": loop.skipped_steps,
            **parameter_counts(model),
        },
        seconds=time.perf_counter() - started,
        notes=notes,
    )


# ----------------------------------------------------------------------------------------------------
# 10. train(): prepare, loop, evaluate, checkpoint, finish
# ----------------------------------------------------------------------------------------------------


def train(
    model,
    train_data,
    eval_data=None,
    *,
    tokenizer=None,
    epochs: int = 3,
    batch_size: int | None = None,
    lr: float | None = None,
    weight_decay: float = 0.01,
    warmup_ratio: float = 0.06,
    max_length: int | None = None,
    grad_accum: int = 1,
    max_grad_norm: float | None = 1.0,
    precision: str = "auto",
    compile: bool | str = "auto",
    eval_every: int | None = None,
    metric: str = "accuracy",
    keep_best: bool = True,
    early_stopping_patience: int | None = None,
    checkpoint_dir: str | Path | None = None,
    checkpoint_every: int | None = None,
    resume: bool = False,
    seed: int = 0,
    progress: bool = True,
    log_every: int = 20,
    class_weights: Sequence[float] | None = None,
    pool_batches: int | None = None,
    device: str | torch.device | None = None,
    eval_batch_size: int | None = None,
    schedule: str = "linear",
    on_step: Callable[[int], None] | None = None,
) -> TrainResult:
    """Fine-tune ``model`` on ``train_data``; evaluate on ``eval_data`` after every epoch.

    Data: a ``datasets.Dataset`` or pandas DataFrame with ``text`` and ``label`` columns, or a pair ``(texts, labels)``.
    ``batch_size`` is the micro-batch on the device; the optimiser sees ``batch_size * grad_accum`` examples per step
    (times N under ``torchrun --nproc_per_node=N``, where every process runs this same call, data parallel:
    :mod:`helpers.distributed`; only rank 0 prints and writes checkpoints). ``None`` settings are chosen from the
    device and the data: batch 32 on a CPU (up to 256 on a GPU), ``lr`` by :func:`default_lr`, ``max_length`` the
    longest text up to the model's limit, precision by :func:`helpers.env.best_precision`. ``compile="auto"``: no
    ``torch.compile``; pass ``True`` or a mode for long runs. ``metric`` (accuracy, f1 or loss) picks the best model
    and drives ``early_stopping_patience`` (in evaluations). With ``checkpoint_dir`` a checkpoint is written after
    every epoch (and every ``checkpoint_every`` steps); ``resume=True`` continues from it and ends with the same
    weights as an uninterrupted run. ``on_step(step)`` is called after every optimiser step (a raise there interrupts
    the run). ``device`` (default :func:`helpers.env.detect_device`): the model is moved there in place, with all
    the data; the history comes back as plain numbers. ``precision="fp16"`` uses a loss scaler; steps it skips for
    inf/NaN gradients do not advance the schedule and are counted in ``config["skipped_steps"]``. ``schedule``: the
    rate after the warm-up (:func:`make_scheduler`).
    """
    started, notes = time.perf_counter(), []  # 1. Prepare: check, choose device, batch and rate, tokenise, build
    tokenizer, train_split, eval_split = read_inputs(model, train_data, eval_data, tokenizer)
    check_settings(metric, epochs, grad_accum, resume, checkpoint_dir, schedule)
    world, device, precision = choose_device_and_precision(device, precision)  # world: 1 process or torchrun's N
    data = encode_splits(model, tokenizer, train_split, eval_split, max_length, device)
    micro = batch_size or default_train_batch_size(device, len(data.host_lengths) // world.size)
    effective = world.plan(len(data.host_lengths), micro, grad_accum)  # micro x accumulation x processes
    lr = lr if lr is not None else default_lr(model, effective)
    settings = (epochs, effective, lr, weight_decay, warmup_ratio, data.max_length, max_grad_norm, seed, metric)
    cfg = Config(*settings, precision, pool_batches, data.fingerprint, schedule)
    sampler = LengthBucketSampler(data.host_lengths, cfg.effective_batch, seed=seed, pool_batches=pool_batches)
    steps_per_epoch = len(sampler)
    parts = prepare_step(model, data.train, cfg, epochs * steps_per_epoch, device, compile, class_weights, world)
    checkpoints = Checkpoints(checkpoint_dir, checkpoint_every, cfg, parts, world)
    loop = checkpoints.resume(LoopState(grad_accum), notes) if resume else LoopState(grad_accum)
    choice = dict(metric=metric, keep_best=keep_best, patience=early_stopping_patience, world=world)  # best, stop
    evaluation = Evaluation(parts, data.eval, batch_size=eval_batch_size or 2 * micro, precision=precision, **choice)
    log, bar = LossLog(log_every), Progress(progress and world.is_main, metric)
    # 2. Loop: every epoch in length-bucketed batches, one optimiser step per batch.
    model.train()
    try:
        while loop.epoch < epochs and not loop.stopped:
            epoch, batches = loop.epoch, EpochBatches(sampler, loop.epoch, device, world)
            bar.start(steps_per_epoch, loop.batch, f"epoch {epoch + 1}/{epochs}")
            while loop.batch < steps_per_epoch:
                rows, lens, whole = batches[loop.batch]  # this process's shard of the batch, and the whole batch
                step_lr = parts.scheduler.get_last_lr()[0]  # the rate this step uses
                loss = run_step(parts, rows, lens, loop, whole)
                end_of_epoch = loop.count_step(*batches.counts(loop.batch, parts, loop.grad_accum), steps_per_epoch)
                bar.update()
                if log.add(loop.step, epoch + 1, step_lr, loss):
                    bar.show_loss(log.flush(loop), evaluation.rate(loop))
                # 3. Evaluate after every epoch and every eval_every steps: the best weights, early stopping.
                if end_of_epoch or (eval_every and loop.step % eval_every == 0):
                    log.flush(loop)
                    bar.show_row(evaluation.record(loop, epoch + (1 if end_of_epoch else loop.batch / steps_per_epoch)))
                # 4. Checkpoint after every epoch, on stopping, and every checkpoint_every steps.
                if checkpoints.due(loop, end_of_epoch):
                    log.flush(loop)
                    checkpoints.save(loop)
                if on_step is not None:
                    on_step(loop.step)
                if loop.stopped or end_of_epoch:
                    break
            bar.close()
        log.flush(loop)
    finally:
        bar.close()
        parts.restore_attention()
    # 5. Finish: the notes, the best weights, the result.
    config = {**asdict(cfg), "micro_batch": micro, "device": str(device), **world.config()}
    return finish(model, loop, config, notes, started=started, **choice)
