"""helpers.exercises.ch6: every checker of chapter 6 accepts the reference solution and rejects the typical wrong
answers with a hint: head+tail truncation (against helpers.long_text), the distillation loss (against
helpers.compress).

The references are computed independently here, with the libraries, so the checkers are tested against them, not
against themselves. A checker must never raise because of the answer: None (the student notebooks' stub), a wrong
type, or a function that raises all give False and a message.
"""

import numpy as np
import pytest
import torch
from exercise_tools import GUARD_CASES, assert_guarded, stub, verdict

import helpers.check as check
from helpers.exercises import ch6

# ---------------------------------------------------------------------------------------------- 6.1 head+tail


def good_head_tail(ids, budget, head_tokens):
    if len(ids) <= budget:
        return list(ids)
    return ids[:head_tokens] + ids[len(ids) - (budget - head_tokens) :]


ARTICLES = [list(range(n)) for n in (50, 126, 127, 300, 1000)]


def test_head_tail_accepts_the_reference(capsys):
    from helpers.long_text import truncate_ids

    for ids in ARTICLES:
        assert good_head_tail(ids, 126, 31) == truncate_ids(ids, 126, "head+tail")
    ok, out = verdict(capsys, check.exercise, "6.1", good_head_tail, token_lists=ARTICLES, budget=126)
    assert ok and f"{len(ARTICLES) + 6} inputs" in out
    ok, _ = verdict(capsys, check.exercise, "6.1", lambda i, b, h: np.array(good_head_tail(i, b, h)))
    assert ok


@pytest.mark.parametrize(
    "fn, hint",
    [
        (lambda i, b, h: i[:h] + i[-(b - h) :] if len(i) > b else list(i), "`ids[-0:]` is the whole list"),
        (lambda i, b, h: i[:h] + i[-(b - h) :] if b > h else i[:h], "fits in the budget"),
        (lambda i, b, h: (i[len(i) - (b - h) :] + i[:h]) if len(i) > b else list(i), "swapped"),
        (lambda i, b, h: (i[:h] + i[len(i) - (b - h) - 1 :]) if len(i) > b else list(i), "exactly budget"),
        (lambda i, b, h: (i[1 : h + 1] + i[len(i) - (b - h) :]) if len(i) > b else list(i), "first"),
        (lambda i, b, h: (i[:h] + i[len(i) - (b - h) - 1 : -1]) if len(i) > b else list(i), "last"),
        (lambda i, b, h: i.pop() and None, "changed its input"),
        (None, "no answer yet"),
        (lambda i, b: i, "TypeError"),
        (lambda i, b, h: 3, "list of ids"),
    ],
)
def test_head_tail_recognises_typical_slips(capsys, fn, hint):
    ok, out = verdict(capsys, ch6.head_tail_function, fn, token_lists=ARTICLES, budget=126)
    assert not ok and hint in out


# ---------------------------------------------------------------------------------------------- 6.2 distillation


def good_kd(student_logits, teacher_logits, labels, temperature, alpha):
    log_ps = torch.log_softmax(student_logits / temperature, -1)
    log_pt = torch.log_softmax(teacher_logits / temperature, -1)
    soft = (log_pt.exp() * (log_pt - log_ps)).sum(-1).mean() * temperature**2
    hard = -torch.log_softmax(student_logits, -1)[torch.arange(len(labels)), labels].mean()
    return alpha * soft + (1 - alpha) * hard


@pytest.fixture(scope="module")
def kd_logits():
    gen = torch.Generator().manual_seed(5)
    return (
        torch.randn(10, 2, generator=gen) * 3,
        torch.randn(10, 2, generator=gen) * 3,
        torch.randint(2, (10,), generator=gen),
    )


def test_distillation_accepts_the_reference(capsys, kd_logits):
    from helpers.compress import distillation_loss

    s, t, y = kd_logits
    for temp, alpha in [(2.0, 0.5), (1.0, 0.0), (4.0, 1.0)]:
        assert torch.isclose(good_kd(s, t, y, temp, alpha), distillation_loss(s, t, y, temperature=temp, alpha=alpha))
    ok, out = verdict(capsys, check.exercise, "6.2", good_kd, student_logits=s, teacher_logits=t, labels=y)
    assert ok and "correct on 5 inputs" in out
    ok, _ = verdict(capsys, check.exercise, "6.2", lambda *a: float(good_kd(*a)))
    assert ok


def _kd_variant(kind):
    def loss(s, t, y, temp, alpha):
        log_ps, log_pt = torch.log_softmax(s / temp, -1), torch.log_softmax(t / temp, -1)
        ce = torch.nn.functional.cross_entropy(s, y)
        kl = (log_pt.exp() * (log_pt - log_ps)).sum(-1)
        scale = temp**2
        if kind == "no_t2":
            scale = 1.0
        elif kind == "reversed":
            kl = (log_ps.exp() * (log_ps - log_pt)).sum(-1)
        elif kind == "raw_student":
            kl = (log_pt.exp() * (log_pt - torch.log_softmax(s, -1))).sum(-1)
        elif kind == "tempered_ce":
            ce = torch.nn.functional.cross_entropy(s / temp, y)
        elif kind == "sum":
            return alpha * scale * kl.sum() + (1 - alpha) * ce * len(y)
        elif kind == "elementwise":
            return alpha * scale * kl.sum() / s.numel() + (1 - alpha) * ce
        elif kind == "alpha_swapped":
            return (1 - alpha) * scale * kl.mean() + alpha * ce
        elif kind == "not_written":
            raise NotImplementedError("write my_distillation_loss here")
        return alpha * scale * kl.mean() + (1 - alpha) * ce

    return loss


@pytest.mark.parametrize(
    "kind, hint",
    [
        ("no_t2", "T^2 factor is missing"),
        ("reversed", "wrong way"),
        ("raw_student", "divided by T too"),
        ("tempered_ce", "without the temperature"),
        ("sum", "sum over the batch"),
        ("elementwise", "batchmean"),
        ("alpha_swapped", "alpha weights the wrong term"),
        ("not_written", "not written yet"),
    ],
)
def test_distillation_recognises_typical_slips(capsys, kd_logits, kind, hint):
    s, t, y = kd_logits
    ok, out = verdict(
        capsys, ch6.distillation_loss_function, _kd_variant(kind), student_logits=s, teacher_logits=t, labels=y
    )
    assert not ok and hint in out


@pytest.mark.parametrize(
    "fn, hint",
    [
        (None, "no answer yet"),
        ("loss", "pass the function"),
        (lambda *a: torch.zeros(3), "one number"),
        (lambda s, t: 0.0, "TypeError"),
    ],
)
def test_distillation_non_answers(capsys, fn, hint):
    ok, out = verdict(capsys, ch6.distillation_loss_function, fn)
    assert not ok and hint in out


@pytest.mark.parametrize("checker", [ch6.head_tail_function, ch6.distillation_loss_function])
def test_function_exercises_answer_the_student_stub(capsys, checker):
    ok, out = verdict(capsys, checker, stub)
    assert not ok and "not written yet" in out


# ---------------------------------------------------------------------------------------------- every function exercise


@pytest.mark.parametrize(
    "checker, exercise_id, name",
    [
        (ch6.head_tail_function, "6.1", "head_tail"),
        (ch6.distillation_loss_function, "6.2", "my_distillation_loss"),
    ],
    ids=["6.1", "6.2"],
)
@pytest.mark.parametrize("case", GUARD_CASES)
def test_function_exercises_report_non_functions_and_crashes(capsys, checker, exercise_id, name, case):
    """The shared guard and the shared call: None, a non-function, the stub and a crash are messages, not errors."""
    assert_guarded(capsys, checker, exercise_id, name, case)
