"""The book's exercises: one checker module per chapter, and the registry that finds a checker by exercise id.

Every exercise has an id such as ``"1.2"`` (chapter 1, exercise 2). Its checker lives in the module of its
chapter, ``helpers/exercises/ch1.py`` ... ``ch7.py``, and registers itself with :func:`register`::

    @register("1.2")
    def macro_f1_by_hand(answer, *, model, data, exercise_id="1.2") -> bool:
        \"\"\"Exercise 1.2: ...\"\"\"

A notebook calls it through :func:`exercise` (also available as ``helpers.check.exercise``)::

    check.exercise("1.2", answer, model=rt_models["tfidf_lr"], data=rt["test"]);

The keyword arguments are the chapter's own objects that the checker needs to compute the reference answer
itself (it never trusts a number printed by the chapter). Every checker prints one kind message (``✓ ...`` when
right; ``✗ ...`` with what is wrong and a hint otherwise) and returns ``True`` or ``False``. A checker never raises
because of the *answer*: ``None`` (the stub of the student notebooks), a wrong type, a function that crashes, all
become a message and ``False``; the shared guards that do this live in :mod:`helpers.exercises.guards`. It does
raise ``KeyError`` for an unknown exercise id and ``TypeError`` when the chapter's objects are missing, which are
mistakes in the notebook rather than in the answer.

Adding an exercise to chapter N touches three files, plus one regenerated copy:

1. ``book/0N_*.ipynb``: the exercise's text, its solution cell and a cell calling ``check.exercise("N.k", ...)``;
2. ``helpers/exercises/chN.py``: the checker, decorated with ``@register("N.k")``, with a docstring that starts
   ``Exercise N.k:`` and names the slips it recognises;
3. ``tests/test_exercises_chN.py``: the checker accepts the reference solution and rejects each slip with its hint;
4. then regenerate the student copy: ``python scripts/make_student_notebooks.py``.

``tests/test_exercises.py`` fails when a notebook calls an id that is not registered, when a registered id is
called by no notebook (or by another chapter's), and when a chapter's test module never mentions one of its ids.
"""

from __future__ import annotations

import inspect
import re
from typing import Any, Callable

__all__ = ["EXERCISES", "exercise", "register"]

EXERCISES: dict[str, Callable[..., bool]] = {}
"""Exercise id -> checker, in the book's order (filled by the chapter modules as they are imported)."""

_ID = re.compile(r"[1-9][0-9]*\.[1-9][0-9]*")


def register(exercise_id: str) -> Callable[[Callable[..., bool]], Callable[..., bool]]:
    """Decorator: file the checker under ``exercise_id`` (``"N.k"``) in :data:`EXERCISES`.

    The checker must live in the module of chapter N (``helpers.exercises.chN``), have a docstring and take the
    answer first; an id can be registered only once.
    """
    exercise_id = str(exercise_id).strip()
    if not _ID.fullmatch(exercise_id):
        raise ValueError(f"exercise ids look like '4.2' (chapter.number), not {exercise_id!r}.")

    def add(checker: Callable[..., bool]) -> Callable[..., bool]:
        chapter = exercise_id.split(".")[0]
        module = checker.__module__.rsplit(".", 1)[-1]
        if module != f"ch{chapter}":
            raise ValueError(
                f"exercise {exercise_id} belongs in helpers/exercises/ch{chapter}.py, not in {checker.__module__}."
            )
        if exercise_id in EXERCISES:
            raise ValueError(
                f"exercise {exercise_id} is registered twice: {EXERCISES[exercise_id].__name__} and {checker.__name__}."
            )
        if not (checker.__doc__ or "").strip():
            raise ValueError(f"the checker of exercise {exercise_id} ({checker.__name__}) needs a docstring.")
        EXERCISES[exercise_id] = checker
        return checker

    return add


def exercise(exercise_id: str, answer: Any, **context: Any) -> bool:
    """Check the answer to exercise ``exercise_id`` (e.g. ``"1.2"``); prints a message and returns True or False.

    ``context`` holds the chapter's objects the checker needs (see each checker's signature in :data:`EXERCISES`).
    """
    key = str(exercise_id).strip()
    if key not in EXERCISES:
        raise KeyError(f"unknown exercise {exercise_id!r}; the exercises are {', '.join(EXERCISES)}.")
    checker = EXERCISES[key]
    accepted = inspect.signature(checker).parameters
    unknown = sorted(set(context) - set(accepted) - {"exercise_id"})
    if unknown:
        raise TypeError(
            f"exercise {key} does not take {', '.join(unknown)}; it takes "
            f"{', '.join(p for p in accepted if p not in ('answer', 'exercise_id'))}."
        )
    missing = [
        name
        for name, p in accepted.items()
        if p.kind is p.KEYWORD_ONLY and p.default is p.empty and name not in context
    ]
    if missing:
        raise TypeError(f"exercise {key} needs the chapter's {', '.join(missing)} (pass {missing[0]}=...).")
    return checker(answer, exercise_id=key, **context)


# The chapter modules register their checkers when imported, in the book's order.
from . import ch1, ch2, ch3, ch4, ch5, ch6, ch7  # noqa: E402, F401
