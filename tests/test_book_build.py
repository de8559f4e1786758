"""Build the whole website once, as the README's build command does, on quick slices.

jupyter-book executes every notebook (a failing cell fails the build) and, with --warningiserror,
a broken cross-reference or an unknown glue key fails it too. The built chapter 1 page must show its
figures and baseline table.
"""

import re


def test_every_page_is_built(built_site):
    for site in ("", "zh/"):  # the English site and the Chinese one (book/_ext/build_language.py)
        for page in [
            "index",
            "book/intro",
            "book/01_background",
            "book/02_attention",
            "book/03_pretraining",
            "book/04_fine_tuning",
            "book/05_evaluation",
            "book/06_faq",
        ]:
            assert (built_site / f"{site}{page}.html").exists(), site + page


def test_no_page_shows_a_python_error(built_site):
    for page in [*built_site.glob("book/*.html"), *built_site.glob("zh/book/*.html")]:
        html = page.read_text()
        assert "Traceback (most recent call last)" not in html, page.name
        assert 'class="output traceback' not in html, page.name


def test_chapter_one_shows_figures_and_results(built_site):
    html = (built_site / "book" / "01_background.html").read_text()
    images = re.findall(r'<img[^>]+src="([^"]+\.png)"', html)
    assert len(images) >= 2, "chapter 1 has at least the class-balance and length figures"
    for src in images:
        assert (built_site / "book" / src).exists() or (built_site / src.lstrip("./")).exists(), src
    assert "<table" in html
    assert "Colab" in html  # the launch button / badge
