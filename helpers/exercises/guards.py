"""The guards every checker shares: one message format, number parsing, and the safe call of a student's function.

A checker never raises because of the *answer*. These helpers turn the usual non-answers into a message and
``False``: ``None`` (the stub of the student notebooks, :func:`_not_answered`), a function still raising
``NotImplementedError`` (:func:`_not_written`), something that is not a function (:func:`_function_guard`), a
function that crashes (:func:`_call_student`). :func:`_report` prints the one-line verdict, ``✓ ...`` or
``✗ ...``, wrapped at 110 characters for the page, in the reader's language (:func:`helpers.i18n.translate`:
English, or Chinese after ``helpers.setup(language="zh")``).
"""

from __future__ import annotations

import math
import numbers
import textwrap
import traceback
from typing import Any

from ..i18n import translate


def _report(exercise_id: str, ok: bool, message: str) -> bool:
    mark = "✓" if ok else "✗"
    text = translate(f"Exercise {exercise_id}: {message}")
    print(
        textwrap.fill(
            f"{mark} {text}", width=110, subsequent_indent="  ", break_long_words=False, break_on_hyphens=False
        )
    )
    return ok


def _not_answered(exercise_id: str, what: str) -> bool:
    return _report(
        exercise_id,
        False,
        f"no answer yet. Replace the `None` in the cell above with {what}, run that cell, then run this one again.",
    )


def _not_written(exercise_id: str, name: str) -> bool:
    return _report(
        exercise_id,
        False,
        f"`{name}` is not written yet: replace the `raise NotImplementedError` line "
        "in the cell above with your code, run that cell, then this one again.",
    )


def _as_number(value: Any) -> float | None:
    """A plain float from an int, float, NumPy or torch scalar (or a 1-element array); None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    item = getattr(value, "item", None)
    size = getattr(value, "size", None)
    numel = getattr(value, "numel", None)
    n = numel() if callable(numel) else size
    if callable(item) and n == 1:
        try:
            out = item()
        except (TypeError, ValueError):
            return None
        return float(out) if isinstance(out, numbers.Real) and not isinstance(out, bool) else None
    return None


def _as_numbers(answer: Any, count: int) -> list[float] | None:
    """``count`` plain floats from a tuple, list or array of numbers (see :func:`_as_number`); None otherwise."""
    try:
        values = [_as_number(v) for v in answer]
    except TypeError:
        return None
    return values if len(values) == count and all(v is not None for v in values) else None


def _slip_hint(value: float, slips: list[tuple[float, str]], tol: float) -> str | None:
    """The hint of the first typical slip whose result ``value`` matches (within ``tol``), or None."""
    return next((hint for wrong, hint in slips if _close(value, wrong, tol)), None)


def _close(a: float, b: float, tol: float) -> bool:
    return math.isfinite(a) and abs(a - b) <= tol * max(1.0, abs(b))


def _type_name(value: Any) -> str:
    return type(value).__name__


def _function_guard(exercise_id: str, answer: Any, name: str, signature: str) -> bool | None:
    """None when ``answer`` is a function to test; else the reported verdict (``None``, or not a function).

    ``name`` and ``signature`` are those of the function the exercise asks for: ``"lr_at"``, ``"t, peak_lr, ..."``.
    """
    if answer is None:
        return _not_answered(exercise_id, f"your function (write `def {name}({signature}): ...` and pass `{name}`)")
    if not callable(answer):
        return _report(
            exercise_id, False, f"pass the function itself (`{name}`, without brackets), not a {_type_name(answer)}."
        )
    return None


def _call_student(exercise_id: str, fn, name: str, what: str, *args) -> tuple[bool, Any]:
    """Run the student's function ``fn(*args)``: (True, its result), or (False, the reported verdict) if it raised.

    ``name`` is the function's name in the exercise; ``what`` describes the input, for the message ("on WHAT, your
    function raised ..."), which gives the line of the student's code that raised (none when the call itself
    failed, e.g. with the wrong number of arguments). A ``NotImplementedError`` (the stub of the student notebooks)
    reads as "not written yet".
    """
    try:
        return True, fn(*args)
    except NotImplementedError:
        return False, _not_written(exercise_id, name)
    except Exception as err:  # the student's code: report, never raise
        where = traceback.extract_tb(err.__traceback__)[-1]
        line = "" if where.filename == __file__ else f" (line {where.lineno})"
        return False, _report(exercise_id, False, f"on {what}, your function raised {type(err).__name__}: {err}{line}.")
