"""The built website, every page, as a reader's browser sees it, with no network.

The session fixture ``built_site`` builds the book once (quick slices, warnings as errors). Then:

* in the HTML source of every page: no Python error output (a traceback or an error cell), every internal
  link, image and anchor resolves, every chapter shows its "last executed with" line and offers the
  executed notebook for download, and the glossary and the bibliography are linked from the chapters;
* in headless Chromium (every host unresolvable, a dead proxy): every page is opened with a small probe
  script injected before the page's own, which records JavaScript errors, failed loads of the site's own
  files and images that did not decode; the DOM after the page's scripts ran must show no such failure,
  and every bertviz view must have drawn an SVG;
* a screenshot of every page is kept in ``$SITE_SCREENSHOTS`` (the GitHub workflow uploads them as an
  artifact), else in the test's temporary folder.

All of this runs on both sites: the English one (``_build/html``) and the Chinese one (``_build/html/zh``), and
every page must link to the same page in the other language.

Pages may load some things from the internet when a reader has it (MathJax from a CDN typesets the
formulas); with the network cut those loads fail. They are listed in ``ALLOWED_EXTERNAL`` and reported,
not failed; anything else from outside the site fails the test.
"""

from __future__ import annotations

import json
import os
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from test_attention_page import bertviz_boxes, find_chromium, run_chromium

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted(p.stem for p in (ROOT / "book").glob("*.ipynb"))
SITES = ["", "zh"]  # the English site, the Chinese site (a folder of the English one)
SWITCH = re.compile(r'<a href="([^"]+)"[^>]*class="[^"]*btn-language-switch-button')
# Loaded from the internet when the reader has it; harmless to miss offline (the page still reads).
ALLOWED_EXTERNAL = (
    "cdn.jsdelivr.net/npm/mathjax",
    "cdnjs.cloudflare.com/ajax/libs/require.js",
    "unpkg.com/@jupyter-widgets/html-manager",
    "cdn.jsdelivr.net/npm/@jupyter-widgets/html-manager",
)

PROBE = """<script>
(function () {
  var log = {errors: [], failed: []};
  window.__bookProbe = log;
  window.addEventListener("error", function (e) {
    var t = e.target;
    if (t && t !== window && (t.src || t.href)) { log.failed.push(t.src || t.href); }
    else { log.errors.push(String(e.message || e.error)); }
  }, true);
  window.addEventListener("unhandledrejection", function (e) { log.errors.push("unhandled rejection: " + e.reason); });
  var oldError = console.error;
  console.error = function () {
    log.errors.push(Array.prototype.join.call(arguments, " "));
    oldError.apply(console, arguments);
  };
  window.addEventListener("load", function () {
    setTimeout(function () {
      var broken = [];
      for (var i = 0; i < document.images.length; i++) {
        var img = document.images[i];
        if (img.complete && img.naturalWidth === 0 && img.getAttribute("src")) {
          broken.push(img.getAttribute("src").slice(0, 120));
        }
      }
      var out = document.createElement("pre");
      out.id = "book-probe";
      out.textContent = JSON.stringify({errors: log.errors, failed: log.failed, broken: broken});
      document.body.appendChild(out);
    }, 2000);
  });
})();
</script>"""


class Links(HTMLParser):
    """Collects every id on a page and every href/src, skipping the insides of <script> and <style>."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str]] = []  # (tag, target)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get("id"):
            self.ids.add(a["id"])
        if a.get("name") and tag == "a":
            self.ids.add(a["name"])
        for key in ("href", "src"):
            if a.get(key) and not (tag == "link" and a.get("rel") in ("preconnect", "dns-prefetch")):
                self.refs.append((tag, a[key]))


def parse(path: Path) -> Links:
    parser = Links()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


@pytest.fixture(scope="module")
def pages(built_site) -> list[Path]:
    found = sorted(
        p
        for p in built_site.rglob("*.html")
        if not p.name.startswith("_probe_") and "_static" not in p.parts and "_sources" not in p.parts
    )
    names = {p.relative_to(built_site).as_posix() for p in found}
    for site in SITES:
        prefix = f"{site}/" if site else ""
        for stem in CHAPTERS:
            assert f"{prefix}book/{stem}.html" in names, f"chapter {stem} has no page in site '{site or 'en'}'"
        assert {f"{prefix}book/glossary.html", f"{prefix}book/references.html", f"{prefix}index.html"} <= names
    # index.html only redirects to the introduction
    return [
        p
        for p in found
        if p.name not in ("genindex.html", "search.html")
        and 'http-equiv="Refresh"' not in p.read_text(encoding="utf-8")[:2000]
    ]


def test_no_page_shows_a_python_error(pages):
    for page in pages:
        html = page.read_text(encoding="utf-8")
        assert "Traceback (most recent call last)" not in html, f"{page.name} shows a Python traceback"
        assert not re.search(r'class="[^"]*\boutput (?:traceback|error)\b', html), f"{page.name} shows an error output"


def test_every_internal_link_image_and_anchor_resolves(built_site, pages):
    anchors: dict[Path, set[str]] = {}
    problems = []
    for page in pages:
        links = parse(page)
        anchors.setdefault(page.resolve(), links.ids)
        for tag, ref in links.refs:
            parts = urlsplit(ref)
            if parts.scheme or ref.startswith(("//", "mailto:", "javascript:", "data:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page.resolve()
            if not target.exists():
                problems.append(f"{page.relative_to(built_site)}: <{tag}> {ref} -> missing file")
                continue
            if parts.fragment and target.suffix == ".html":
                if target not in anchors:
                    anchors[target] = parse(target).ids
                if unquote(parts.fragment) not in anchors[target]:
                    problems.append(f"{page.relative_to(built_site)}: <{tag}> {ref} -> no such anchor")
    assert not problems, "broken internal links:\n" + "\n".join(problems[:40])


def test_every_page_links_to_the_same_page_in_the_other_language(built_site, pages):
    for page in pages:
        where = page.relative_to(built_site).as_posix()
        found = SWITCH.findall(page.read_text(encoding="utf-8"))
        assert len(found) == 1, f"{where}: {len(found)} language buttons"
        target = (page.parent / found[0]).resolve()
        chinese = where.startswith("zh/")
        expected = built_site / (where[3:] if chinese else f"zh/{where}")
        assert target == expected.resolve(), f"{where} links to {found[0]}, not to {expected}"
        assert target.exists(), f"{where}: its other-language page {found[0]} is missing"


@pytest.mark.parametrize("site", SITES)
def test_every_chapter_says_what_ran_it_and_offers_the_executed_notebook(built_site, site):
    root = built_site / site
    for stem in CHAPTERS:
        html = (root / "book" / f"{stem}.html").read_text(encoding="utf-8")
        line = re.search(
            r"last executed with torch (\S+) / transformers (\S+) on (\d{4}-\d{2}-\d{2}), profile (\w+)", html
        )
        assert line, f"{stem}: no 'last executed with' line"
        assert line.group(4) == "offline", f"{stem} was built on the {line.group(4)} profile"
        assert f"_executed/book/{stem}.ipynb" in html, f"{stem}: no download button for the executed notebook"
        executed = json.loads((root / "_executed" / "book" / f"{stem}.ipynb").read_text(encoding="utf-8"))
        code = [c for c in executed["cells"] if c["cell_type"] == "code"]
        assert code and all(c.get("execution_count") for c in code), (
            f"{stem}: the download is not the executed notebook"
        )
        assert any(c["outputs"] for c in code)


@pytest.mark.parametrize("site", SITES)
def test_chapters_link_the_glossary_and_the_bibliography(built_site, site):
    root = built_site / site
    for stem in CHAPTERS:
        html = (root / "book" / f"{stem}.html").read_text(encoding="utf-8")
        terms = set(re.findall(r'glossary\.html#(term-[^"]+)"', html))
        citations = html.count("references.html#id")
        assert len(terms) >= 5, f"{stem} links only {len(terms)} glossary terms"
        assert citations >= 1, f"{stem} cites nothing from the bibliography"
    bib = (root / "book" / "references.html").read_text(encoding="utf-8")
    bib = bib.lower()  # the bibliography style sets titles in sentence case
    assert "attention is all you need" in bib and "pre-training of deep bidirectional transformers" in bib


@pytest.mark.parametrize("site", SITES)
def test_every_plot_is_a_numbered_figure(built_site, site):
    """Every image a chapter's code draws sits in a numbered figure with a caption, and every figure is referred to."""
    for stem in CHAPTERS:
        html = (built_site / site / "book" / f"{stem}.html").read_text(encoding="utf-8")
        figures = re.findall(r'<figure[^>]*id="([^"]+)".*?</figure>', html, re.S)
        outside = re.sub(r"<figure.*?</figure>", "", html, flags=re.S)
        loose = re.findall(r'<img[^>]*src="[^"]*_images/[^"]+"', outside)
        assert not loose, f"{stem}: {len(loose)} plot(s) without a numbered caption, e.g. {loose[0]}"
        for name in figures:
            numbers = re.search(
                rf'id="{re.escape(name)}".*?<span class="caption-number">(?:Fig\.|图) [\d.]+ </span>', html, re.S
            )
            assert numbers, f"{stem}: figure {name} has no number"
            assert html.count(f'href="#{name}"') >= 1, f"{stem}: figure {name} is never referred to in the text"
        if stem[:2].isdigit():  # the appendix explains with a live run, not a plot
            assert figures, f"{stem} has no numbered figure"


def probe(page: Path, browser: str, tmp: Path, shots: Path, built_site: Path) -> dict:
    """Open a copy of ``page`` with the probe injected first in <head>; return what it recorded."""
    html = page.read_text(encoding="utf-8")
    copy = page.with_name(f"_probe_{page.name}")
    head = re.search(r"<head[^>]*>", html)
    assert head, f"{page.name} has no <head>"
    copy.write_text(html[: head.end()] + PROBE + html[head.end() :], encoding="utf-8")
    try:
        run = run_chromium(browser, tmp / f"profile_{page.stem}", "--dump-dom", copy.as_uri())
    finally:
        copy.unlink()
    dom = run.stdout
    found = re.search(r'<pre id="book-probe">(.*?)</pre>', dom, re.S)
    assert found, f"{page.name}: the probe did not report (page never finished loading?) {run.stderr[-1500:]}"
    import html as htmllib

    record = json.loads(htmllib.unescape(found.group(1)))
    record["bertviz"] = bertviz_boxes(dom)
    name = page.relative_to(built_site).as_posix().replace("/", "_").removesuffix(".html")
    run_chromium(
        browser,
        tmp / f"shot_{page.stem}",
        "--window-size=1280,2400",
        "--hide-scrollbars",
        f"--screenshot={shots / (name + '.png')}",
        page.as_uri(),
    )
    return record


def test_every_page_in_a_browser_without_network(built_site, pages, tmp_path):
    browser = find_chromium()
    shots = Path(os.environ.get("SITE_SCREENSHOTS") or tmp_path / "screenshots")
    shots.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    problems, tolerated = [], set()
    for page in pages:
        rec = probe(page, browser, tmp_path, shots, built_site)
        where = page.relative_to(built_site).as_posix()
        problems += [
            f"{where}: JavaScript error: {e}" for e in rec["errors"] if not any(a in e for a in ALLOWED_EXTERNAL)
        ]
        for url in rec["failed"]:
            if any(a in url for a in ALLOWED_EXTERNAL):
                tolerated.add(url)
            else:
                problems.append(f"{where}: failed to load {url}")
        problems += [f"{where}: broken image {src}" for src in rec["broken"]]
        problems += [
            f"{where}: bertviz view {i} drew nothing" for i, box in enumerate(rec["bertviz"]) if not box.get("svg")
        ]
    seconds = time.perf_counter() - start
    print(f"\nbrowser check: {len(pages)} pages in {seconds:.0f} s; screenshots in {shots}")
    if tolerated:
        print("loads from the internet that failed offline (allowed):", *sorted(tolerated), sep="\n  ")
    assert not problems, "\n".join(problems[:40])
    assert len(list(shots.glob("*.png"))) == len(pages), "a screenshot is missing"
