"""Build the whole website once, as the README's build command does, on quick slices.

jupyter-book executes every notebook (a failing cell fails the build) and, with --warningiserror,
a broken cross-reference or an unknown glue key fails it too. The built chapter 1 page must show its
figures and baseline table.
"""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "BOOK_PROFILE": "offline", "BOOK_QUICK": "1", "MPLBACKEND": "Agg"}
    jb = shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or "jupyter-book"
    run = subprocess.run([jb, "build", str(ROOT), "--path-output", str(out), "--warningiserror", "--keep-going"],
                         env=env, capture_output=True, text=True, timeout=3000)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    return out / "_build" / "html"


def test_every_page_is_built(site):
    for page in ["index", "book/intro", "book/01_background", "book/02_attention", "book/03_pretraining",
                 "book/04_fine_tuning", "book/05_evaluation", "book/06_faq"]:
        assert (site / f"{page}.html").exists(), page


def test_no_page_shows_a_python_error(site):
    for page in site.glob("book/*.html"):
        html = page.read_text()
        assert "Traceback (most recent call last)" not in html, page.name
        assert 'class="output traceback' not in html, page.name


def test_chapter_one_shows_figures_and_results(site):
    html = (site / "book" / "01_background.html").read_text()
    images = re.findall(r'<img[^>]+src="([^"]+\.png)"', html)
    assert len(images) >= 2, "chapter 1 has at least the class-balance and length figures"
    for src in images:
        assert (site / "book" / src).exists() or (site / src.lstrip("./")).exists(), src
    assert "<table" in html
    assert "Colab" in html  # the launch button / badge
