"""The student notebooks (students/, made by scripts/make_student_notebooks.py) match the chapters.

(a) students/ is in sync with book/: the script's own check, run in-process.
(b) Filling every stub with the chapter's reference solution gives back exactly the chapter's cells (the only
    other difference is the Colab badge, which points at the student version). So the filled student notebooks are
    the chapters, which CI executes (nbval runs every chapter, and the book build runs them again): a student who
    solves the exercises runs code that CI has run. The stubs themselves are executed by nothing; instead
    tests/test_exercises_ch*.py checks that every checker answers a stub (None, or a function raising
    NotImplementedError) with a message rather than an exception.
(c) The stubs hold no solution code: a comment, ``name = None`` lines, and function headers raising
    NotImplementedError.
(d) Every chapter that has exercises has a quiz, and every exercise has a checker that its chapter calls.
"""

import ast
import importlib.util
import re
from pathlib import Path

import nbformat
import pytest

import helpers.check as check
import helpers.quiz as quiz

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("make_student_notebooks", ROOT / "scripts" / "make_student_notebooks.py")
msn = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(msn)

CHAPTERS = msn.chapters_with_exercises()


def cells(path):
    return nbformat.read(path, as_version=4).cells


def test_every_chapter_has_exercises_and_a_quiz():
    assert [p.stem for p in CHAPTERS] == [
        "01_background",
        "02_attention",
        "03_pretraining",
        "04_fine_tuning",
        "05_evaluation",
        "06_faq",
        "07_chinese",
    ]
    # The numbered chapters; the appendix (More than one GPU) has no exercises.
    assert CHAPTERS == sorted(msn.BOOK.glob("[0-9][0-9]_*.ipynb")), "every chapter of the book has exercises"
    assert sorted(quiz.QUIZZES) == [p.stem.split("_")[0] for p in CHAPTERS]
    assert sorted({k.split(".")[0] for k in check.EXERCISES}, key=int) == [str(int(p.stem[:2])) for p in CHAPTERS]


def test_students_folder_is_in_sync():
    problems = msn.stale_files()
    assert problems == [], "\n".join(problems) + "\nrun: .venv/bin/python scripts/make_student_notebooks.py"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_filled_stubs_give_back_the_chapter(chapter):
    book, student = cells(chapter), cells(msn.STUDENTS / chapter.name)
    assert len(book) == len(student)
    solutions = {c["id"]: c["source"] for c in book if msn.is_solution(c)}
    filled = 0
    for i, (b, s) in enumerate(zip(book, student)):
        if msn.EXERCISE_TAG in msn.tags(s):
            s["source"] = solutions[s["id"]]  # the student writes the reference solution
            filled += 1
            assert msn.tags(s) == [t for t in msn.tags(b) if t not in msn.HIDDEN_TAGS] + [msn.EXERCISE_TAG]
        else:
            assert s["metadata"] == b["metadata"], f"cell {i}"
        if i == 0:
            s["source"] = s["source"].replace("/students/", "/book/")
        assert (s["cell_type"], s["id"], s["source"]) == (b["cell_type"], b["id"], b["source"]), f"cell {i}"
        if s["cell_type"] == "code":
            assert s["outputs"] == [] and s["execution_count"] is None
    assert filled == len(solutions) >= 2


STUB_LINE = re.compile(r"^(#.*|[A-Za-z_]\w* = None|def [A-Za-z_]\w*\(.*\):|    raise NotImplementedError\(.*\)|)$")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_stubs_contain_no_solution_code(chapter):
    book = {c["id"]: c for c in cells(chapter)}
    stubs = [c for c in cells(msn.STUDENTS / chapter.name) if msn.EXERCISE_TAG in msn.tags(c)]
    assert stubs
    for stub in stubs:
        assert stub["source"].startswith(msn.STUB_HEADER)
        for line in stub["source"].splitlines():
            assert STUB_LINE.match(line), f"not a stub line: {line!r}"
        solution_lines = {
            line.strip()
            for line in book[stub["id"]]["source"].splitlines()
            if line.strip() and not line.lstrip().startswith(("def ", "#"))
        }
        assert not solution_lines & {line.strip() for line in stub["source"].splitlines()}


@pytest.mark.parametrize("chapter", CHAPTERS, ids=lambda p: p.stem)
def test_each_exercise_is_checked_and_each_chapter_has_a_quiz(chapter):
    number = chapter.stem.split("_")[0]
    book = cells(chapter)
    sources = "\n".join(c["source"] for c in book if c["cell_type"] == "code")
    assert f'quiz.show("{number}")' in sources
    assert 4 <= len(quiz.questions(number)) <= 6
    called = re.findall(r'check\.exercise\(\s*"([\d.]+)"', sources)
    assert called == [k for k in check.EXERCISES if k.split(".")[0] == str(int(number))], "every checker is called"
    for i, cell in enumerate(book):
        if msn.is_solution(cell):
            assert "hide-input" in msn.tags(cell), "the website shows solutions behind a toggle"
            following = msn._next_code_source(book, i)
            assert following.lstrip().startswith("check.exercise("), "a check cell follows every solution"


def test_stub_source_keeps_only_what_the_check_uses():
    solution = "import math\nx = 3\nanswer = math.sqrt(x)\n\n\ndef helper(a, *, b=2):\n    return a + b\n"
    assert msn.stub_source(solution, "check.exercise('1.1', answer)") == "# Your code here\nanswer = None"
    stub = msn.stub_source(solution, "check.exercise('1.3', helper)")
    assert stub == ('# Your code here\n\n\ndef helper(a, *, b=2):\n    raise NotImplementedError("write helper here")')
    namespace = {}
    exec(stub, namespace)  # the stub itself is valid Python
    with pytest.raises(NotImplementedError):
        namespace["helper"](1)
    assert msn.stub_source("a, (b, answer) = 1, (2, 3)", "f(answer)") == "# Your code here\nanswer = None"
    assert msn.stub_source("print('hi')", "") == "# Your code here"
    with pytest.raises(ValueError, match="not valid Python"):
        msn.stub_source("def broken(:", "")
    ast.parse(msn.stub_source(solution, "answer, helper"))


def test_check_mode_detects_stale_missing_and_extra_files(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(msn, "STUDENTS", tmp_path / "students")
    assert msn.main(["--check"]) == 1 and "missing" in capsys.readouterr().out
    msn.write()
    assert msn.stale_files() == [] and msn.main(["--check"]) == 0
    first = tmp_path / "students" / CHAPTERS[0].name
    first.write_text(first.read_text().replace("# Your code here", "answer = 42", 1))
    (tmp_path / "students" / "old_chapter.ipynb").write_text("{}")
    problems = msn.stale_files()
    assert any(p.startswith("out of date") and CHAPTERS[0].name in p for p in problems)
    assert any(p.startswith("not generated") and "old_chapter" in p for p in problems)
    assert msn.main(["--check"]) == 1
    msn.write()
    assert msn.stale_files() == [] and not (tmp_path / "students" / "old_chapter.ipynb").exists()
