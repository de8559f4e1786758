"""The notebook-package boundary: code a chapter teaches is written in the chapter, and the package's copy is the same.

The rule (README, "Contributing"): a code cell whose first line is ``# @save helpers.<module>`` holds functions (or
classes) that the chapter teaches and that the package also needs. This test parses each such definition and the
package's definition of the same name with :mod:`ast`, drops docstrings, and requires the two trees to be equal (so
comments and formatting never matter, and any change of code does). ``REQUIRED`` lists the concepts the book
teaches by writing them out: each must be in a ``# @save`` cell of its chapter.
"""

import ast
import importlib
import inspect
import re
import textwrap

import pytest
from notebook_tools import CHAPTERS, code_cells, load, parse_cell, source

SAVE = re.compile(r"#\s*@save\s+(helpers(?:\.\w+)+)\s*$")

REQUIRED = {
    "02_attention": (
        "helpers.attention",
        [
            "scaled_dot_product_attention",
            "split_heads",
            "merge_heads",
            "multi_head_attention",
            "feed_forward",
            "layer_norm",
            "embeddings",
            "encoder_layer",
        ],
    ),
    "03_pretraining": ("helpers.pretraining", ["mask_tokens", "mlm_loss_by_hand", "nsp_loss_by_hand"]),
    "04_fine_tuning": ("helpers.finetune", ["cross_entropy_by_hand"]),
    "05_evaluation": ("helpers.evaluate", ["expected_calibration_error"]),
}


def without_docstring(node: ast.AST) -> str:
    node = ast.parse(ast.unparse(node)).body[0]  # a fresh copy
    for inner in ast.walk(node):
        body = getattr(inner, "body", None)
        if (
            isinstance(inner, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            inner.body = body[1:] or [ast.Pass()]
    return ast.dump(node, include_attributes=False)


def saved_definitions(nb: dict) -> list[tuple[int, str, ast.AST]]:
    """(cell index, module, definition) for every def/class in a ``# @save`` cell."""
    found = []
    for index, cell in code_cells(nb):
        text = source(cell)
        match = SAVE.match(text.splitlines()[0]) if text.strip() else None
        if match:
            for node in parse_cell(text).body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    found.append((index, match.group(1), node))
    return found


def package_definition(module: str, name: str) -> ast.AST:
    obj = getattr(importlib.import_module(module), name, None)
    assert obj is not None, f"{module} has no {name}: a # @save cell defines something the package does not hold"
    return ast.parse(textwrap.dedent(inspect.getsource(obj))).body[0]


def test_docstrings_and_comments_do_not_count_but_code_does():
    a = ast.parse('def f(x):\n    """Doc."""\n    return x + 1  # one').body[0]
    b = ast.parse("def f(x):\n    return x + 1").body[0]
    c = ast.parse("def f(x):\n    return x + 2").body[0]
    assert without_docstring(a) == without_docstring(b) != without_docstring(c)


def test_a_save_cell_is_found():
    cell = {
        "cell_type": "code",
        "metadata": {},
        "source": ["# @save helpers.finetune\n", "def f(x):\n", "    return x"],
    }
    [(index, module, node)] = saved_definitions({"cells": [cell]})
    assert (index, module, node.name) == (0, "helpers.finetune", "f")


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_saved_code_is_the_package_code(path):
    for index, module, node in saved_definitions(load(path)):
        package = package_definition(module, node.name)
        assert without_docstring(node) == without_docstring(package), (
            f"{path.name} cell {index}: {node.name} differs from {module}.{node.name}; edit both together"
        )


@pytest.mark.parametrize("stem", sorted(REQUIRED))
def test_the_chapter_writes_what_it_teaches(stem):
    module, names = REQUIRED[stem]
    [path] = [p for p in CHAPTERS if p.stem == stem]
    saved = {node.name for _, m, node in saved_definitions(load(path)) if m == module}
    missing = [n for n in names if n not in saved]
    assert not missing, f"{path.name} must write {missing} in a '# @save {module}' cell (the boundary rule)"


def test_the_rule_is_written_in_the_readme():
    readme = (CHAPTERS[0].parent.parent / "README.md").read_text()
    contributing = readme.split("## Contributing", 1)[1].split("\n## ", 1)[0]
    assert "# @save helpers.<module>" in contributing and "tests/test_boundary.py" in contributing
