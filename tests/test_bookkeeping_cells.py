"""Teaching cells read like teaching code: the bookkeeping that feeds the prose stays out of the reader's way.

The measure. A *bookkeeping call* is a call that only records or times a result for the website's prose:
``keep(...)``, ``keep.update(...)``, ``glue(...)``, ``Kept()``, ``Clock()``, ``show_source(...)``, and the T4
estimate tables (``t4_estimate``, ``t4_table``). A code cell that a reader of the website sees (no
``remove-input``, ``hide-input`` or ``remove-cell`` tag) may hold at most one bookkeeping call, and its bookkeeping
statements may not be more than half of its top-level statements. Everything else goes into a separate cell tagged
``remove-input``, or into one ``keep.update(...)`` per section.
"""

import ast

import pytest
from notebook_tools import CHAPTERS, load, parse_cell, source, visible_code_cells

NAMES = {"keep", "glue", "Kept", "Clock", "show_source", "t4_estimate", "t4_table"}
MAX_CALLS = 1


def is_bookkeeping_call(node: ast.AST) -> bool:
    if not isinstance(node, ast.Call):
        return False
    func = node.func
    if isinstance(func, ast.Name):
        return func.id in NAMES
    if isinstance(func, ast.Attribute):
        return func.attr in NAMES or (isinstance(func.value, ast.Name) and func.value.id == "keep")
    return False


def bookkeeping_calls(tree: ast.AST) -> int:
    return sum(is_bookkeeping_call(node) for node in ast.walk(tree))


def is_bookkeeping_statement(stmt: ast.stmt) -> bool:
    value = getattr(stmt, "value", None)
    if isinstance(value, ast.Tuple):
        return all(is_bookkeeping_call(v) for v in value.elts)
    return isinstance(stmt, (ast.Expr, ast.Assign)) and is_bookkeeping_call(value)


def cell_measure(text: str) -> tuple[int, int, int]:
    """(bookkeeping calls, bookkeeping statements, top-level statements) of one cell's code."""
    tree = parse_cell(text)
    statements = tree.body
    return bookkeeping_calls(tree), sum(map(is_bookkeeping_statement, statements)), len(statements)


def offending_cells(nb: dict) -> list[str]:
    found = []
    for index, cell in visible_code_cells(nb):
        calls, kept, total = cell_measure(source(cell))
        if calls > MAX_CALLS or (total and kept / total > 0.5):
            first = source(cell).strip().splitlines()[0][:70] if source(cell).strip() else ""
            found.append(f"cell {index} ({calls} bookkeeping calls, {kept} of {total} statements): {first}")
    return found


def test_the_measure():
    assert cell_measure("x = 1\nkeep('x', x)") == (1, 1, 2)
    assert cell_measure("keep('a', 1), keep('b', 2)") == (2, 1, 1)
    assert cell_measure("for k in range(3):\n    keep(str(k), k)\ny = 2") == (1, 0, 2)
    assert cell_measure("%matplotlib inline\nkeep.update(a=1, b=2)\nz = f(3)") == (1, 1, 2)
    assert cell_measure("clock = helpers.book.Clock()\nrun = train()") == (1, 1, 2)
    assert cell_measure("print(model)") == (0, 0, 1)


def test_a_cell_of_bookkeeping_is_reported_and_a_hidden_one_is_not():
    cell = {"cell_type": "code", "metadata": {}, "source": ["keep('a', 1)\n", "keep('b', 2)\n", "x = 3\n"]}
    assert len(offending_cells({"cells": [cell]})) == 1
    cell["metadata"]["tags"] = ["remove-input"]
    assert offending_cells({"cells": [cell]}) == []


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_visible_cells_are_not_bookkeeping(path):
    found = offending_cells(load(path))
    assert not found, (
        f"{path.name}: move the bookkeeping into a remove-input cell or one keep.update per "
        "section:\n  " + "\n  ".join(found)
    )
