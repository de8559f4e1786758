"""The concept figures (issue 15, §3): scripts/make_figures.py draws every committed SVG, byte for byte, and every
figure a chapter shows exists."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "book" / "figures"
SCRIPT = ROOT / "scripts" / "make_figures.py"
EXPECTED = {"embeddings_sum", "encoder_layer", "attention_matmul", "pretrain_finetune", "cls_head", "long_text_cuts"}


@pytest.fixture(scope="module")
def redrawn(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("figures")
    subprocess.run([sys.executable, str(SCRIPT), "--out", str(out)], check=True, capture_output=True, timeout=300)
    return out


def test_the_script_draws_exactly_the_committed_figures(redrawn):
    drawn = {p.stem for p in redrawn.glob("*.svg")}
    committed = {p.stem for p in FIGURES.glob("*.svg")}
    assert drawn == EXPECTED, drawn
    assert committed == drawn, f"committed, not drawn: {committed - drawn}; drawn, not committed: {drawn - committed}"


def test_a_rerun_writes_the_same_bytes(redrawn):
    differ = [p.name for p in sorted(redrawn.glob("*.svg")) if p.read_bytes() != (FIGURES / p.name).read_bytes()]
    assert not differ, f"rerun `python scripts/make_figures.py` and commit book/figures/: {differ} changed"


def test_the_svgs_carry_no_date_and_keep_text_as_text():
    for path in FIGURES.glob("*.svg"):
        text = path.read_text()
        assert "<dc:date>" not in text, path.name
        assert "<text" in text, f"{path.name}: labels should stay text (svg.fonttype none)"


def _figure_references() -> list[tuple[str, str]]:
    refs = []
    for nb_path in sorted((ROOT / "book").glob("*.ipynb")):
        for cell in json.loads(nb_path.read_text())["cells"]:
            if cell["cell_type"] == "markdown":
                for target in re.findall(r"```\{figure\}\s*(\S+)", "".join(cell["source"])):
                    refs.append((nb_path.name, target))
    return refs


def test_every_figure_a_chapter_shows_exists():
    missing = [(nb, target) for nb, target in _figure_references() if not (ROOT / "book" / target).is_file()]
    assert not missing, f"figures referenced but not in book/: {missing}"


def test_every_figure_directive_has_a_name_and_alt_text_and_is_referred_to():
    for nb_path in sorted((ROOT / "book").glob("*.ipynb")):
        cells = json.loads(nb_path.read_text())["cells"]
        prose = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        for block in re.findall(r"```\{figure\}.*?```", prose, flags=re.S):
            name = re.search(r":name:\s*(\S+)", block)
            assert name, f"{nb_path.name}: a figure without :name: {block[:60]!r}"
            assert re.search(r":alt:\s*\S", block), f"{nb_path.name}: {name.group(1)} has no alt text"
            label = re.escape(name.group(1))
            assert re.search(rf"\{{numref\}}`({label}|[^`]*<{label}>)`", prose), (
                f"{nb_path.name}: the text never refers to {name.group(1)} with {{numref}}"
            )
