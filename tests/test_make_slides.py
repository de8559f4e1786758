"""scripts/make_slides.py: a chapter becomes a reveal.js deck (glue values in the prose, slide breaks, solutions
and widgets left out). The conversion itself runs `jupyter nbconvert --to slides` once, without executing."""

import importlib.util
from pathlib import Path

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

ROOT = Path(__file__).resolve().parent.parent
SPEC = importlib.util.spec_from_file_location("make_slides", ROOT / "scripts" / "make_slides.py")
slides = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(slides)


def glue_output(name, text):
    return new_output(
        "display_data",
        data={slides.GLUE_PREFIX + "text/plain": text},
        metadata={"scrapbook": {"name": name, "mime_prefix": slides.GLUE_PREFIX}},
    )


def toy_notebook():
    solution = new_code_cell("answer = 42")
    solution.metadata["tags"] = ["solution", "hide-input"]
    explorer = new_code_cell("explorer()", outputs=[new_output("display_data", data={"text/plain": "x"})])
    explorer.metadata["tags"] = ["remove-output"]
    return new_notebook(
        cells=[
            new_markdown_cell("# Chapter 9. Title"),
            new_code_cell("# install cell"),
            new_code_cell(
                "keep()",
                outputs=[
                    glue_output("acc", "0.81234"),
                    glue_output("who", "'logistic regression'"),
                    new_output("stream", name="stderr", text="progress 10%"),
                    new_output("display_data", data={slides.WIDGET_VIEW: {"model_id": "1"}, "text/plain": "HBox()"}),
                    new_output("stream", name="stdout", text="kept\n"),
                ],
            ),
            new_markdown_cell(
                "## 9.1 Results\n\nAccuracy {glue:text}`acc:.2f` for {glue:text}`who`, "
                "{glue:text}`missing:.1f` not glued.\n\n:::{admonition} Careful\n:class: note\n"
                "One line.\nTwo lines.\n:::"
            ),
            new_code_cell("plot()"),
            new_markdown_cell("What the figure shows."),
            new_markdown_cell("### A detail"),
            solution,
            explorer,
        ]
    )


def test_prepare_substitutes_glue_and_admonitions():
    nb = slides.prepare(toy_notebook())
    text = nb.cells[3].source
    assert "Accuracy 0.81 for logistic regression, … not glued." in text
    assert "> **Careful**\n>\n> One line.\n> Two lines." in text
    assert ":::" not in text and "{glue" not in text


def test_prepare_sets_slide_breaks_and_skips():
    nb = slides.prepare(toy_notebook())
    kinds = [c.metadata["slideshow"]["slide_type"] for c in nb.cells]
    assert kinds == ["slide", "skip", "-", "slide", "-", "subslide", "subslide", "skip", "-"]


def test_prepare_drops_widgets_progress_bars_glue_records_and_removed_outputs():
    nb = slides.prepare(toy_notebook())
    assert [o.get("text") for o in nb.cells[2].outputs] == ["kept\n"]
    assert nb.cells[8].outputs == []


def test_glue_formats_like_myst_nb():
    assert slides.format_glue("0.5", ".0%") == "50%"
    assert slides.format_glue("1234", ",d") == "1,234"
    assert slides.format_glue("'text'", "") == "text"
    assert slides.format_glue("not a number", ".2f") == "not a number"


def test_nbconvert_writes_a_reveal_deck(tmp_path):
    html = slides.build(
        ROOT / "book" / "01_background.ipynb",
        tmp_path,
        run=False,
        quick=True,
        no_input=False,
        reveal_prefix="reveal.js",
        timeout=60,
    )
    page = html.read_text()
    assert html.name == "01_background.slides.html"
    assert 'class="reveal"' in page and page.count("<section") > 10
    assert "reveal.js/dist/reveal.js" in page or "reveal.js/" in page  # the local prefix was used
    assert "Exercise 1.1" in page and "df = sum(" not in page  # solutions are left out
