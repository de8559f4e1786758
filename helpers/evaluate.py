"""Predictions and metrics: what a fine-tuned classifier says about texts, and how good that is.

Chapter 4 uses :func:`predict` and :func:`accuracy_and_f1` to score the model that :func:`helpers.train`
returns; chapter 5 extends this module (confusion matrix, calibration, error analysis).

:func:`predict` is fast for the same reasons as the training loop: it tokenises all texts at once,
sorts them by length so that each batch is padded only to its own longest text, runs the batches
under ``torch.inference_mode`` (and autocast on a GPU), keeps the logits on the device until the
end (one copy back, no synchronisation per batch), and puts the answers back in the input order.

**Where the work runs: the book's one device rule** (every ``helpers`` function that trains or predicts follows
it; :func:`training_device` and :func:`prediction_device` implement it):

* an explicit ``device=`` (``"cuda"``, ``"cpu"``, ``torch.device(...)``) wins: the model is moved there in place
  (``model.to(device)``, as :func:`helpers.train` does) and every batch goes there too;
* ``device=None`` in a function that **trains** means :func:`helpers.env.detect_device` (the GPU when there is
  one), the same default as :func:`helpers.train`;
* ``device=None`` in a function that only **predicts** means the device the model's weights are on already:
  nothing moves, so a model that a training helper left on the GPU is also scored there.

Results (logits, probabilities, histories) always come back on the CPU, as tensors, arrays or floats.
Functions whose *point* is a CPU result (int8 quantisation, CPU latency in :mod:`helpers.compress`) work on a
CPU copy and never move the caller's model.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Sequence

import numpy as np
import pandas as pd
import torch

from .env import autocast_for, best_precision


class Predictions(NamedTuple):
    """What :func:`predict` returns: one predicted class id per text and the class probabilities."""

    labels: np.ndarray  # shape (n,), int
    probs: np.ndarray  # shape (n, num_labels), float32, rows sum to 1


def model_device(model) -> torch.device:
    """The device that holds the model's weights."""
    return next(model.parameters()).device


def training_device(device: str | torch.device | None = None) -> torch.device:
    """Where a training helper runs: ``device`` when given, else :func:`helpers.env.detect_device` (as
    :func:`helpers.train`). See the device rule in this module's text."""
    if device is not None:
        return torch.device(device)
    from . import env  # looked up at call time, so one patch of env.detect_device reaches every helper

    return torch.device(env.detect_device())


def prediction_device(model, device: str | torch.device | None = None) -> torch.device:
    """Where a prediction helper runs: ``device`` when given (the model is moved there, in place), else the
    device the model is on (nothing moves). See the device rule in this module's text."""
    if device is None:
        return model_device(model)
    device = torch.device(device)
    if model_device(model) != device:
        model.to(device)
    return device


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


def predict_logits(
    model,
    input_ids: torch.Tensor,
    lengths: torch.Tensor,
    *,
    batch_size: int = 64,
    precision: str = "fp32",
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """Logits (float32, on the CPU, in input order) for pre-tokenised inputs, batched by length.

    ``input_ids`` is right-padded and ``lengths`` gives each row's real length (see :func:`encode_texts`).
    On a CUDA out-of-memory error the batch size is halved and the pass restarts. ``device``: see the
    module's device rule (``None``: where the model is).
    """
    return logits_on_device(model, input_ids, lengths, batch_size=batch_size, precision=precision, device=device).cpu()


def logits_on_device(
    model,
    input_ids: torch.Tensor,
    lengths: torch.Tensor,
    *,
    batch_size: int = 64,
    precision: str = "fp32",
    device: str | torch.device | None = None,
) -> torch.Tensor:
    """:func:`predict_logits` without the final copy to the CPU: the logits stay on the model's device
    (for a caller that keeps working there, such as distillation's teacher logits)."""
    device = prediction_device(model, device)
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
                        rows = order_dev[start : start + batch_size]
                        width = widths[start]  # the longest in this batch, known on the host
                        out = model(
                            input_ids=ids_dev[rows, :width], attention_mask=attention_mask(len_dev[rows], width)
                        )
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
        return logits
    finally:
        model.train(was_training)


def default_batch_size(device: torch.device | str) -> int:
    """Inference batch size: large on a GPU (launch overhead dominates short texts), moderate on a CPU."""
    return 256 if torch.device(device).type == "cuda" else 64


def predict(
    model,
    tokenizer,
    texts: Sequence[str] | str,
    *,
    batch_size: int | None = None,
    max_length: int | None = None,
    precision: str = "auto",
    device: str | torch.device | None = None,
) -> Predictions:
    """Classify texts: the predicted class ids and the probabilities of every class, in the input order.

    ``max_length`` defaults to the model's limit (512 for BERT), so nothing is cut that need not be;
    sorting by length keeps short texts cheap. ``precision="auto"`` uses bf16/fp16 autocast on a GPU
    and fp32 on a CPU. ``device``: see the module's device rule (``None``: where the model is).
    """
    logits = _text_logits(model, tokenizer, texts, batch_size, max_length, precision, device, caller="predict")
    probs = torch.softmax(logits, dim=-1)
    return Predictions(labels=probs.argmax(dim=-1).numpy(), probs=probs.numpy())


def _text_logits(
    model,
    tokenizer,
    texts: Sequence[str] | str,
    batch_size: int | None,
    max_length: int | None,
    precision: str,
    device: str | torch.device | None = None,
    *,
    caller: str,
) -> torch.Tensor:
    """Tokenise ``texts`` once and run :func:`predict_logits` on them (the shared core of predict and
    logits_for_texts); ``caller`` names the public function in the error for a text that is not a string."""
    if isinstance(texts, str):
        texts = [texts]
    texts = list(texts)
    bad = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if bad:
        raise TypeError(f"{caller} needs strings; item {bad[0]} is {type(texts[bad[0]]).__name__}.")
    device = prediction_device(model, device)
    if precision == "auto":
        precision = best_precision(device.type)
    ids, lengths = encode_texts(tokenizer, texts, max_length or model_max_length(model, tokenizer))
    return predict_logits(
        model, ids, lengths, batch_size=batch_size or default_batch_size(device), precision=precision, device=device
    )


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
    return {
        "accuracy": float(accuracy_score(labels, preds)),
        "f1": float(f1_score(labels, preds, average="macro", zero_division=0)),
    }


# ----------------------------------------------------------------------------------------------------
# Chapter 5: logits, the confusion matrix by hand, reports, calibration, error analysis
# ----------------------------------------------------------------------------------------------------


def logits_for_texts(
    model,
    tokenizer,
    texts: Sequence[str] | str,
    *,
    batch_size: int | None = None,
    max_length: int | None = None,
    precision: str = "auto",
    device: str | torch.device | None = None,
) -> np.ndarray:
    """The raw logits for texts (a float32 array ``(n, num_labels)``, in the input order).

    The same batching as :func:`predict`, which returns ``softmax`` of these. Calibration needs the logits
    themselves: temperature scaling divides them by a number before the softmax. ``device``: as :func:`predict`.
    """
    logits = _text_logits(model, tokenizer, texts, batch_size, max_length, precision, device, caller="logits_for_texts")
    return logits.numpy().astype(np.float32)


def _labels_and_preds(labels, preds) -> tuple[np.ndarray, np.ndarray]:
    labels, preds = np.asarray(labels), np.asarray(preds)
    if labels.ndim != 1 or preds.ndim != 1:
        raise ValueError(
            f"labels and predictions must be 1-d arrays of class ids; got shapes {labels.shape} and {preds.shape}."
        )
    if len(labels) != len(preds):
        raise ValueError(f"{len(labels)} labels but {len(preds)} predictions.")
    if len(labels) == 0:
        raise ValueError("There are no labels to score.")
    return labels.astype(int), preds.astype(int)


def confusion_counts(labels, preds, label_names: Sequence[str]) -> pd.DataFrame:
    """TP, FP, FN and TN of every class, read off scikit-learn's confusion matrix (rows: true, columns: predicted).

    For class ``c``: TP is the diagonal cell, FP the rest of column ``c`` (predicted ``c``, but not ``c``),
    FN the rest of row ``c`` (truly ``c``, predicted otherwise), TN everything else. ``support`` = TP + FN.
    """
    from sklearn.metrics import confusion_matrix

    labels, preds = _labels_and_preds(labels, preds)
    k = len(label_names)
    if labels.max() >= k or preds.max() >= k or min(labels.min(), preds.min()) < 0:
        raise ValueError(f"Class ids must lie in 0..{k - 1} for {k} label names.")
    cm = confusion_matrix(labels, preds, labels=list(range(k)))
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    tn = cm.sum() - tp - fp - fn
    return pd.DataFrame(
        {"TP": tp, "FP": fp, "FN": fn, "TN": tn, "support": tp + fn}, index=pd.Index(list(label_names), name="class")
    )


def scores_from_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """Precision, recall and F1 per class, and their macro and weighted averages, from TP / FP / FN by hand.

    ``precision = TP / (TP + FP)``, ``recall = TP / (TP + FN)``, ``F1 = 2 TP / (2 TP + FP + FN)`` (the harmonic mean
    of the two); a ratio whose denominator is 0 counts as 0, as scikit-learn's ``zero_division=0``. The macro
    average is the plain mean over classes; the weighted average weights each class by its support.
    """
    missing = {"TP", "FP", "FN", "support"} - set(counts.columns)
    if missing:
        raise ValueError(f"The table lacks the columns {sorted(missing)}; make it with confusion_counts.")
    tp, fp, fn = (counts[c].to_numpy(dtype=float) for c in ("TP", "FP", "FN"))
    support = counts["support"].to_numpy(dtype=float)

    def ratio(num, den):
        return np.divide(num, den, out=np.zeros_like(num), where=den > 0)

    table = pd.DataFrame(
        {
            "precision": ratio(tp, tp + fp),
            "recall": ratio(tp, tp + fn),
            "f1": ratio(2 * tp, 2 * tp + fp + fn),
            "support": support,
        },
        index=counts.index,
    )
    per_class = table[["precision", "recall", "f1"]]
    table.loc["macro avg"] = [*per_class.mean().to_numpy(), support.sum()]
    weights = support / support.sum() if support.sum() > 0 else np.zeros_like(support)
    table.loc["weighted avg"] = [*(per_class.to_numpy() * weights[:, None]).sum(axis=0), support.sum()]
    return table


def classification_table(labels, preds, label_names: Sequence[str]) -> pd.DataFrame:
    """scikit-learn's ``classification_report`` as a table: one row per class, ``accuracy``, ``macro avg``,
    ``weighted avg``; columns ``precision``, ``recall``, ``f1``, ``support`` (accuracy sits in the f1 column,
    as in the printed report)."""
    from sklearn.metrics import classification_report

    labels, preds = _labels_and_preds(labels, preds)
    report = classification_report(
        labels,
        preds,
        labels=list(range(len(label_names))),
        target_names=list(label_names),
        output_dict=True,
        zero_division=0,
    )
    rows = {}
    for key, value in report.items():
        if key == "accuracy":
            rows[key] = {"precision": math.nan, "recall": math.nan, "f1": value, "support": float(len(labels))}
        else:
            rows[key] = {
                "precision": value["precision"],
                "recall": value["recall"],
                "f1": value["f1-score"],
                "support": float(value["support"]),
            }
    return pd.DataFrame.from_dict(rows, orient="index")


def _check_probs(probs, labels) -> tuple[np.ndarray, np.ndarray]:
    probs, labels = np.asarray(probs, dtype=float), np.asarray(labels)
    if probs.ndim != 2:
        raise ValueError(
            f"probs must be a 2-d array (one row of class probabilities per example); got shape "
            f"{probs.shape}. For a binary positive-class probability p use np.column_stack([1 - p, p])."
        )
    if len(probs) != len(labels):
        raise ValueError(f"{len(probs)} rows of probabilities but {len(labels)} labels.")
    if len(probs) == 0:
        raise ValueError("There are no predictions to measure.")
    if labels.ndim != 1 or labels.min() < 0 or labels.max() >= probs.shape[1]:
        raise ValueError(f"labels must be class ids 0..{probs.shape[1] - 1}.")
    if probs.min() < 0 or not np.allclose(probs.sum(axis=1), 1.0, atol=1e-3):
        raise ValueError(
            "Each row of probs must be non-negative and sum to 1 (did you pass logits? Apply a softmax first)."
        )
    return probs, labels.astype(int)


def reliability_bins(probs, labels, n_bins: int = 10) -> pd.DataFrame:
    """The reliability diagram as a table: the top-label confidence cut into ``n_bins`` equal-width bins.

    Each row is a bin ``(lower, upper]`` (the first also holds 0, scikit-learn's convention) with ``count``
    examples, their mean ``confidence`` (the probability of the predicted class), their ``accuracy``
    (how many of those predictions are right) and ``gap`` = accuracy - confidence. Empty bins have NaN.
    """
    if n_bins < 1:
        raise ValueError(f"n_bins must be at least 1, got {n_bins}.")
    probs, labels = _check_probs(probs, labels)
    confidence = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == labels).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    ids = np.searchsorted(edges[1:-1], confidence, side="left")  # (lower, upper]; exactly sklearn's rule
    count = np.bincount(ids, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(ids, weights=confidence, minlength=n_bins) / count
        accuracy = np.bincount(ids, weights=correct, minlength=n_bins) / count
    return pd.DataFrame(
        {
            "lower": edges[:-1],
            "upper": edges[1:],
            "count": count,
            "confidence": mean_conf,
            "accuracy": accuracy,
            "gap": accuracy - mean_conf,
        }
    )


def expected_calibration_error(probs, labels, n_bins: int = 10) -> float:
    """ECE: the mean |accuracy - confidence| over the bins of :func:`reliability_bins`, weighted by bin size.

    Written in chapter 5, §5.4. The chapter measures calibration with it before and after temperature scaling.
    ``ECE = sum_b (n_b / n) |acc_b - conf_b|``. 0 means perfectly calibrated (on these bins); a model that
    says 90% and is right 70% of the time adds 0.2 for those examples. scikit-learn has no ECE.
    """
    bins = reliability_bins(probs, labels, n_bins)
    full = bins[bins["count"] > 0]
    return float((full["count"] / full["count"].sum() * full["gap"].abs()).sum())


def _check_logits(logits, labels) -> tuple[torch.Tensor, torch.Tensor]:
    logits = torch.as_tensor(np.asarray(logits), dtype=torch.float64)
    labels = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    if logits.ndim != 2 or logits.shape[1] < 2:
        raise ValueError(f"logits must have shape (n, classes) with at least 2 classes; got {tuple(logits.shape)}.")
    if len(logits) != len(labels):
        raise ValueError(f"{len(logits)} rows of logits but {len(labels)} labels.")
    if len(logits) == 0:
        raise ValueError("There are no logits to fit.")
    if labels.min() < 0 or labels.max() >= logits.shape[1]:
        raise ValueError(f"labels must be class ids 0..{logits.shape[1] - 1}.")
    if not torch.isfinite(logits).all():
        raise ValueError("The logits contain NaN or infinity.")
    return logits, labels


def nll(logits, labels, temperature: float = 1.0) -> float:
    """Mean negative log-likelihood (cross-entropy) of the labels under ``softmax(logits / temperature)``."""
    logits, labels = _check_logits(logits, labels)
    return float(torch.nn.functional.cross_entropy(logits / temperature, labels))


def fit_temperature(logits, labels, *, max_iter: int = 200) -> float:
    """Temperature scaling: the ``T > 0`` that minimises the NLL of ``softmax(logits / T)`` on held-out data.

    Fit it on the *validation* logits, never on test. We optimise ``log T`` (so that ``T`` stays positive)
    with L-BFGS from ``T = 1``. One number divides every logit, so the predicted classes (and accuracy)
    do not change; only the confidence does. ``T > 1`` means the model was over-confident. If the optimiser
    ends anywhere worse than ``T = 1`` (it should not), ``T = 1`` is returned: fitting never raises the NLL.
    """
    logits, labels = _check_logits(logits, labels)
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS([log_t], lr=1.0, max_iter=max_iter, line_search_fn="strong_wolfe")

    def closure():
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(logits / log_t.exp(), labels)
        loss.backward()
        return loss

    optimizer.step(closure)
    t = float(log_t.detach().exp())
    if not math.isfinite(t) or nll(logits, labels, t) > nll(logits, labels, 1.0):
        return 1.0
    return t


def temperature_scale(logits, temperature: float) -> np.ndarray:
    """Class probabilities ``softmax(logits / temperature)`` (float64 numpy)."""
    if not temperature > 0:
        raise ValueError(f"The temperature must be positive, got {temperature}.")
    logits = torch.as_tensor(np.asarray(logits), dtype=torch.float64)
    return torch.softmax(logits / temperature, dim=-1).numpy()


def most_confident_mistakes(
    texts: Sequence[str], labels, probs, label_names: Sequence[str], n: int = 10
) -> pd.DataFrame:
    """The ``n`` wrong predictions with the highest probability for the wrong class: text, true, predicted, confidence.

    The index is each text's row number in ``texts``; the table is sorted from the surest mistake down.
    """
    texts = list(texts)
    probs, labels = _check_probs(probs, labels)
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels.")
    if probs.shape[1] != len(label_names):
        raise ValueError(f"probs has {probs.shape[1]} columns but {len(label_names)} label names were given.")
    preds = probs.argmax(axis=1)
    wrong = np.flatnonzero(preds != labels)
    table = pd.DataFrame(
        {
            "text": [texts[i] for i in wrong],
            "true": [label_names[labels[i]] for i in wrong],
            "predicted": [label_names[preds[i]] for i in wrong],
            "confidence": probs[wrong, preds[wrong]],
        },
        index=pd.Index(wrong, name="row"),
    )
    return table.sort_values("confidence", ascending=False, kind="stable").head(n)


def contains_any(texts: Sequence[str], words: Sequence[str]) -> np.ndarray:
    """For each text, whether it contains any of ``words`` as a whole word (case-insensitive).

    ``not`` matches "is not good" but not "nothing". A word written with a leading hyphen is a suffix that
    may end a word: ``-n't`` matches "isn't" and "don't". Curly apostrophes count as straight ones.
    """
    import re

    words = [w for w in words if w and w != "-"]
    if not words:
        raise ValueError("Give at least one word to look for.")
    parts = [
        re.escape(w[1:].lower()) + r"(?!\w)" if w.startswith("-") else r"(?<!\w)" + re.escape(w.lower()) + r"(?!\w)"
        for w in words
    ]
    pattern = re.compile("|".join(parts))
    return np.array([bool(pattern.search(t.lower().replace("\u2019", "'"))) for t in texts], dtype=bool)


def bootstrap_difference(
    labels, preds_a, preds_b, metric=None, *, n_boot: int = 1000, seed: int = 0, level: float = 0.95
) -> dict[str, float]:
    """Paired bootstrap of ``metric(a) - metric(b)`` on the same test texts: the difference and an interval.

    Each round redraws the test texts with replacement and scores both models on the same draw, so what
    the interval measures is the test sample's luck (not the training seed's). ``metric(labels, preds)``
    defaults to macro-F1. An interval that contains 0 means this test split cannot tell the two apart.
    """
    from sklearn.metrics import f1_score

    labels, preds_a = _labels_and_preds(labels, preds_a)
    _, preds_b = _labels_and_preds(labels, preds_b)
    if n_boot < 1 or not 0 < level < 1:
        raise ValueError(f"n_boot must be at least 1 and level between 0 and 1; got {n_boot} and {level}.")
    if metric is None:

        def metric(y, p):
            return f1_score(y, p, average="macro", zero_division=0)

    rng = np.random.default_rng(seed)
    diffs = np.empty(n_boot)
    for b in range(n_boot):
        idx = rng.integers(0, len(labels), len(labels))
        diffs[b] = metric(labels[idx], preds_a[idx]) - metric(labels[idx], preds_b[idx])
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(diffs, [tail, 100 - tail])
    return {
        "difference": float(metric(labels, preds_a) - metric(labels, preds_b)),
        "low": float(low),
        "high": float(high),
    }
