"""Exercise checkers of chapter 4: the masks of a padded pair batch, the linear warm-up and decay schedule.

Each checker registers itself under its exercise id; see :mod:`helpers.exercises` for the rules they share.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import register
from .guards import _as_number, _call_student, _function_guard, _report, _type_name


def _as_int_rows(value: Any) -> list[list[int]] | None:
    """A tensor, array or list of lists as a list of lists of ints; None if it is not such a table."""
    try:
        if hasattr(value, "detach"):
            value = value.detach().cpu().numpy()
        rows = np.asarray(value)
    except (TypeError, ValueError):
        return None
    if rows.ndim != 2 or rows.dtype == object:
        return None
    if rows.dtype == bool:
        rows = rows.astype(int)
    if not np.issubdtype(rows.dtype, np.number):
        return None
    if not np.all(np.equal(np.mod(rows, 1), 0)):
        return None
    return rows.astype(int).tolist()


def _pair_cases(tokenizer, texts, n_pairs: int) -> list[Any]:
    """Padded pair batches: the chapter's texts paired two by two, and a hand-made batch without padding."""
    texts = [t for t in list(texts or []) if isinstance(t, str)][: 2 * n_pairs]
    cases = []
    if len(texts) >= 4:
        half = len(texts) // 2
        cases.append(
            tokenizer(
                texts[:half], texts[half : 2 * half], padding=True, truncation=True, max_length=48, return_tensors="pt"
            )
        )
    cases.append(
        tokenizer(
            ["A fine film.", "Dull."], ["Not bad at all, really.", "Two hours lost."], padding=True, return_tensors="pt"
        )
    )
    cases.append(tokenizer(["Good."], ["Very good."], padding=True, return_tensors="pt"))
    return cases


def _segment_hint(ids, types, ref_types, sep: int) -> str:
    """Exercise 4.1: which typical slip wrong token type ids are (padding in segment 1, one segment, a [SEP] on the
    wrong side), or else the rule."""
    rows = [(list(r), t, m) for r, t, m in zip(ids.tolist(), types, ref_types)]
    if all(g == [1 if i > 0 and (sep in r[:i]) else e for i, e in enumerate(e_row)] for r, g, e_row in rows):
        hint = (
            "the padding positions got segment 1: padding gets segment 0 (the tokenizer's "
            "`pad_token_type_id`), and the attention mask hides it anyway."
        )
    elif all(all(x == 0 for x in g) for _, g, _ in rows) or all(all(x == 1 for x in g) for _, g, _ in rows):
        hint = "everything is in one segment: B and its [SEP] get segment 1."
    elif all(g == [1 if i == r.index(sep) else e for i, e in enumerate(e_row)] for r, g, e_row in rows):
        hint = "the [SEP] after A closes the first segment, so it gets 0; segment 1 starts after it."
    elif all(
        g == [0 if (x == sep and i != r.index(sep)) else e for i, (x, e) in enumerate(zip(r, e_row))]
        for r, g, e_row in rows
    ):
        hint = "the final [SEP] belongs to B's segment, so it gets 1."
    else:
        hint = (
            "0 up to and including the first [SEP], 1 from there up to and including the second [SEP], "
            "0 on the padding after it."
        )
    return hint


@register("4.1")
def pair_masks_function(answer: Any, *, tokenizer, texts=None, n_pairs: int = 16, exercise_id: str = "4.1") -> bool:
    """Exercise 4.1: ``pair_masks(input_ids, sep_id, pad_id) -> (attention_mask, token_type_ids)`` for a padded
    batch of sentence pairs, each row ``[CLS] A [SEP] B [SEP] [PAD] ...``.

    The reference is the tokenizer's own output for the same batch: mask 1 on every real token (special tokens
    included) and 0 on padding; segment 0 up to and including the first ``[SEP]``, 1 for B and its ``[SEP]``, and
    0 again on padding (BERT's ``pad_token_type_id``). Recognises the mask inverted, padding in segment 1, the
    first ``[SEP]`` in segment 1, the last ``[SEP]`` in segment 0, one segment for everything, and the two
    results swapped.
    """
    if tokenizer is None:
        raise TypeError("pair_masks_function needs the chapter's tokenizer: tokenizer=tokenizer")
    if (verdict := _function_guard(exercise_id, answer, "pair_masks", "input_ids, sep_id, pad_id")) is not None:
        return verdict
    cases = _pair_cases(tokenizer, texts, n_pairs)
    sep, pad = tokenizer.sep_token_id, tokenizer.pad_token_id
    for enc in cases:
        ids = enc["input_ids"]
        shape = tuple(ids.shape)
        given = ids.clone()
        ok, got = _call_student(exercise_id, answer, "pair_masks", f"a padded batch of shape {shape}", given, sep, pad)
        if not ok:
            return got
        if got is None:
            return _report(exercise_id, False, "your function returned None: return `attention_mask, token_type_ids`.")
        if not bool((given == ids).all()):
            return _report(exercise_id, False, "your function changed `input_ids` in place: build new tensors.")
        try:
            mask, types = got
        except (TypeError, ValueError):
            return _report(
                exercise_id,
                False,
                f"your function should return a pair (attention_mask, token_type_ids), not a {_type_name(got)}.",
            )
        mask, types = _as_int_rows(mask), _as_int_rows(types)
        if mask is None or types is None:
            return _report(
                exercise_id,
                False,
                "both results should be tables of 0s and 1s with the shape of "
                f"`input_ids` {shape} (tensors, arrays or lists of lists).",
            )
        ref_mask, ref_types = enc["attention_mask"].tolist(), enc["token_type_ids"].tolist()
        if (np.shape(mask), np.shape(types)) != (shape, shape):
            return _report(
                exercise_id,
                False,
                f"both results should have the shape of `input_ids`, {shape}; yours "
                f"have {np.shape(mask)} and {np.shape(types)}.",
            )
        if mask == ref_types and types == ref_mask and mask != types:
            return _report(
                exercise_id, False, "the two results are in the wrong order: return `attention_mask, token_type_ids`."
            )
        has_padding = any(0 in row for row in ref_mask)
        where = f"on a batch of {shape[0]} pairs" + (" with padding" if has_padding else " without padding")
        if mask != ref_mask:
            if mask == [[1 - x for x in row] for row in ref_mask]:
                hint = "it is inverted: 1 marks a real token (attend to it) and 0 a padding position."
            elif all(x == 1 for row in mask for x in row):
                hint = "it is all 1s, but the padding positions (`pad_id`) must get 0."
            else:
                hint = (
                    "1 for every position that is not padding ([CLS] and [SEP] included), 0 where "
                    "`input_ids == pad_id`."
                )
            return _report(exercise_id, False, f"{where} the attention mask is not right: {hint}")
        if types == ref_types:
            continue
        hint = _segment_hint(ids, types, ref_types, sep)
        return _report(
            exercise_id, False, f"{where} the attention mask is right but the token type ids are not: {hint}"
        )
    return _report(
        exercise_id,
        True,
        f"correct on {len(cases)} padded pair batches: your attention masks and "
        "token type ids are exactly the tokenizer's (segment 0 for [CLS] A [SEP], 1 "
        "for B [SEP], padding masked out and in segment 0).",
    )


def _linear_warmup_lr(t: float, peak_lr: float, warmup_steps: int, total_steps: int) -> float:
    """transformers' get_linear_schedule_with_warmup after ``t`` scheduler steps."""
    if t < warmup_steps:
        return peak_lr * t / max(1, warmup_steps)
    return peak_lr * max(0.0, (total_steps - t) / max(1, total_steps - warmup_steps))


@register("4.2")
def learning_rate_function(
    answer: Any, *, steps=None, peak_lr=None, warmup_steps=None, exercise_id: str = "4.2"
) -> bool:
    """Exercise 4.2: ``lr_at(t, peak_lr, warmup_steps, total_steps)``, the linear warm-up and decay schedule.

    ``t`` counts the optimiser steps already taken (0 for the first step), as transformers'
    ``get_linear_schedule_with_warmup`` does: the rate rises as ``peak * t / warmup`` and then falls as
    ``peak * (total - t) / (total - warmup)``, reaching 0 at ``t = total``. Tested on a grid of settings and, when
    given, on the chapter's recorded rates (``steps``, a ``TrainResult.steps`` table whose step ``s`` used
    ``lr_at(s - 1)``). Recognises an off-by-one step count, a decay over all the steps instead of those after
    warm-up, no warm-up, a constant rate, and a result in the wrong unit.
    """
    if (verdict := _function_guard(exercise_id, answer, "lr_at", "t, peak_lr, warmup_steps, total_steps")) is not None:
        return verdict
    settings = [(1e-4, 6, 100), (2e-5, 10, 40), (5e-5, 1, 8), (3e-5, 0, 20)]
    recorded = None
    if steps is not None and peak_lr is not None and warmup_steps is not None:
        recorded = (float(peak_lr), int(warmup_steps), len(steps), [float(x) for x in steps["lr"]])
        settings.insert(0, recorded[:3])
    for peak, warm, total in settings:
        for t in range(total + 1):
            right = _linear_warmup_lr(t, peak, warm, total)
            label = f"t = {t} (peak {peak:g}, warm-up {warm}, total {total})"
            ok, got = _call_student(exercise_id, answer, "lr_at", label, t, peak, warm, total)
            if not ok:
                return got
            value = _as_number(got)
            if value is None:
                return _report(exercise_id, False, f"`lr_at` should return one number, not a {_type_name(got)}.")
            if abs(value - right) <= 1e-6 * peak:
                continue
            where = f"with peak {peak:g}, {warm} warm-up steps and {total} steps in all, lr_at({t})"
            shifted = _linear_warmup_lr(t + 1, peak, warm, total)
            decay_all = peak * t / max(1, warm) if t < warm else peak * max(0.0, (total - t) / total)
            no_warmup = peak * max(0.0, (total - t) / total)
            constant = False
            if abs(value - peak) <= 1e-6 * peak:  # the peak here: is it the peak at the last step too?
                ok, last = _call_student(exercise_id, answer, "lr_at", f"t = {total}", total, peak, warm, total)
                if not ok:
                    return last
                last = _as_number(last)
                constant = last is not None and abs(last - peak) <= 1e-6 * peak
            if constant:
                hint = "this is a constant rate, the peak at every step: it rises during warm-up, then falls to 0."
            elif abs(value - shifted) <= 1e-6 * peak:
                hint = (
                    "this is one step ahead: t counts the steps already taken, so the first step (t = 0) uses "
                    "rate 0 when there is a warm-up, and the peak is reached at t = warmup_steps."
                )
            elif abs(value - decay_all) <= 1e-6 * peak:
                hint = (
                    "the decay runs over the steps *after* warm-up: peak * (total - t) / (total - warmup), "
                    "which is the peak at t = warmup and 0 at t = total."
                )
            elif abs(value - no_warmup) <= 1e-6 * peak and warm > 0 and t < warm:
                hint = "there is no warm-up: during the first warmup_steps steps the rate climbs as peak * t / warmup."
            elif right > 0 and (abs(value / right - 100) < 1e-6 or abs(value * 100 / right - 1) < 1e-6):
                hint = "this is off by a factor of 100: return the rate itself, not a percentage."
            elif warm == 0 and not math.isfinite(value):
                hint = "with warmup_steps = 0 there is no warm-up phase; avoid dividing by zero."
            else:
                hint = (
                    "during warm-up (t < warmup_steps) the rate is peak * t / warmup_steps; after it, peak * "
                    "(total - t) / (total - warmup_steps); never below 0."
                )
            return _report(exercise_id, False, f"{where} should be {right:.6g}, not {value:.6g}: {hint}")
    if recorded is not None:
        peak, warm, total, rates = recorded
        ours = [_linear_warmup_lr(s, peak, warm, total) for s in range(total)]
        if not np.allclose(rates, ours, rtol=1e-6, atol=1e-15):  # the chapter's run used another schedule
            raise ValueError(
                "the recorded rates do not follow the linear schedule with these settings; pass the "
                "training run's peak rate and warm-up steps."
            )
        plural = "s" if warm != 1 else ""
        return _report(
            exercise_id,
            True,
            f"correct: your schedule gives every one of the {total} rates the "
            f"chapter's run recorded (peak {peak:g} after {warm} warm-up step{plural}, "
            "0 at the end), and agrees with transformers' linear schedule on other "
            "settings.",
        )
    return _report(
        exercise_id,
        True,
        "correct: your schedule agrees with transformers' linear warm-up and decay on every step of several settings.",
    )
