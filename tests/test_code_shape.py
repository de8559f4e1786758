"""The shape of the helpers package that issue 14 asked for: small functions a reader can take in at once."""

import ast
from pathlib import Path

HELPERS = Path(__file__).resolve().parent.parent / "helpers"
LIMIT = 80  # lines, from `def` to the function's last line, docstring included


def test_no_function_in_helpers_is_longer_than_the_limit():
    long = []
    for path in sorted(HELPERS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > LIMIT:
                    long.append(f"{path.relative_to(HELPERS.parent)}:{node.lineno} {node.name} ({length} lines)")
    assert not long, f"functions over {LIMIT} lines: split them into named parts: {long}"


# Same name, different jobs, in modules a chapter imports by name (`rnn.encode`, `pt.encode_texts`): to be renamed
# with the chapters that call them. Nothing may join this list.
KNOWN_TWICE = {"encode": ["helpers/rnn.py", "helpers/training.py"],
               "encode_texts": ["helpers/evaluate.py", "helpers/pretraining.py"]}


def test_each_name_is_defined_once():
    """One function per name across helpers (two `live_kernel`s or `default_batch_size`s did different things)."""
    where: dict[str, list[str]] = {}
    for path in sorted(HELPERS.rglob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                where.setdefault(node.name, []).append(str(path.relative_to(HELPERS.parent)))
    twice = {name: files for name, files in where.items() if len(files) > 1}
    assert twice == KNOWN_TWICE, f"public names defined in more than one module: {twice}"
