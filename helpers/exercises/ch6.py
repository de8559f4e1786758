"""Exercise checkers of chapter 6: head+tail truncation, the distillation loss.

Each checker registers itself under its exercise id; see :mod:`helpers.exercises` for the rules they share.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import register
from .guards import _as_number, _call_student, _close, _function_guard, _report, _type_name


@register("6.1")
def head_tail_function(answer: Any, *, token_lists=None, budget: int = 126, exercise_id: str = "6.1") -> bool:
    """Exercise 6.1: ``head_tail(ids, budget, head_tokens)``, the head+tail truncation of a list of token ids.

    A list that fits (``len(ids) <= budget``) is returned whole; a longer one becomes its first ``head_tokens`` ids
    followed by its last ``budget - head_tokens``. The reference is :func:`helpers.long_text.truncate_ids`. Tested
    on the chapter's articles (``token_lists``) with a quarter of ``budget`` from the head, and on edge cases: a
    list that fits exactly, ``head_tokens`` 0 and equal to ``budget``. Recognises the ``ids[-0:]`` slip (the whole
    list), a short text cut or padded, the tail too long or too short, and head and tail swapped.
    """
    from helpers.long_text import truncate_ids

    if (verdict := _function_guard(exercise_id, answer, "head_tail", "ids, budget, head_tokens")) is not None:
        return verdict
    long_list = list(range(1000, 1040))
    cases = [(list(ids), budget, budget // 4, "an article of the chapter") for ids in list(token_lists or [])[:40]]
    cases += [
        (long_list, 10, 3, "40 ids, budget 10, head 3"),
        (long_list, 10, 0, "40 ids, budget 10, head 0"),
        (long_list, 10, 10, "40 ids, budget 10, head 10"),
        (long_list[:10], 10, 3, "10 ids, budget 10 (fits)"),
        (long_list[:4], 10, 3, "4 ids, budget 10 (fits)"),
        (long_list[:11], 10, 3, "11 ids, budget 10"),
    ]
    for ids, b, h, name in cases:
        given = list(ids)
        ok, got = _call_student(exercise_id, answer, "head_tail", name, given, b, h)
        if not ok:
            return got
        if given != ids:
            return _report(exercise_id, False, "your function changed its input list: build and return a new one.")
        if got is None:
            return _report(exercise_id, False, "your function returned None: return the truncated list.")
        try:
            got = [int(x) for x in (got.tolist() if hasattr(got, "tolist") else got)]
        except (TypeError, ValueError):
            return _report(exercise_id, False, f"your function should return a list of ids, not a {_type_name(got)}.")
        right = truncate_ids(ids, b, "head+tail", head_tokens=h)
        if got == right:
            continue
        where = f"on {name} (len {len(ids)}, budget {b}, head_tokens {h})"
        if len(ids) <= b:
            hint = "a list that fits in the budget is returned whole, unchanged."
        elif h == b and got == ids[:h] + ids:
            hint = (
                "with head_tokens == budget the tail is empty, but `ids[-0:]` is the whole list: use "
                "`ids[len(ids) - (budget - head_tokens):]`."
            )
        elif got == ids[len(ids) - (b - h) :] + ids[:h]:
            hint = "head and tail are swapped: the first head_tokens ids come first."
        elif len(got) != b:
            hint = f"the result has {len(got)} ids; it must have exactly budget = {b}."
        elif got[:h] != ids[:h]:
            hint = f"the first {h} ids must be the first {h} of the text."
        else:
            hint = f"the last {b - h} ids must be the last {b - h} of the text."
        return _report(exercise_id, False, f"{where}: {hint}")
    n_chapter = len(cases) - 6
    return _report(
        exercise_id,
        True,
        f"correct on {len(cases)} inputs ({n_chapter} of the chapter's articles and the "
        "edge cases): your truncation matches helpers.long_text.truncate_ids.",
    )


def _distillation_slips(s, t, y, temp: float, alpha: float) -> list[tuple[float, str]]:
    """The typical wrong distillation losses of exercise 6.2, with the hint for each."""
    import torch.nn.functional as F

    log_ps, log_pt = F.log_softmax(s / temp, -1), F.log_softmax(t / temp, -1)
    kl = (log_pt.exp() * (log_pt - log_ps)).sum(-1)
    kl_rev = (log_ps.exp() * (log_ps - log_pt)).sum(-1)
    log_ps_raw = F.log_softmax(s, -1)
    kl_raw = (log_pt.exp() * (log_pt - log_ps_raw)).sum(-1)
    ce, ce_t = F.cross_entropy(s, y), F.cross_entropy(s / temp, y)
    n, k = s.shape
    return [
        (
            alpha * float(kl.mean()) + (1 - alpha) * float(ce),
            "the T^2 factor is missing: multiply the KL term "
            "by temperature ** 2 (it keeps its gradients on the "
            "scale of the label term's).",
        ),
        (
            alpha * temp**2 * float(kl_rev.mean()) + (1 - alpha) * float(ce),
            "the KL runs the wrong way: KL(teacher || student) = sum p_teacher * (log p_teacher - log p_student). "
            "(`F.kl_div(input, target)` takes the *student's* log-probabilities as input.)",
        ),
        (
            alpha * temp**2 * float(kl_raw.mean()) + (1 - alpha) * float(ce),
            "the student's logits must be divided by T too before the softmax.",
        ),
        (
            alpha * temp**2 * float(kl.mean()) + (1 - alpha) * float(ce_t),
            "the label term uses the plain logits: CE(student_logits, labels), without the temperature.",
        ),
        (
            alpha * temp**2 * float(kl.sum()) + (1 - alpha) * float(ce) * n,
            "this is a sum over the batch: take the mean over the texts.",
        ),
        (
            alpha * temp**2 * float(kl.sum()) / (n * k) + (1 - alpha) * float(ce),
            "the KL is averaged over every element (`reduction='mean'`): sum over the classes, then average over "
            "the texts (`reduction='batchmean'`).",
        ),
        (
            (1 - alpha) * temp**2 * float(kl.mean()) + alpha * float(ce),
            "alpha weights the wrong term: alpha goes with the teacher's (soft) term, 1 - alpha with the labels.",
        ),
    ]


@register("6.2")
def distillation_loss_function(
    answer: Any, *, student_logits=None, teacher_logits=None, labels=None, exercise_id: str = "6.2"
) -> bool:
    """Exercise 6.2: ``my_distillation_loss(student_logits, teacher_logits, labels, temperature, alpha)``.

    ``alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T)) + (1 - alpha) * CE(student, labels)``, the
    KL summed over the classes and averaged over the batch; the reference is
    :func:`helpers.compress.distillation_loss`. Tested on the chapter's logits (when given) and on random ones,
    with several temperatures and alphas. Recognises a missing T^2, the KL the wrong way round, the student's
    logits not divided by T, the cross-entropy on tempered logits, a sum or an element-wise mean instead of the
    batch mean, and alpha on the wrong term.
    """
    import torch

    from helpers.compress import distillation_loss

    if (
        verdict := _function_guard(
            exercise_id, answer, "my_distillation_loss", "student_logits, teacher_logits, labels, temperature, alpha"
        )
    ) is not None:
        return verdict
    gen = torch.Generator().manual_seed(0)
    rs, rt = torch.randn(6, 3, generator=gen) * 2, torch.randn(6, 3, generator=gen) * 2
    rl = torch.randint(3, (6,), generator=gen)
    cases = [
        ("random logits (6 texts, 3 classes), T = 2, alpha = 0.5", rs, rt, rl, 2.0, 0.5),
        ("random logits, T = 4, alpha = 0.9", rs, rt, rl, 4.0, 0.9),
        ("random logits, T = 1, alpha = 0.0", rs, rt, rl, 1.0, 0.0),
        ("random logits, T = 3, alpha = 1.0", rs, rt, rl, 3.0, 1.0),
    ]
    if student_logits is not None and teacher_logits is not None and labels is not None:
        cases.insert(
            0,
            (
                "the chapter's logits, T = 2, alpha = 0.5",
                torch.as_tensor(student_logits).float(),
                torch.as_tensor(teacher_logits).float(),
                torch.as_tensor(np.asarray(labels)).long(),
                2.0,
                0.5,
            ),
        )
    for name, s, t, y, temp, alpha in cases:
        ok, got = _call_student(
            exercise_id, answer, "my_distillation_loss", name, s.clone(), t.clone(), y.clone(), temp, alpha
        )
        if not ok:
            return got
        value = _as_number(got.detach() if hasattr(got, "detach") else got)
        if value is None:
            return _report(
                exercise_id,
                False,
                f"`my_distillation_loss` should return one number (a 0-d tensor or a float), not a {_type_name(got)}.",
            )
        right = float(distillation_loss(s, t, y, temperature=temp, alpha=alpha))
        if _close(value, right, 1e-4):
            continue
        slips = _distillation_slips(s, t, y, temp, alpha)
        for wrong, hint in slips:
            if _close(value, wrong, 1e-4) and not _close(wrong, right, 1e-4):
                return _report(exercise_id, False, f"on {name}: {hint}")
        return _report(
            exercise_id,
            False,
            f"on {name} the loss is {right:.4f}, not {value:.4f}. Hint: p^T = "
            "softmax(logits / T); soft = sum over classes of p_teacher^T (log "
            "p_teacher^T - log p_student^T), averaged over the texts, times T^2; "
            "loss = alpha * soft + (1 - alpha) * CE(student_logits, labels).",
        )
    return _report(
        exercise_id,
        True,
        f"correct on {len(cases)} inputs: your loss matches "
        "helpers.compress.distillation_loss for several temperatures and alphas "
        "(alpha = 1: teacher only; alpha = 0: labels only).",
    )
