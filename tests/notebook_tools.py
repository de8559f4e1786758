"""Reading the chapters' cells for the book's rules (bookkeeping, the notebook-package boundary, typed numbers)."""

import ast
import json
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted((ROOT / "book").glob("*.ipynb"))
HIDDEN_INPUT = {"remove-input", "hide-input", "remove-cell"}


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def source(cell: dict) -> str:
    return "".join(cell["source"])


def tags(cell: dict) -> set[str]:
    return set(cell.get("metadata", {}).get("tags", []))


def code_cells(nb: dict) -> list[tuple[int, dict]]:
    return [(i, c) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"]


def visible_code_cells(nb: dict) -> list[tuple[int, dict]]:
    """Code cells whose input a reader of the website sees (no remove-input, hide-input or remove-cell tag)."""
    return [(i, c) for i, c in code_cells(nb) if not tags(c) & HIDDEN_INPUT]


def parse_cell(text: str) -> ast.Module:
    """Parse a code cell, with IPython magics and shell escapes (lines starting with % or !) blanked out."""
    lines = ["" if re.match(r"\s*[%!]", line) else line for line in text.splitlines()]
    return ast.parse("\n".join(lines))
