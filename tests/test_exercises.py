"""helpers.exercises as a whole: the registry, the notebooks that call it, the rule that an exercise lives in its
chapter's modules, and the facade helpers.check.

Each chapter's checkers are tested in tests/test_exercises_chN.py; this module tests what they share.
"""

import ast
import inspect
import json
from pathlib import Path

import pytest

import helpers.check as check
import helpers.exercises as exercises
from helpers.exercises import guards

ROOT = Path(__file__).resolve().parent.parent


def exercise_calls(path: Path) -> list[tuple[str, list[str]]]:
    """The ``check.exercise(...)`` calls of a notebook's code cells: (exercise id, keyword names), in order."""
    calls = []
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        source = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "exercise"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "check"
            ):
                calls.append((node.args[0].value, [k.arg for k in node.keywords]))
    return calls


def notebook_calls() -> dict[str, list[str]]:
    """Chapter number ("1") -> the exercise ids its book notebook passes to check.exercise, in order."""
    return {
        str(int(path.name[:2])): [i for i, _ in exercise_calls(path)]
        for path in sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
    }


def test_registry_lists_one_checker_per_exercise():
    assert list(check.EXERCISES) == [
        "1.1",
        "1.2",
        "1.3",
        "2.1",
        "2.2",
        "2.3",
        "3.1",
        "3.2",
        "3.3",
        "4.1",
        "4.2",
        "5.1",
        "5.2",
        "6.1",
        "6.2",
        "7.1",
        "7.2",
    ]
    assert all(callable(fn) and fn.__doc__ for fn in check.EXERCISES.values())


def test_every_exercise_a_notebook_calls_is_registered_and_every_checker_is_called():
    calls = notebook_calls()
    assert sorted(calls) == ["1", "2", "3", "4", "5", "6", "7"]
    called = [i for ids in calls.values() for i in ids]
    assert not set(called) - set(exercises.EXERCISES), "a notebook calls an exercise that has no checker"
    assert not set(exercises.EXERCISES) - set(called), "a checker that no notebook calls"
    assert len(called) == len(set(called)), "each exercise is checked once"
    for chapter, ids in calls.items():
        assert all(i.split(".")[0] == chapter for i in ids), f"chapter {chapter} checks another chapter's exercise"


@pytest.mark.parametrize("path", sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb")), ids=lambda p: p.stem)
def test_notebooks_pass_each_checker_the_chapter_objects_it_takes(path):
    """What check.exercise would raise as a TypeError when the cell runs, found without running the chapter."""
    for exercise_id, keywords in exercise_calls(path):
        params = inspect.signature(exercises.EXERCISES[exercise_id]).parameters
        assert set(keywords) <= set(params) - {"answer", "exercise_id"}, exercise_id
        needed = {n for n, p in params.items() if p.kind is p.KEYWORD_ONLY and p.default is p.empty}
        assert needed <= set(keywords), f"{exercise_id} needs {needed - set(keywords)}"


@pytest.mark.parametrize("exercise_id", list(exercises.EXERCISES))
def test_each_exercise_lives_in_its_chapters_checker_module_and_test_module(exercise_id):
    chapter = exercise_id.split(".")[0]
    checker = exercises.EXERCISES[exercise_id]
    assert checker.__module__ == f"helpers.exercises.ch{chapter}"
    assert checker.__doc__.startswith(f"Exercise {exercise_id}: ")
    tests = (ROOT / "tests" / f"test_exercises_ch{chapter}.py").read_text(encoding="utf-8")
    assert f'"{exercise_id}"' in tests, f"tests/test_exercises_ch{chapter}.py never checks exercise {exercise_id}"


def test_the_facade_is_the_registry():
    assert check.EXERCISES is exercises.EXERCISES and check.exercise is exercises.exercise
    named = {name: getattr(check, name) for name in check.__all__ if callable(getattr(check, name))}
    registered = set(exercises.EXERCISES.values())
    assert registered <= set(named.values()), "helpers.check names every checker"
    for name, fn in named.items():
        if fn in registered:
            assert fn.__name__ == name


def test_register_refuses_bad_ids_duplicates_wrong_modules_and_missing_docstrings(monkeypatch):
    monkeypatch.setattr(exercises, "EXERCISES", dict(exercises.EXERCISES))

    def checker(answer, exercise_id="1.9"):
        """Exercise 1.9: a test checker."""
        return True

    checker.__module__ = "helpers.exercises.ch1"
    with pytest.raises(ValueError, match="look like '4.2'"):
        exercises.register("1-9")
    with pytest.raises(ValueError, match="registered twice"):
        exercises.register("1.1")(checker)
    with pytest.raises(ValueError, match="belongs in helpers/exercises/ch2.py"):
        exercises.register("2.9")(checker)
    assert exercises.register("1.9")(checker) is checker and exercises.EXERCISES["1.9"] is checker
    checker.__doc__ = None
    with pytest.raises(ValueError, match="needs a docstring"):
        exercises.register("1.8")(checker)


def test_a_function_called_with_the_wrong_arguments_is_reported_without_a_line(capsys):
    ok, verdict = guards._call_student("1.3", lambda words: words, "mark_negation", "the input []", [], "extra")
    out = " ".join(capsys.readouterr().out.split())
    assert (ok, verdict) == (False, False)
    assert "on the input [], your function raised TypeError: " in out and "(line" not in out, out


# The length of every checker is held by tests/test_code_shape.py, as for the rest of helpers/.
