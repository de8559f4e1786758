"""Make the student versions of the chapters in students/, or check that they are up to date.

    .venv/bin/python scripts/make_student_notebooks.py          # (re)write students/
    .venv/bin/python scripts/make_student_notebooks.py --check  # exit 1 if students/ is out of date

Every chapter of book/ that has exercises (code cells tagged ``solution``) gets a student version,
students/<chapter>.ipynb, identical to the chapter except that:

* each solution cell is replaced by a stub cell tagged ``exercise`` (same cell id) holding ``# Your code here`` and,
  for every name the solution defines that the next code cell (the check) uses, ``name = None`` for a variable
  or ``def name(<same arguments>): raise NotImplementedError(...)`` for a function, so that the check cell runs
  and says "no answer yet" instead of failing with a NameError;
* every output is removed (the chapters are stored without outputs anyway);
* the Open-in-Colab badge of the first cell points at the student version.

students/README.md lists them with their Colab links. Run this script after editing a chapter's exercises (or any
cell of a chapter that has exercises): tests/test_student_notebooks.py fails while students/ is out of date.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
STUDENTS = ROOT / "students"
SOLUTION_TAG = "solution"
EXERCISE_TAG = "exercise"
HIDDEN_TAGS = {SOLUTION_TAG, "hide-input", "hide-cell", "remove-input"}  # how the book hides a solution
STUB_HEADER = "# Your code here"


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def is_solution(cell) -> bool:
    return cell["cell_type"] == "code" and SOLUTION_TAG in tags(cell)


def _loaded_names(source: str) -> set[str]:
    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics and the like: fall back to every word
        return set(source.replace("(", " ").replace(")", " ").replace(",", " ").split())
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def stub_source(solution: str, check: str = "") -> str:
    """The stub for a solution cell: a header comment plus a placeholder for each name the check cell uses."""
    try:
        tree = ast.parse(solution)
    except SyntaxError as err:
        raise ValueError(f"a solution cell is not valid Python: {err}") from err
    used = _loaded_names(check)
    lines = [STUB_HEADER]
    seen: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in used and node.name not in seen:
            seen.add(node.name)
            lines += [
                "",
                "",
                f"def {node.name}({ast.unparse(node.args)}):",
                f'    raise NotImplementedError("write {node.name} here")',
            ]
            continue
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for target in targets:
            for name in ast.walk(target):
                if isinstance(name, ast.Name) and name.id in used and name.id not in seen:
                    seen.add(name.id)
                    lines.append(f"{name.id} = None")
    return "\n".join(lines)


def _next_code_source(cells, index: int) -> str:
    for cell in cells[index + 1 :]:
        if cell["cell_type"] == "code":
            return cell["source"]
    return ""


def student_badge(source: str, chapter: str) -> str:
    """The first cell's text with the Colab badge pointing at students/ instead of book/."""
    return source.replace(f"/book/{chapter}.ipynb)", f"/students/{chapter}.ipynb)")


def student_notebook(nb, chapter: str):
    """The student version of one chapter (a new notebook; ``nb`` is left as it is)."""
    student = copy.deepcopy(nb)
    for i, cell in enumerate(student.cells):
        if cell["cell_type"] == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        if is_solution(cell):
            cell["source"] = stub_source(cell["source"], _next_code_source(nb.cells, i))
            kept = [t for t in tags(cell) if t not in HIDDEN_TAGS]
            cell["metadata"]["tags"] = kept + [EXERCISE_TAG]
    if student.cells and student.cells[0]["cell_type"] == "markdown":
        student.cells[0]["source"] = student_badge(student.cells[0]["source"], chapter)
    return student


def chapters_with_exercises(book: Path = BOOK) -> list[Path]:
    return [
        p
        for p in sorted(book.glob("*.ipynb"))
        if any(is_solution(c) for c in json.loads(p.read_text()).get("cells", []))
    ]


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _repository() -> str:
    import yaml

    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"]
    return url.removeprefix("https://github.com/").rstrip("/")


def readme(names: list[str]) -> str:
    repo = _repository()
    rows = "\n".join(
        f"| `{name}.ipynb` | [open in Colab](https://colab.research.google.com/github/{repo}/blob/main/"
        f"students/{name}.ipynb) |"
        for name in names
    )
    return f"""# Student notebooks

Generated by `scripts/make_student_notebooks.py` from the chapters in `book/`: do not edit these files, edit the
chapter and run the script again. Each is its chapter with the solution of every exercise replaced by an empty
cell (`# Your code here`); run the cell after it to check your answer with `helpers.check`. The end-of-chapter quiz
is interactive when you run the notebook (Jupyter, JupyterLab, VS Code or Colab).

| notebook | |
|---|---|
{rows}

On Colab, choose *Runtime > Change runtime type > T4 GPU* first for the full profile; the exercises themselves run
in seconds on a CPU.
"""


def expected_files() -> dict[Path, str]:
    """Every file that students/ should hold, with its exact text."""
    files: dict[Path, str] = {}
    names = []
    for path in chapters_with_exercises():
        nb = nbformat.read(path, as_version=4)
        files[STUDENTS / path.name] = nbformat.writes(student_notebook(nb, path.stem)) + "\n"
        names.append(path.stem)
    if names:
        files[STUDENTS / "README.md"] = readme(names)
    return files


def stale_files() -> list[str]:
    """What is out of date in students/ (missing, different, or no longer made); empty when in sync."""
    problems = []
    expected = expected_files()
    for path, text in expected.items():
        if not path.exists():
            problems.append(f"missing: {_shown(path)}")
        elif path.read_text() != text:
            problems.append(f"out of date: {_shown(path)}")
    if STUDENTS.exists():
        for path in sorted(STUDENTS.iterdir()):
            if path.is_file() and path not in expected:
                problems.append(f"not generated (remove it): {_shown(path)}")
    return problems


def write() -> list[Path]:
    STUDENTS.mkdir(exist_ok=True)
    expected = expected_files()
    for path, text in expected.items():
        path.write_text(text)
    for path in STUDENTS.glob("*.ipynb"):
        if path not in expected:
            path.unlink()
    return sorted(expected)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if students/ is out of date; write nothing")
    args = parser.parse_args(argv)
    if args.check:
        problems = stale_files()
        for line in problems:
            print(line)
        if problems:
            print("students/ is out of date: run `.venv/bin/python scripts/make_student_notebooks.py`.")
            return 1
        print("students/ is up to date.")
        return 0
    for path in write():
        print("wrote", _shown(path))
    return 0


if __name__ == "__main__":
    sys.exit(main())
