"""The shape of the helpers package that issue 14 asked for: small functions a reader can take in at once."""

import ast
from pathlib import Path

HELPERS = Path(__file__).resolve().parent.parent / "helpers"
# Lines of a function's body, from its first statement after the docstring to its last line. The signature is left
# out: ruff's formatter writes one parameter per line, so its length says how many settings a function takes (train
# has 29, each documented), not how hard the code is to follow. train's body is held to the spine's size.
LIMIT = 80
TRAIN_LIMIT = 60


def body_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = node.body
    if len(body) > 1 and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return node.end_lineno - body[0].lineno + 1


def test_no_function_in_helpers_is_longer_than_the_limit():
    long = []
    for path in sorted(HELPERS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = body_lines(node)
                if length > LIMIT:
                    long.append(f"{path.relative_to(HELPERS.parent)}:{node.lineno} {node.name} ({length} lines)")
    assert not long, f"functions over {LIMIT} lines: split them into named parts: {long}"


def test_train_reads_as_a_spine():
    """helpers.train: prepare, loop, evaluate, checkpoint, finish, in at most TRAIN_LIMIT lines of body."""
    import inspect
    import textwrap

    import helpers.training

    [node] = ast.parse(textwrap.dedent(inspect.getsource(helpers.training.train))).body
    assert body_lines(node) <= TRAIN_LIMIT


# Same name, different jobs, in modules a chapter imports by name (`rnn.encode`, `pt.encode_texts`): to be renamed
# with the chapters that call them. Nothing may join this list.
KNOWN_TWICE = {
    "encode": ["helpers/rnn.py", "helpers/training.py"],
    "encode_texts": ["helpers/evaluate.py", "helpers/pretraining.py"],
}


def test_each_name_is_defined_once():
    """One function per name across helpers (two `live_kernel`s or `default_batch_size`s did different things)."""
    where: dict[str, list[str]] = {}
    for path in sorted(HELPERS.rglob("*.py")):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                where.setdefault(node.name, []).append(str(path.relative_to(HELPERS.parent)))
    twice = {name: files for name, files in where.items() if len(files) > 1}
    assert twice == KNOWN_TWICE, f"public names defined in more than one module: {twice}"
