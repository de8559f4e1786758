"""Point every Open-in-Colab badge and install cell at the repository named in _config.yml.

The repository URL is set once, in _config.yml (`repository.url`). A fork changes it there and runs

    python scripts/set_repository.py

which rewrites the badge (first cell) and the install cell (second cell) of every notebook in book/.
tests/test_book_structure.py checks that they agree with _config.yml.
"""

import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
GITHUB = re.compile(
    r"(colab\.research\.google\.com/github/|git\+https://github\.com/)[\w.-]+/[\w.-]+?(?=/blob/|\"|$)", re.M
)


def repository() -> str:
    """`owner/name` from _config.yml's repository.url (read without a YAML library: Colab needs none)."""
    match = re.search(
        r"^\s*url:\s*https://github\.com/([\w.-]+/[\w.-]+?)/?\s*$", (ROOT / "_config.yml").read_text(), re.M
    )
    if not match:
        sys.exit("_config.yml has no `repository: url: https://github.com/OWNER/NAME` line.")
    return match.group(1)


def main() -> None:
    repo = repository()
    changed = 0
    for path in sorted((ROOT / "book").glob("*.ipynb")):
        text = path.read_text()
        nb = json.loads(text)
        for cell in nb["cells"][:2]:
            src = "".join(cell["source"])
            new = GITHUB.sub(lambda m: m.group(1) + repo, src)
            if new != src:
                cell["source"] = new.splitlines(keepends=True)
        out = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        if out != text and json.loads(out) != json.loads(text):
            path.write_text(out)
            changed += 1
    print(f"{changed} notebooks changed; badges and install cells point at github.com/{repo}")


if __name__ == "__main__":
    main()
