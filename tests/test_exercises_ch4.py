"""helpers.exercises.ch4: every checker of chapter 4 accepts the reference solution and rejects the typical wrong
answers with a hint: the masks of a padded pair batch (against the tokenizer), the linear warm-up schedule (against
transformers).

The references are computed independently here, with the libraries, so the checkers are tested against them, not
against themselves. A checker must never raise because of the answer: None (the student notebooks' stub), a wrong
type, or a function that raises all give False and a message.
"""

import numpy as np
import pytest
import torch
from exercise_tools import GUARD_CASES, REVIEWS, assert_guarded, stub, verdict

import helpers.check as check
from helpers.exercises import ch4

# ---------------------------------------------------------------------------------------------- 4.1 pair masks

PAIR_TEXTS = REVIEWS + [
    "Good.",
    "A slow, long, and in the end rather pointless film about nothing much at all.",
    "Fun.",
    "The cast is great; the script is not.",
]


def make_pair_masks(kind="right"):
    def pair_masks(input_ids, sep_id, pad_id):
        ids = input_ids.tolist()
        masks, types = [], []
        for row in ids:
            mask = [0 if x == pad_id else 1 for x in row]
            first = row.index(sep_id)
            seps = [i for i, x in enumerate(row) if x == sep_id]
            last = seps[1] if len(seps) > 1 else len(row) - 1
            seg = [1 if first < i <= last else 0 for i in range(len(row))]
            if kind == "pad_one":
                seg = [1 if i > first else 0 for i in range(len(row))]
            elif kind == "middle_sep":
                seg = [1 if first <= i <= last else 0 for i in range(len(row))]
            elif kind == "last_sep":
                seg = [1 if first < i < last else 0 for i in range(len(row))]
            elif kind == "all_zero":
                seg = [0] * len(row)
            elif kind == "inverted":
                mask = [1 - m for m in mask]
            elif kind == "all_ones":
                mask = [1] * len(row)
            masks.append(mask)
            types.append(seg)
        if kind == "swapped":
            return torch.tensor(types), torch.tensor(masks)
        if kind == "lists":
            return masks, types
        if kind == "one":
            return torch.tensor(masks)
        return torch.tensor(masks), torch.tensor(types)

    return pair_masks


def test_pair_masks_accepts_the_reference(capsys, tokenizer):
    enc = tokenizer(PAIR_TEXTS[:5], PAIR_TEXTS[5:], padding=True, return_tensors="pt")
    mask, types = make_pair_masks()(enc["input_ids"], tokenizer.sep_token_id, tokenizer.pad_token_id)
    assert torch.equal(mask, enc["attention_mask"]) and torch.equal(types, enc["token_type_ids"])  # the tokenizer's
    assert (enc["attention_mask"] == 0).any(), "the test batch has padding"
    ok, out = verdict(capsys, check.exercise, "4.1", make_pair_masks(), tokenizer=tokenizer, texts=PAIR_TEXTS)
    assert ok and "3 padded pair batches" in out
    ok, _ = verdict(capsys, check.exercise, "4.1", make_pair_masks("lists"), tokenizer=tokenizer)
    assert ok


def _not_written_pair_masks(input_ids, sep_id, pad_id):
    raise NotImplementedError("write pair_masks here")


@pytest.mark.parametrize(
    "kind, hint",
    [
        ("pad_one", "padding positions got segment 1"),
        ("middle_sep", "closes the first segment"),
        ("last_sep", "final [SEP] belongs to B"),
        ("all_zero", "one segment"),
        ("inverted", "inverted"),
        ("all_ones", "must get 0"),
        ("swapped", "wrong order"),
        ("one", "pair (attention_mask, token_type_ids)"),
    ],
)
def test_pair_masks_recognises_typical_mistakes(capsys, tokenizer, kind, hint):
    ok, out = verdict(capsys, ch4.pair_masks_function, make_pair_masks(kind), tokenizer=tokenizer, texts=PAIR_TEXTS)
    assert not ok and hint in out


@pytest.mark.parametrize(
    "fn, hint",
    [
        (None, "no answer yet"),
        (_not_written_pair_masks, "not written yet"),
        ("pair_masks", "pass the function"),
        (lambda i, s, p: None, "returned None"),
        (lambda i, s: i, "TypeError"),
        (lambda i, s, p: ("a", "b"), "tables of 0s"),
    ],
)
def test_pair_masks_non_answers(capsys, tokenizer, fn, hint):
    ok, out = verdict(capsys, ch4.pair_masks_function, fn, tokenizer=tokenizer)
    assert not ok and hint in out


def test_pair_masks_needs_the_tokenizer():
    with pytest.raises(TypeError, match="tokenizer"):
        check.exercise("4.1", make_pair_masks())


# ---------------------------------------------------------------------------------------------- 4.2 schedule


def good_lr_at(t, peak_lr, warmup_steps, total_steps):
    if t < warmup_steps:
        return peak_lr * t / warmup_steps
    return peak_lr * max(0.0, (total_steps - t) / (total_steps - warmup_steps))


def transformers_rates(peak, warmup, total):
    """The rates transformers' scheduler gives the optimiser steps 1..total (what helpers.train records)."""
    import pandas as pd
    from transformers import get_linear_schedule_with_warmup

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=peak)
    sched = get_linear_schedule_with_warmup(opt, warmup, total)
    rates = []
    for _ in range(total):
        rates.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    return pd.DataFrame({"step": range(1, total + 1), "lr": rates})


def test_schedule_accepts_the_reference(capsys):
    steps = transformers_rates(1e-4, 3, 40)
    assert np.allclose([good_lr_at(t, 1e-4, 3, 40) for t in range(40)], steps["lr"], rtol=1e-9)  # = transformers
    ok, out = verdict(capsys, check.exercise, "4.2", good_lr_at, steps=steps, peak_lr=1e-4, warmup_steps=3)
    assert ok and "40 rates" in out
    ok, _ = verdict(capsys, check.exercise, "4.2", lambda t, p, w, n: np.float32(good_lr_at(t, p, w, n)) * 1.0)
    assert ok


def test_schedule_rejects_a_recording_of_another_schedule():
    with pytest.raises(ValueError, match="do not follow"):
        ch4.learning_rate_function(good_lr_at, steps=transformers_rates(1e-4, 3, 40), peak_lr=1e-4, warmup_steps=5)


@pytest.mark.parametrize(
    "fn, hint",
    [
        (lambda t, p, w, n: good_lr_at(t + 1, p, w, n), "one step ahead"),
        (lambda t, p, w, n: p * t / w if t < w else p * (n - t) / n, "steps *after* warm-up"),
        (lambda t, p, w, n: p * (n - t) / n, "no warm-up"),
        (lambda t, p, w, n: p, "constant rate"),
        (lambda t, p, w, n: 100 * good_lr_at(t, p, w, n), "factor of 100"),
        (lambda t, p, w, n: p * t / w if t < w else p * (n - t) / (n - w) * 0.9, "never below 0"),
    ],
)
def test_schedule_recognises_typical_slips(capsys, fn, hint):
    ok, out = verdict(
        capsys, check.exercise, "4.2", fn, steps=transformers_rates(1e-4, 3, 40), peak_lr=1e-4, warmup_steps=3
    )
    assert not ok and hint in out


def test_schedule_zero_warmup_does_not_crash_the_checker(capsys):
    ok, out = verdict(capsys, check.exercise, "4.2", lambda t, p, w, n: p * min(t / w, (n - t) / (n - w)))
    # right whenever warmup_steps > 0, but divides by zero without warm-up
    assert not ok and "ZeroDivisionError" in out


@pytest.mark.parametrize(
    "fn, hint",
    [
        (None, "no answer yet"),
        ("lr_at", "pass the function"),
        (lambda t, p, w, n: [p], "one number"),
        (lambda t: t, "TypeError"),
    ],
)
def test_schedule_non_answers(capsys, fn, hint):
    ok, out = verdict(capsys, check.exercise, "4.2", fn)
    assert not ok and hint in out


def test_function_exercises_answer_the_student_stub(capsys):
    ok, out = verdict(capsys, ch4.learning_rate_function, stub)
    assert not ok and "not written yet" in out


# ---------------------------------------------------------------------------------------------- every function exercise


@pytest.mark.parametrize(
    "checker, exercise_id, name",
    [
        (ch4.learning_rate_function, "4.2", "lr_at"),
    ],
    ids=["4.2"],
)
@pytest.mark.parametrize("case", GUARD_CASES)
def test_function_exercises_report_non_functions_and_crashes(capsys, checker, exercise_id, name, case):
    """The shared guard and the shared call: None, a non-function, the stub and a crash are messages, not errors."""
    assert_guarded(capsys, checker, exercise_id, name, case)
