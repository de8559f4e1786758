"""Pretraining objectives, by hand and at CPU size: what chapter 3 runs.

BERT was pretrained with two objectives (Devlin et al., 2019):

* **masked language modelling (MLM)**: 15% of the (non-special) tokens are *chosen*; of the chosen ones
  80% become ``[MASK]``, 10% become a random token and 10% stay as they are; the model must predict the
  original token at every chosen position, with the loss
  ``L_MLM = -1/N sum_i log P(x_i | corrupted sequence)`` over the N chosen positions;
* **next-sentence prediction (NSP)**: the input is ``[CLS] A [SEP] B [SEP]``; half the time B is the
  sentence that follows A (label 0, *IsNext*), half the time a random sentence from another document
  (label 1, *NotNext*); a binary classifier on the pooled ``[CLS]`` vector predicts which.

This module implements both from scratch (:func:`mask_tokens`, :func:`make_nsp_pairs`,
:func:`mlm_loss_by_hand`, :func:`nsp_loss_by_hand`), gives a pretrained encoder the two heads
(:func:`add_pretraining_heads`), trains them (:func:`train_pretraining`, :func:`train_heads`: the optimiser,
schedule, progress bar and loss log of ``helpers.train``, and its result, a :class:`PretrainingResult`), measures them
(:func:`evaluate_pretraining`, :func:`fill_mask`, :func:`nsp_probability`), builds a tiny BERT to pretrain
from scratch (:func:`tiny_bert_config`) and fine-tunes any of these encoders on a classification task
with the book's training loop (:func:`fine_tune_classifier`, a thin wrapper over ``helpers.train``).
Label conventions follow transformers: ``-100`` marks positions without an MLM target; NSP label 0 is
IsNext and 1 is NotNext.

Devices follow the book's rule (:mod:`helpers.evaluate`): the training functions (:func:`train_pretraining`,
:func:`train_heads`, :func:`fine_tune_classifier`) run on ``device`` or, by default,
:func:`helpers.env.detect_device` (the GPU when there is one), moving the model there in place; the functions that
only run the model (:func:`encode_for_heads`, :func:`evaluate_heads`, :func:`evaluate_pretraining`,
:func:`fill_mask`, :func:`nsp_probability`) run where the model is unless given a ``device``. Cached features,
histories and scores come back on the CPU.
"""

from __future__ import annotations

import math
import random
import re
import time
from typing import Any, Callable, Iterable, Sequence

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from .evaluate import prediction_device, training_device
from .training import LoopRecorder, LoopState, LossLog, Progress, TrainResult, make_optimizer, make_scheduler

IGNORE_INDEX = -100
IS_NEXT, NOT_NEXT = 0, 1

Example = dict[str, Any]


# --------------------------------------------------------------------------------------------------
# Masking
# --------------------------------------------------------------------------------------------------


def _special_ids(tokenizer) -> torch.Tensor:
    return torch.tensor(sorted(set(tokenizer.all_special_ids)), dtype=torch.long)


def mask_tokens(
    input_ids: torch.Tensor,
    tokenizer,
    mlm_probability: float = 0.15,
    *,
    mask_fraction: float = 0.8,
    random_fraction: float = 0.1,
    generator: torch.Generator | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """BERT's masking: return ``(masked_input_ids, labels)`` for a batch of token ids.

    Every token that is not special (``[CLS]``, ``[SEP]``, ``[PAD]``, ...) is chosen independently with
    probability ``mlm_probability``. A chosen token becomes ``[MASK]`` with probability ``mask_fraction``,
    a token drawn uniformly from the whole vocabulary with probability ``random_fraction``, and stays
    unchanged otherwise. ``labels`` holds the original id at chosen positions and ``-100`` elsewhere,
    so a cross-entropy with ``ignore_index=-100`` scores only the chosen positions. The chapter trains
    with the default 80/10/10 and evaluates with ``mask_fraction=1.0`` (every chosen token hidden).
    ``input_ids`` is not modified. Written in chapter 3, §3.1.
    """
    if not 0.0 < mlm_probability < 1.0:
        raise ValueError(f"mlm_probability must lie strictly between 0 and 1, got {mlm_probability}.")
    if not (
        0.0 <= mask_fraction <= 1.0 and 0.0 <= random_fraction <= 1.0 and mask_fraction + random_fraction <= 1.0 + 1e-12
    ):
        raise ValueError(
            "mask_fraction and random_fraction must be in [0, 1] and sum to at most 1, "
            f"got {mask_fraction} and {random_fraction}."
        )
    if tokenizer.mask_token_id is None:
        raise ValueError("The tokenizer has no [MASK] token, so it cannot be used for masked language modelling.")
    input_ids = torch.as_tensor(input_ids, dtype=torch.long)
    if input_ids.dim() == 1:
        input_ids = input_ids.unsqueeze(0)
    eligible = ~torch.isin(input_ids, _special_ids(tokenizer))
    draw = torch.rand(input_ids.shape, generator=generator)
    chosen = (draw < mlm_probability) & eligible
    # One more uniform number per position decides what happens to a chosen token.
    action = torch.rand(input_ids.shape, generator=generator)
    to_mask = chosen & (action < mask_fraction)
    to_random = chosen & (action >= mask_fraction) & (action < mask_fraction + random_fraction)
    random_ids = torch.randint(len(tokenizer), input_ids.shape, generator=generator)
    masked = input_ids.clone()
    masked[to_mask] = tokenizer.mask_token_id
    masked[to_random] = random_ids[to_random]
    labels = torch.full_like(input_ids, IGNORE_INDEX)
    labels[chosen] = input_ids[chosen]
    return masked, labels


def masking_statistics(
    original: torch.Tensor, masked: torch.Tensor, labels: torch.Tensor, tokenizer
) -> dict[str, float]:
    """Measured rates of a masking run (ours or transformers' collator), with their binomial standard errors.

    ``chosen_rate`` is the share of non-special tokens that carry a label; among chosen tokens,
    ``mask_rate`` is the share turned into ``[MASK]``, ``random_rate`` the share changed to another token
    and ``kept_rate`` the share left as they were. (A random token equal to the original counts as kept:
    that happens with probability 1/30,522, far below the tolerance.) ``special_chosen`` counts chosen
    special or padding tokens, which must be 0. ``*_se`` is ``sqrt(p (1 - p) / n)`` at the target rates
    15% / 80% / 10% / 10%, the yardstick the tests and the chapter use for "close enough".
    """
    original, masked, labels = (torch.as_tensor(t) for t in (original, masked, labels))
    eligible = ~torch.isin(original, _special_ids(tokenizer))
    chosen = labels != IGNORE_INDEX
    n_eligible, n_chosen = int(eligible.sum()), int(chosen.sum())
    if n_eligible == 0 or n_chosen == 0:
        raise ValueError("No eligible or no chosen tokens: the sample is too small to measure rates.")
    is_mask = chosen & (masked == tokenizer.mask_token_id)
    is_kept = chosen & (masked == original)
    is_random = chosen & ~is_mask & ~is_kept

    def se(p: float, n: int) -> float:
        return math.sqrt(p * (1 - p) / n)

    return {
        "eligible_tokens": n_eligible,
        "chosen_tokens": n_chosen,
        "chosen_rate": n_chosen / n_eligible,
        "chosen_rate_se": se(0.15, n_eligible),
        "mask_rate": int(is_mask.sum()) / n_chosen,
        "mask_rate_se": se(0.8, n_chosen),
        "random_rate": int(is_random.sum()) / n_chosen,
        "random_rate_se": se(0.1, n_chosen),
        "kept_rate": int(is_kept.sum()) / n_chosen,
        "kept_rate_se": se(0.1, n_chosen),
        "labels_match_original": bool((labels[chosen] == original[chosen]).all()),
        "special_chosen": int((chosen & ~eligible).sum()),
    }


# --------------------------------------------------------------------------------------------------
# Losses and accuracies from logits
# --------------------------------------------------------------------------------------------------


def mlm_loss_by_hand(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``L_MLM = -1/N sum_i log softmax(logits_i)[x_i]`` over the N positions whose label is not ``-100``.

    Written out with ``log_softmax`` and a gather, so the chapter can show it equals transformers'
    ``CrossEntropyLoss(ignore_index=-100)`` and the ``loss`` a ``BertForMaskedLM`` returns. Written in
    chapter 3, §3.2.
    ``logits``: (..., vocab); ``labels``: (...).
    """
    logits = logits.reshape(-1, logits.shape[-1]).float()
    labels = labels.reshape(-1)
    keep = labels != IGNORE_INDEX
    if not bool(keep.any()):
        raise ValueError("No position has a label: there is nothing to predict (every label is -100).")
    log_probs = torch.log_softmax(logits[keep], dim=-1)
    return -log_probs.gather(1, labels[keep].unsqueeze(1)).squeeze(1).mean()


def nsp_loss_by_hand(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``L_NSP = -1/M sum_j log P(y_j | [CLS]_j)``, a two-class cross-entropy (0 = IsNext, 1 = NotNext).

    ``logits``: (M, 2) from the NSP head; ``labels``: (M,). Written as ``log(exp(z_y) / sum exp(z))``
    with the max subtracted for stability. Written in chapter 3, §3.3.
    """
    logits = logits.reshape(-1, 2).float()
    labels = labels.reshape(-1)
    if labels.numel() == 0:
        raise ValueError("No sentence pairs: the NSP loss needs at least one labelled pair.")
    if not bool(((labels == IS_NEXT) | (labels == NOT_NEXT)).all()):
        raise ValueError("NSP labels must be 0 (IsNext) or 1 (NotNext).")
    shifted = logits - logits.max(dim=1, keepdim=True).values
    log_p = shifted.gather(1, labels.unsqueeze(1)).squeeze(1) - shifted.exp().sum(dim=1).log()
    return -log_p.mean()


def masked_token_accuracy(logits: torch.Tensor, labels: torch.Tensor, ks: Sequence[int] = (1, 5)) -> dict[int, float]:
    """Top-k accuracy at the labelled positions: the share whose true token is among the k highest logits."""
    logits = logits.reshape(-1, logits.shape[-1])
    labels = labels.reshape(-1)
    keep = labels != IGNORE_INDEX
    if not bool(keep.any()):
        raise ValueError("No position has a label (all -100): accuracy is undefined.")
    top = logits[keep].topk(max(ks), dim=-1).indices
    hit = top == labels[keep].unsqueeze(1)
    return {k: float(hit[:, :k].any(dim=1).float().mean()) for k in ks}


def nsp_accuracy(logits: torch.Tensor, labels: torch.Tensor) -> float:
    """The share of sentence pairs whose IsNext / NotNext label the NSP head gets right."""
    labels = labels.reshape(-1)
    if labels.numel() == 0:
        raise ValueError("No sentence pairs to score.")
    return float((logits.reshape(-1, 2).argmax(dim=1) == labels).float().mean())


# --------------------------------------------------------------------------------------------------
# Sentences and NSP pairs
# --------------------------------------------------------------------------------------------------

_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "st",
    "jr",
    "sr",
    "prof",
    "gen",
    "col",
    "lt",
    "sgt",
    "capt",
    "rev",
    "vs",
    "etc",
    "no",
    "mt",
    "ft",
    "inc",
    "co",
    "ltd",
    "u.s",
    "u.k",
    "e.g",
    "i.e",
}
_BOUNDARY = re.compile(r"""(?<=[.!?])["')\]]*\s+(?=["'(\[]?[A-Z0-9])""")


def split_sentences(text: str) -> list[str]:
    """Split a paragraph into sentences: at ``.``, ``!`` or ``?`` (plus closing quotes) followed by a space and
    a capital letter or digit, except after common abbreviations (``Dr.``, ``Mr.``, ``U.S.``) and initials.

    A plain rule, good enough for plot summaries; the chapter uses it to build NSP pairs.
    """
    text = " ".join(text.split())
    if not text:
        return []
    sentences, start = [], 0
    for match in _BOUNDARY.finditer(text):
        end = match.start()
        before = text[start:end].rstrip("\"')]")
        last_word = before.split()[-1] if before.split() else ""
        stem = last_word.rstrip(".!?").lower().lstrip("\"'(")
        if before.endswith(".") and (stem in _ABBREVIATIONS or (len(stem) == 1 and stem.isalpha())):
            continue  # "Dr. Smith", "J. Edgar", "U.S. Army"
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    sentences.append(text[start:].strip())
    return [s for s in sentences if s]


def make_nsp_pairs(
    documents: Sequence[str], tokenizer, *, seed: int = 0, max_length: int = 128, not_next_probability: float = 0.5
) -> list[Example]:
    """NSP training pairs from documents, as BERT builds them.

    Every document is split into sentences (:func:`split_sentences`). For every sentence A that has a
    successor, a coin flip decides: with probability ``1 - not_next_probability`` B is the true next
    sentence (label 0, IsNext); otherwise B is a random sentence from a *different* document (label 1,
    NotNext). Each pair is encoded as ``[CLS] A [SEP] B [SEP]`` (truncated to ``max_length`` tokens, longest
    segment first) with ``token_type_ids`` 0 for ``[CLS] A [SEP]`` and 1 for ``B [SEP]``.

    Returns dicts with ``sentence_a``, ``sentence_b``, ``next_sentence_label``, ``input_ids``,
    ``token_type_ids``, ``doc`` (index of A's document). BERT itself packs several sentences into each
    segment (up to 512 tokens); single sentences keep the CPU sizes of this chapter small.
    """
    if not 0.0 < not_next_probability < 1.0:
        raise ValueError(f"not_next_probability must lie strictly between 0 and 1, got {not_next_probability}.")
    split = [split_sentences(d) for d in documents if isinstance(d, str)]
    if sum(1 for s in split if s) < 2:
        raise ValueError(
            "make_nsp_pairs needs at least two non-empty documents (a NotNext sentence must come "
            f"from another document); got {sum(1 for s in split if s)}."
        )
    if not any(len(s) >= 2 for s in split):
        raise ValueError("No document has two sentences, so there is no true next sentence to pair.")
    pool = [(d, s) for d, sents in enumerate(split) for s in sents]
    rng = random.Random(seed)
    pairs: list[Example] = []
    for d, sents in enumerate(split):
        for i in range(len(sents) - 1):
            a = sents[i]
            if rng.random() < not_next_probability:
                while True:
                    other_doc, b = pool[rng.randrange(len(pool))]
                    if other_doc != d:
                        break
                label = NOT_NEXT
            else:
                b, label = sents[i + 1], IS_NEXT
            enc = tokenizer(a, b, truncation="longest_first", max_length=max_length)
            pairs.append(
                {
                    "sentence_a": a,
                    "sentence_b": b,
                    "next_sentence_label": label,
                    "doc": d,
                    "input_ids": enc["input_ids"],
                    "token_type_ids": enc["token_type_ids"],
                }
            )
    return pairs


def encode_texts(texts: Iterable[str], tokenizer, *, max_length: int = 128) -> list[Example]:
    """Single-segment examples (``[CLS] text [SEP]``, segment 0, NSP label -100) for MLM-only training."""
    out = []
    for text in texts:
        enc = tokenizer(text, truncation=True, max_length=max_length)
        out.append(
            {
                "input_ids": enc["input_ids"],
                "token_type_ids": [0] * len(enc["input_ids"]),
                "next_sentence_label": IGNORE_INDEX,
            }
        )
    return out


def collate_pretraining(
    examples: Sequence[Example],
    tokenizer,
    *,
    mlm_probability: float = 0.15,
    mask_fraction: float = 0.8,
    random_fraction: float = 0.1,
    generator: torch.Generator | None = None,
) -> dict[str, torch.Tensor]:
    """A batch for pretraining: pad to the longest example (dynamic padding), then :func:`mask_tokens`.

    Returns ``input_ids`` (masked), ``attention_mask``, ``token_type_ids``, ``labels`` (MLM targets, -100
    elsewhere) and ``next_sentence_label`` (-100 for single-segment examples).
    """
    if not examples:
        raise ValueError("An empty batch cannot be collated.")
    width = max(len(e["input_ids"]) for e in examples)
    pad = tokenizer.pad_token_id
    ids = torch.full((len(examples), width), pad, dtype=torch.long)
    types = torch.zeros((len(examples), width), dtype=torch.long)
    attention = torch.zeros((len(examples), width), dtype=torch.long)
    for row, e in enumerate(examples):
        n = len(e["input_ids"])
        ids[row, :n] = torch.tensor(e["input_ids"])
        types[row, :n] = torch.tensor(e["token_type_ids"])
        attention[row, :n] = 1
    masked, labels = mask_tokens(
        ids,
        tokenizer,
        mlm_probability,
        mask_fraction=mask_fraction,
        random_fraction=random_fraction,
        generator=generator,
    )
    nsp = torch.tensor([e.get("next_sentence_label", IGNORE_INDEX) for e in examples], dtype=torch.long)
    return {
        "input_ids": masked,
        "attention_mask": attention,
        "token_type_ids": types,
        "labels": labels,
        "next_sentence_label": nsp,
    }


# --------------------------------------------------------------------------------------------------
# Models with pretraining heads
# --------------------------------------------------------------------------------------------------


def decoder_is_tied(model) -> bool:
    """True when the MLM decoder's weight *is* the word-embedding matrix (same storage), as in BERT."""
    decoder = model.cls.predictions.decoder.weight
    embeddings = model.bert.embeddings.word_embeddings.weight
    return decoder is embeddings or decoder.data_ptr() == embeddings.data_ptr()


def add_pretraining_heads(source, *, seed: int = 0):
    """A ``BertForPreTraining``: the encoder from ``source`` plus an MLM head and an NSP head.

    ``source`` is a checkpoint folder (e.g. :func:`helpers.models.offline_model_path`) or a ``BertConfig``
    (then everything is random: pretraining from scratch). The checkpoint's encoder weights are loaded;
    the heads it lacks are initialised from ``seed``. The MLM decoder shares its weight matrix with the
    word embeddings (checked; only its bias is new). Returns ``(model, new_parameter_names)``.
    """
    from transformers import BertConfig, BertForPreTraining

    torch.manual_seed(seed)
    if isinstance(source, BertConfig):
        model = BertForPreTraining(source)
        new = sorted(name for name, _ in model.named_parameters())
    else:
        model, info = BertForPreTraining.from_pretrained(
            str(source), output_loading_info=True, attn_implementation="sdpa"
        )
        new = sorted(info["missing_keys"])
    if not decoder_is_tied(model):
        model.tie_weights()
    if not decoder_is_tied(model):
        raise RuntimeError("The MLM decoder is not tied to the word embeddings.")
    return model, new


def tiny_bert_config(
    vocab_size: int = 30522,
    *,
    hidden_size: int = 128,
    num_layers: int = 2,
    num_heads: int = 2,
    intermediate_size: int | None = None,
    max_position: int = 128,
):
    """A small ``BertConfig`` for pretraining from scratch on a CPU (chapter 3) or a larger one on a GPU.

    With the defaults (2 layers, hidden 128, the 30,522-word vocabulary) the model has about 4.4M parameters,
    most of them in the word embeddings.
    """
    from transformers import BertConfig

    if hidden_size % num_heads:
        raise ValueError(f"hidden_size {hidden_size} must be divisible by num_heads {num_heads}.")
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        num_hidden_layers=num_layers,
        num_attention_heads=num_heads,
        intermediate_size=intermediate_size or 4 * hidden_size,
        max_position_embeddings=max_position,
        attn_implementation="sdpa",
    )


def pretraining_forward(model, batch: dict[str, torch.Tensor], *, encoder_grad: bool = True) -> dict[str, Any]:
    """Run a ``BertForPreTraining`` on a batch and return the MLM and NSP losses and logits.

    The vocabulary projection (384 x 30,522 for MiniLM) is applied only at the labelled positions, not at
    every position as ``model(...)`` does: the losses are the same, the step is much cheaper. With
    ``encoder_grad=False`` the encoder runs without gradients (training the heads only).
    Returns ``mlm_loss``, ``mlm_logits`` (n_masked, vocab), ``mlm_labels``, and, when the batch has NSP
    labels, ``nsp_loss``, ``nsp_logits``, ``nsp_labels``.
    """
    device = next(model.parameters()).device
    batch = {k: v.to(device) for k, v in batch.items()}
    with torch.set_grad_enabled(encoder_grad and torch.is_grad_enabled()):
        out = model.bert(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], token_type_ids=batch["token_type_ids"]
        )
    hidden, pooled_input = out.last_hidden_state, out.last_hidden_state[:, 0]
    if not encoder_grad:
        hidden, pooled_input = hidden.detach(), pooled_input.detach()
    keep = batch["labels"] != IGNORE_INDEX
    result: dict[str, Any] = {}
    if bool(keep.any()):
        logits = model.cls.predictions(hidden[keep])
        result.update(
            mlm_logits=logits,
            mlm_labels=batch["labels"][keep],
            mlm_loss=F.cross_entropy(logits.float(), batch["labels"][keep]),
        )
    nsp_rows = batch["next_sentence_label"] != IGNORE_INDEX
    if bool(nsp_rows.any()):
        pooled = model.bert.pooler(hidden[nsp_rows]) if model.bert.pooler is not None else pooled_input[nsp_rows]
        logits = model.cls.seq_relationship(pooled)
        labels = batch["next_sentence_label"][nsp_rows]
        result.update(nsp_logits=logits, nsp_labels=labels, nsp_loss=F.cross_entropy(logits.float(), labels))
    return result


def _set_trainable(model, trainable: str) -> list[torch.nn.Parameter]:
    if trainable not in ("heads", "all"):
        raise ValueError(f"trainable must be 'heads' or 'all', got {trainable!r}.")
    for name, p in model.named_parameters():
        p.requires_grad = trainable == "all" or name.startswith("cls.") or name.startswith("bert.pooler.")
    if trainable == "heads":  # the decoder weight is the (frozen) embedding matrix; only its bias trains
        model.bert.embeddings.word_embeddings.weight.requires_grad = False
    return [p for p in model.parameters() if p.requires_grad]


# --------------------------------------------------------------------------------------------------
# Training loops with helpers.train's parts and result (shared with helpers.rnn and helpers.compress)
# --------------------------------------------------------------------------------------------------


class PretrainingResult(TrainResult):
    """What :func:`train_pretraining` and :func:`train_heads` return: a :class:`helpers.training.TrainResult`.

    ``steps`` has one row per step (step, epoch, loss, lr) plus ``mlm_loss`` and ``nsp_loss`` (``loss`` is their
    sum, NaN where a step had no pairs); ``history`` one row per evaluation (and one at step 0 before training when
    there is held-out data), with ``eval_loss``, ``eval_mlm_loss``, ``eval_nsp_loss``, ``eval_top1``, ``eval_top5``
    and ``eval_nsp_accuracy``. An epoch is a pass's worth of drawn examples (the batches are random draws).
    The keys of the old dict history still work: ``result["mlm_loss"]`` (a list per step), ``result["eval_step"]``,
    ``result["seconds"]``, and so on. :meth:`plot` draws :func:`plot_pretraining_history`.
    """

    STEP_KEYS = ("step", "mlm_loss", "nsp_loss")
    EVAL_KEYS = ("eval_step", "eval_mlm_loss", "eval_nsp_loss", "eval_top1")

    def __getitem__(self, key: str):
        if key == "seconds":
            return self.seconds
        if key in self.STEP_KEYS:
            return self.steps[key].tolist() if key in self.steps else []
        if key in self.EVAL_KEYS:
            h = self.history
            rows = h[h["eval_mlm_loss"].notna()] if "eval_mlm_loss" in h else h.iloc[:0]
            column = "step" if key == "eval_step" else key
            return rows[column].tolist() if column in rows else []
        keys = ", ".join(("seconds",) + self.STEP_KEYS + self.EVAL_KEYS)
        raise KeyError(
            f"{key!r}: a pretraining result has the keys {keys}; the tables are result.steps and result.history."
        )

    def plot(self, *, name: str = "this run", title: str = "Pretraining losses", smooth: int = 10):
        """The MLM and NSP losses, training and held-out (:func:`plot_pretraining_history`)."""
        return plot_pretraining_history({name: self}, title=title, smooth=smooth)


class ObjectiveLosses(LossLog):
    """A :class:`helpers.training.LossLog` for two objectives: each step's loss is the tensor (total, MLM, NSP),
    kept on the device and read every ``log_every`` steps; the step rows get all three."""

    def flush(self, loop: LoopState) -> None:
        if self.pending:
            values = torch.stack([p[3] for p in self.pending]).tolist()
            for (step, epoch, lr, _), (total, mlm, nsp) in zip(self.pending, values):
                loop.steps.append(
                    {"step": step, "epoch": epoch, "loss": total, "lr": lr, "mlm_loss": mlm, "nsp_loss": nsp}
                )
                loop.interval.losses.append(total)
            self.pending.clear()


def _three_losses(mlm: torch.Tensor | None, nsp: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor] | None:
    """``(L_MLM + L_NSP, detached (total, MLM, NSP))`` with NaN for a missing objective; ``None`` when both are."""
    present = [x for x in (mlm, nsp) if x is not None]
    if not present:
        return None
    total = sum(present)
    nan = total.detach().new_tensor(math.nan)
    return total, torch.stack([total.detach(), *(x.detach() if x is not None else nan for x in (mlm, nsp))])


def _pretraining_loop(
    model,
    params: list,
    next_losses: Callable[[], tuple | None],
    *,
    steps: int,
    per_step: int,
    n_examples: int,
    lr: float,
    warmup_fraction: float,
    weight_decay: float,
    evaluate: Callable[[], dict] | None,
    eval_every: int,
    progress: bool,
    desc: str,
    device: torch.device,
    log_every: int,
    config: dict,
) -> PretrainingResult:
    """The loop of :func:`train_pretraining` and :func:`train_heads`, with :func:`helpers.train`'s optimiser
    (:func:`helpers.training.make_optimizer`), schedule (:func:`helpers.training.make_scheduler`), progress bar and
    loss log. ``next_losses()`` draws a batch and returns ``(loss, (total, MLM, NSP) detached, examples, tokens,
    padded tokens)``, or ``None`` when the batch has nothing to predict (the step is then skipped)."""
    started = time.perf_counter()
    optimizer = make_optimizer(model, lr, weight_decay, device)
    scheduler = make_scheduler(optimizer, steps, warmup_fraction)
    loop, log, rows, bar = (
        LoopState(grad_accum=1),
        ObjectiveLosses(log_every),
        LoopRecorder(device),
        Progress(progress, "mlm_loss"),
    )
    model.train()
    bar.start(steps, 0, desc)
    try:
        for step in range(0 if evaluate is not None else 1, steps + 1):
            if step > 0:
                # 1. One step: draw a batch, forward, backward, clip, update, advance the schedule.
                step_lr = scheduler.get_last_lr()[0]
                out = next_losses()
                loop.step = step
                if out is not None:
                    loss, values, examples, tokens, padded = out
                    optimizer.zero_grad(set_to_none=True)
                    loss.backward()
                    torch.nn.utils.clip_grad_norm_(params, 1.0)
                    optimizer.step()
                    scheduler.step()
                    loop.interval.examples += examples
                    loop.interval.tokens += tokens
                    loop.interval.padded += padded
                    if log.add(step, max(1, math.ceil(step * per_step / n_examples)), step_lr, values):
                        log.flush(loop)
                        bar.show_loss(loop.steps[-1]["loss"], rows.rate(loop))
                bar.update()
            # 2. Every eval_every steps, at the end (and before the first step, with held-out data): a history row.
            if step % eval_every == 0 or step == steps:
                log.flush(loop)
                row = rows.record(loop, step * per_step / n_examples, scheduler.get_last_lr()[0], evaluate)
                rows.keep_if_best(loop, row, "eval_loss", higher_is_better=False)
                bar.show_row(row)
                model.train()
    finally:
        bar.close()
        model.eval()
        for p in model.parameters():  # every weight trainable again
            p.requires_grad = True
    return rows.result(model, loop, config, started, kind=PretrainingResult)


def _pretraining_scores(m: dict, use_nsp: bool) -> dict:
    """The ``eval_`` columns from :func:`evaluate_heads` / :func:`evaluate_pretraining`; ``loss`` is the training
    loss's counterpart (MLM, plus NSP when it is trained and the held-out data has pairs)."""
    nsp = m.get("nsp_loss", math.nan)
    return {
        "loss": m["mlm_loss"] + (nsp if use_nsp and not math.isnan(nsp) else 0.0),
        "mlm_loss": m["mlm_loss"],
        "nsp_loss": nsp,
        "top1": m["top1"],
        "top5": m["top5"],
        "nsp_accuracy": m.get("nsp_accuracy", math.nan),
    }


def train_pretraining(
    model,
    examples: Sequence[Example],
    tokenizer,
    *,
    steps: int,
    batch_size: int = 32,
    lr: float = 1e-3,
    warmup_fraction: float = 0.1,
    weight_decay: float = 0.01,
    trainable: str = "heads",
    use_nsp: bool = True,
    seed: int = 0,
    eval_examples: Sequence[Example] | None = None,
    eval_every: int | None = None,
    progress: bool = True,
    desc: str = "pretraining",
    log_every: int = 20,
    device: str | torch.device | None = None,
) -> PretrainingResult:
    """Train MLM (+ NSP) on ``examples`` for ``steps`` steps with :func:`helpers.train`'s AdamW and linear warm-up
    then decay.

    ``trainable="heads"`` trains only the heads (MLM transform and bias, NSP classifier, pooler) on top of a
    frozen encoder; ``"all"`` trains every weight (continued pretraining, or pretraining from scratch).
    Each step draws a random batch, pads it dynamically and masks it afresh (so every epoch sees new masks).
    The loss is ``L_MLM + L_NSP`` (``L_MLM`` only when ``use_nsp`` is false or the batch has no pairs).
    Returns a :class:`PretrainingResult` (a :class:`helpers.training.TrainResult`): the per-step losses in
    ``steps``, the held-out scores on ``eval_examples`` every ``eval_every`` steps in ``history``.
    ``device``: where to train (default :func:`helpers.env.detect_device`); the model is moved there in place.
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}.")
    if not examples:
        raise ValueError("No training examples.")
    device = training_device(device)
    model.to(device)
    params = _set_trainable(model, trainable)
    gen, rng = torch.Generator().manual_seed(seed), random.Random(seed)

    def next_losses():
        batch = collate_pretraining(
            [examples[rng.randrange(len(examples))] for _ in range(batch_size)], tokenizer, generator=gen
        )
        if not use_nsp:
            batch["next_sentence_label"].fill_(IGNORE_INDEX)
        tokens, padded = int(batch["attention_mask"].sum()), batch["attention_mask"].numel()
        out = pretraining_forward(model, batch, encoder_grad=trainable == "all")
        losses = _three_losses(out.get("mlm_loss"), out.get("nsp_loss"))
        return None if losses is None else (*losses, batch_size, tokens, padded)

    def evaluate() -> dict:
        return _pretraining_scores(
            evaluate_pretraining(model, eval_examples, tokenizer, seed=seed, batch_size=64), use_nsp
        )

    config = {
        "steps": steps,
        "batch_size": batch_size,
        "lr": lr,
        "warmup_ratio": warmup_fraction,
        "weight_decay": weight_decay,
        "schedule": "linear",
        "trainable": trainable,
        "use_nsp": use_nsp,
        "seed": seed,
        "device": str(device),
    }
    return _pretraining_loop(
        model,
        params,
        next_losses,
        steps=steps,
        per_step=batch_size,
        n_examples=len(examples),
        lr=lr,
        warmup_fraction=warmup_fraction,
        weight_decay=weight_decay,
        evaluate=evaluate if eval_examples else None,
        eval_every=eval_every or max(1, steps // 5),
        progress=progress,
        desc=desc,
        device=device,
        log_every=log_every,
        config=config,
    )


@torch.no_grad()
def encode_for_heads(
    model,
    examples: Sequence[Example],
    tokenizer,
    *,
    seed: int = 0,
    batch_size: int = 64,
    mlm_probability: float = 0.15,
    mask_fraction: float = 0.8,
    random_fraction: float = 0.1,
    progress: bool = False,
    desc: str = "encoding",
    device: str | torch.device | None = None,
) -> dict[str, torch.Tensor]:
    """Mask ``examples`` once and keep what the heads see: the encoder's output at every chosen position and
    at every pair's ``[CLS]``.

    When the encoder is frozen, its output for a given masked input never changes, so the heads can be
    trained (:func:`train_heads`) and scored (:func:`evaluate_heads`) on these cached vectors without running
    the encoder again: one forward pass instead of one per step. Each example gets one fixed masking
    (*static* masking, as in the original BERT code, rather than a new masking every epoch). The masks
    depend only on ``seed`` and ``batch_size``. Returns ``hidden`` (n_masked, H), ``labels`` (n_masked,),
    ``cls`` (n_pairs, H) and ``nsp_labels`` (n_pairs,), all on the CPU. ``device``: where to run the encoder
    (the model is moved there); ``None`` runs it where the model is.
    """
    from tqdm.auto import tqdm

    if not examples:
        raise ValueError("No examples to encode.")
    device = prediction_device(model, device)
    was_training = model.training
    model.eval()
    gen = torch.Generator().manual_seed(seed)
    hidden, labels, cls, nsp = [], [], [], []
    for i in tqdm(range(0, len(examples), batch_size), desc=desc, disable=not progress, mininterval=2.0):
        batch = collate_pretraining(
            examples[i : i + batch_size],
            tokenizer,
            mlm_probability=mlm_probability,
            mask_fraction=mask_fraction,
            random_fraction=random_fraction,
            generator=gen,
        )
        batch = {k: v.to(device) for k, v in batch.items()}
        out = model.bert(
            input_ids=batch["input_ids"], attention_mask=batch["attention_mask"], token_type_ids=batch["token_type_ids"]
        ).last_hidden_state
        keep = batch["labels"] != IGNORE_INDEX
        hidden.append(out[keep].float().cpu())
        labels.append(batch["labels"][keep].cpu())
        rows = batch["next_sentence_label"] != IGNORE_INDEX
        cls.append(out[rows, 0].float().cpu())
        nsp.append(batch["next_sentence_label"][rows].cpu())
    if was_training:
        model.train()
    return {
        "hidden": torch.cat(hidden),
        "labels": torch.cat(labels),
        "cls": torch.cat(cls),
        "nsp_labels": torch.cat(nsp),
    }


def _heads_outputs(model, hidden: torch.Tensor, cls: torch.Tensor):
    device = next(model.parameters()).device
    mlm = model.cls.predictions(hidden.to(device)) if len(hidden) else None
    nsp = None
    if len(cls):
        pooled = model.bert.pooler(cls.to(device)[:, None, :]) if model.bert.pooler is not None else cls.to(device)
        nsp = model.cls.seq_relationship(pooled)
    return mlm, nsp


@torch.no_grad()
def evaluate_heads(
    model, features: dict[str, torch.Tensor], *, batch_size: int = 1024, device: str | torch.device | None = None
) -> dict[str, float]:
    """MLM loss, top-1 / top-5 masked-token accuracy and (for pairs) NSP loss and accuracy, on cached
    features from :func:`encode_for_heads`. ``device``: where to run the heads (the model is moved there);
    ``None`` runs them where the model is."""
    prediction_device(model, device)
    was_training = model.training
    model.eval()
    n = len(features["labels"])
    if n == 0:
        raise ValueError("No masked positions in the features.")
    log_p, top5 = [], []
    for i in range(0, n, batch_size):
        logits, _ = _heads_outputs(model, features["hidden"][i : i + batch_size], features["cls"][:0])
        y = features["labels"][i : i + batch_size].to(logits.device)
        log_p.append(torch.log_softmax(logits.float(), -1).gather(1, y[:, None]).squeeze(1).cpu())
        top5.append(logits.topk(5, dim=-1).indices.cpu())
    log_p, top5 = torch.cat(log_p), torch.cat(top5)
    hit = top5 == features["labels"].cpu()[:, None]
    result = {
        "mlm_loss": float(-log_p.mean()),
        "top1": float(hit[:, 0].float().mean()),
        "top5": float(hit.any(dim=1).float().mean()),
        "masked_tokens": n,
    }
    if len(features["nsp_labels"]):
        _, logits = _heads_outputs(model, features["hidden"][:0], features["cls"])
        y = features["nsp_labels"].to(logits.device)
        result.update(
            nsp_loss=float(F.cross_entropy(logits.float(), y)),
            nsp_accuracy=nsp_accuracy(logits.float().cpu(), y.cpu()),
            pairs=int(y.numel()),
        )
    if was_training:
        model.train()
    return result


def train_heads(
    model,
    features: dict[str, torch.Tensor],
    *,
    steps: int,
    batch_size: int = 256,
    pairs_per_step: int = 64,
    lr: float = 1e-3,
    warmup_fraction: float = 0.1,
    weight_decay: float = 0.01,
    seed: int = 0,
    eval_features: dict[str, torch.Tensor] | None = None,
    eval_every: int | None = None,
    progress: bool = True,
    desc: str = "training the heads",
    log_every: int = 20,
    device: str | torch.device | None = None,
) -> PretrainingResult:
    """Train the MLM head (transform and output bias; the output matrix is the frozen, tied word embedding)
    and the NSP head (pooler and classifier) on cached features from :func:`encode_for_heads`.

    Each step draws ``batch_size`` masked positions and ``pairs_per_step`` sentence pairs; the loss is
    ``L_MLM + L_NSP``, with :func:`helpers.train`'s AdamW and linear warm-up then decay. Returns the same
    :class:`PretrainingResult` as :func:`train_pretraining` (here an example, in ``seq_per_s``, is a masked
    position), so :func:`plot_pretraining_history` draws either. ``device``: where to train (default
    :func:`helpers.env.detect_device`); the model is moved there in place, the cached features are copied there
    once (the draws of each step stay on the CPU's generator, so a run is the same on any device).
    """
    if steps < 1:
        raise ValueError(f"steps must be at least 1, got {steps}.")
    if len(features["labels"]) == 0:
        raise ValueError("No masked positions in the features.")
    device = training_device(device)
    model.to(device)
    features = {k: v.to(device) for k, v in features.items()}
    params = _set_trainable(model, "heads")
    gen = torch.Generator().manual_seed(seed)
    n_tok, n_pairs = len(features["labels"]), len(features["nsp_labels"])

    def next_losses():
        tok_idx = torch.randint(n_tok, (min(batch_size, n_tok),), generator=gen).to(device)
        pair_idx = (
            torch.randint(n_pairs, (min(pairs_per_step, n_pairs),), generator=gen).to(device)
            if n_pairs
            else tok_idx[:0]
        )
        mlm_logits, nsp_logits = _heads_outputs(model, features["hidden"][tok_idx], features["cls"][pair_idx])
        mlm_loss = F.cross_entropy(mlm_logits.float(), features["labels"][tok_idx])
        nsp_loss = (
            F.cross_entropy(nsp_logits.float(), features["nsp_labels"][pair_idx]) if nsp_logits is not None else None
        )
        return (*_three_losses(mlm_loss, nsp_loss), len(tok_idx), len(tok_idx), len(tok_idx))

    def evaluate() -> dict:
        return _pretraining_scores(evaluate_heads(model, eval_features), use_nsp=True)

    config = {
        "steps": steps,
        "batch_size": batch_size,
        "pairs_per_step": pairs_per_step,
        "lr": lr,
        "warmup_ratio": warmup_fraction,
        "weight_decay": weight_decay,
        "schedule": "linear",
        "trainable": "heads",
        "seed": seed,
        "device": str(device),
    }
    return _pretraining_loop(
        model,
        params,
        next_losses,
        steps=steps,
        per_step=min(batch_size, n_tok),
        n_examples=n_tok,
        lr=lr,
        warmup_fraction=warmup_fraction,
        weight_decay=weight_decay,
        evaluate=evaluate if eval_features is not None else None,
        eval_every=eval_every or max(1, steps // 8),
        progress=progress,
        desc=desc,
        device=device,
        log_every=log_every,
        config=config,
    )


def evaluate_pretraining(
    model,
    examples: Sequence[Example],
    tokenizer,
    *,
    seed: int = 0,
    batch_size: int = 64,
    mlm_probability: float = 0.15,
    progress: bool = False,
    device: str | torch.device | None = None,
) -> dict[str, float]:
    """Held-out MLM and NSP quality: loss, top-1 / top-5 masked-token accuracy, NSP accuracy.

    The masked positions come from a generator seeded with ``seed`` (and depend on ``batch_size``), so
    two models evaluated with the same seed are scored on exactly the same positions. Every chosen token
    is replaced by ``[MASK]`` (``mask_fraction=1.0``): the 10% random / 10% kept tokens are a training
    device, and a kept token would only measure copying. NSP metrics appear when the examples are pairs.
    ``device``: where to run the model (it is moved there); ``None`` runs it where it is.
    """
    features = encode_for_heads(
        model,
        examples,
        tokenizer,
        seed=seed,
        batch_size=batch_size,
        mlm_probability=mlm_probability,
        mask_fraction=1.0,
        random_fraction=0.0,
        progress=progress,
        desc="evaluating",
        device=device,
    )
    return evaluate_heads(model, features)


@torch.no_grad()
def fill_mask(
    model, tokenizer, text: str, k: int = 5, *, device: str | torch.device | None = None
) -> list[list[tuple[str, float]]]:
    """Top-``k`` predictions ``(token, probability)`` for every ``[MASK]`` in ``text``, left to right.

    Works with a ``BertForPreTraining`` or ``BertForMaskedLM``; what ``pipeline("fill-mask")`` does, without
    the pipeline. ``device``: where to run the model (it is moved there); ``None`` runs it where it is.
    """
    if tokenizer.mask_token not in text:
        raise ValueError(f"The text has no {tokenizer.mask_token} to fill: {text!r}")
    device = prediction_device(model, device)
    model.eval()
    enc = tokenizer(text, return_tensors="pt").to(device)
    out = model(**enc)
    logits = out.prediction_logits if hasattr(out, "prediction_logits") else out.logits
    positions = (enc["input_ids"][0] == tokenizer.mask_token_id).nonzero().flatten()
    result = []
    for pos in positions:
        probs = logits[0, pos].float().softmax(-1).cpu()
        top = probs.topk(k)
        result.append([(tokenizer.convert_ids_to_tokens(int(i)), float(p)) for p, i in zip(top.values, top.indices)])
    return result


@torch.no_grad()
def nsp_probability(
    model, tokenizer, sentence_a: str, sentence_b: str, *, device: str | torch.device | None = None
) -> float:
    """P(IsNext): the probability the NSP head gives to ``sentence_b`` following ``sentence_a``.
    ``device``: where to run the model (it is moved there); ``None`` runs it where it is."""
    device = prediction_device(model, device)
    model.eval()
    enc = tokenizer(sentence_a, sentence_b, return_tensors="pt").to(device)
    logits = model(**enc).seq_relationship_logits
    return float(logits[0].float().softmax(-1)[IS_NEXT])


# --------------------------------------------------------------------------------------------------
# Fine-tuning an encoder on a classification task (small, for the comparisons in chapter 3)
# --------------------------------------------------------------------------------------------------


def classifier_from_encoder(encoder, num_labels: int, *, seed: int = 0):
    """A ``BertForSequenceClassification`` whose encoder is a copy of ``encoder`` (a ``BertModel``) and whose
    classification head is freshly initialised from ``seed``."""
    from transformers import BertForSequenceClassification

    torch.manual_seed(seed)
    config = encoder.config.__class__.from_dict(encoder.config.to_dict())
    config.num_labels = num_labels
    model = BertForSequenceClassification(config)
    state = {k: v for k, v in encoder.state_dict().items()}
    missing, unexpected = model.bert.load_state_dict(state, strict=False)
    if unexpected or [m for m in missing if not m.startswith("pooler.")]:
        raise RuntimeError(f"Encoder weights do not fit: missing {missing}, unexpected {unexpected}.")
    return model


def fine_tune_classifier(
    encoder,
    tokenizer,
    train,
    test,
    *,
    seed: int = 0,
    epochs: int = 3,
    lr: float | None = None,
    batch_size: int = 16,
    max_length: int = 64,
    progress: bool = True,
    desc: str | None = None,
    device: str | torch.device | None = None,
) -> dict[str, float]:
    """Fine-tune a copy of ``encoder`` on ``train`` (``text``, ``label``) and score it on ``test``.

    Chapter 3 compares encoders (shipped, continued-pretrained, tiny from scratch) on the same split and
    seeds; the training itself is the book's loop, :func:`helpers.train` (no evaluation during training, so
    nothing is selected on ``test``), and the scoring is :func:`helpers.predict`. ``encoder`` is left
    untouched (and where it is). Returns ``accuracy``, macro ``f1``, ``seconds`` (training) and the last
    training loss. ``device``: where the copy trains and is scored (default :func:`helpers.env.detect_device`,
    as :func:`helpers.train`).
    """
    from .evaluate import accuracy_and_f1, predict
    from .training import train as train_loop

    labels = list(train["label"])
    if not labels:
        raise ValueError("No training examples.")
    model = classifier_from_encoder(encoder, int(max(labels)) + 1, seed=seed)
    device = training_device(device)
    if desc and progress:
        print(desc)
    result = train_loop(
        model,
        train,
        None,
        tokenizer=tokenizer,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        max_length=max_length,
        seed=seed,
        progress=progress,
        device=device,
    )
    preds = predict(result.model, tokenizer, list(test["text"]), max_length=max_length, device=device)
    scores = accuracy_and_f1(list(test["label"]), preds.labels)
    last = float(result.steps["loss"].iloc[-1]) if len(result.steps) else float("nan")
    return {**scores, "seconds": result.seconds, "last_loss": last}


def summarise_runs(results: dict[str, Sequence[float]]) -> "Any":
    """A table of mean, standard deviation (over seeds, ``ddof=1``), min, max and count per arm."""

    rows = {}
    for arm, values in results.items():
        v = np.asarray(values, dtype=float)
        rows[arm] = {
            "mean": v.mean(),
            "std": v.std(ddof=1) if len(v) > 1 else float("nan"),
            "min": v.min(),
            "max": v.max(),
            "seeds": len(v),
        }
    return pd.DataFrame(rows).T


# --------------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------------


def _smooth(values: Sequence[float], window: int) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if len(v) < 2 or window <= 1:
        return v
    window = min(window, len(v))
    kernel = np.ones(window) / window
    head = np.array([v[: i + 1].mean() for i in range(window - 1)])
    return np.concatenate([head, np.convolve(v, kernel, mode="valid")])


def plot_pretraining_history(
    histories: dict[str, PretrainingResult | dict[str, list]], *, title: str = "Pretraining losses", smooth: int = 10
):
    """Two panels: MLM loss and NSP loss (nats per prediction) against the training step, training (thin,
    smoothed over ``smooth`` steps) and held-out (markers), one colour per run in ``histories`` (each a
    :class:`PretrainingResult`, or a dict with its old keys: step, mlm_loss, nsp_loss, eval_step, eval_mlm_loss,
    eval_nsp_loss)."""
    import matplotlib.pyplot as plt

    colors = plt.get_cmap("tab10").colors
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
    for i, (name, h) in enumerate(histories.items()):
        for ax, key in zip(axes, ("mlm_loss", "nsp_loss")):
            values = np.asarray(h[key], dtype=float)
            if len(values) and not np.all(np.isnan(values)):
                ax.plot(
                    h["step"],
                    _smooth(values, smooth),
                    color=colors[i % 10],
                    lw=1.2,
                    label=f"{name}: training (mean of {smooth} steps)",
                )
            ev = np.asarray(h["eval_" + key], dtype=float)
            if len(ev) and not np.all(np.isnan(ev)):
                ax.plot(h["eval_step"], ev, "o--", color=colors[i % 10], ms=4, label=f"{name}: held-out")
    axes[0].set_title("Masked-token loss")
    axes[1].set_title("Next-sentence loss")
    for ax in axes:
        ax.set_xlabel("training step (batches)")
        ax.set_ylabel("cross-entropy (nats)")
        ax.spines[["top", "right"]].set_visible(False)
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7)
    axes[1].axhline(math.log(2), color="grey", lw=0.8, ls=":")
    axes[1].annotate("chance, ln 2", (0, math.log(2)), xytext=(2, 3), textcoords="offset points", fontsize=7)
    fig.suptitle(title)
    return fig


def plot_run_comparison(
    results: dict[str, Sequence[float]],
    *,
    title: str,
    ylabel: str = "test accuracy (%)",
    reference: tuple[float, str] | None = None,
):
    """One dot per seed and a bar at the mean, per arm: how far apart two set-ups are, next to how much
    a single arm varies between seeds. ``reference=(score, label)`` draws a dotted line, e.g. the score of
    always answering the majority class, which a classifier that learned nothing reaches."""
    import matplotlib.pyplot as plt

    colors = plt.get_cmap("tab10").colors
    fig, ax = plt.subplots(figsize=(max(4.5, 1.8 * len(results) + 1.5), 3.6), layout="constrained")
    for i, (arm, values) in enumerate(results.items()):
        v = 100 * np.asarray(values, dtype=float)
        ax.bar(i, v.mean(), 0.6, color=colors[i % 10], alpha=0.35)
        ax.scatter(np.full(len(v), i) + np.linspace(-0.12, 0.12, len(v)), v, color=colors[i % 10], zorder=3, label=None)
        ax.annotate(
            f"{v.mean():.1f}", (i, v.mean()), xytext=(0, 4), textcoords="offset points", ha="center", fontsize=8
        )
    ax.set_xticks(range(len(results)), list(results), fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_xlabel("encoder (bar: mean over seeds; dots: one run each)")
    low = min(100 * min(v) for v in results.values())
    if reference is not None:
        ax.axhline(100 * reference[0], color="gray", ls=":", lw=1.2)
        ax.annotate(
            reference[1],
            (len(results) - 0.5, 100 * reference[0]),
            xytext=(0, 3),
            textcoords="offset points",
            ha="right",
            fontsize=8,
            color="gray",
        )
        low = min(low, 100 * reference[0])
    ax.set_ylim(max(0, low - 10), 100)
    ax.set_title(title)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", alpha=0.3)
    return fig
