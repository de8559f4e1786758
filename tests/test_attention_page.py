"""Chapter 2's built page in a real headless browser with the network cut: the bertviz views must draw.

Chromium opens ``book/02_attention.html`` from the built site with every host name unresolvable and a dead
proxy, so nothing can come from cdnjs or anywhere else. Two checks:

1. the DOM after the page's scripts ran (``--dump-dom``): every bertviz box holds an SVG with token labels
   (``<text>``) and attention lines or squares; a view whose JavaScript failed to load is an empty ``<div>``;
2. each bertviz box alone, cut from the built page's HTML into a file of its own and screenshotted: the
   picture must hold enough non-white pixels, in several colours.

The screenshots are kept in ``$ATTENTION_SCREENSHOTS`` when that is set (else in the test's temporary folder).
Without chromium the tests fail when ``CI`` is set and are skipped otherwise.
"""

import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

PAGE = "book/02_attention.html"
NETWORK_CUT = ["--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]


def find_chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    message = (
        "chromium is not installed: the page check needs a headless browser "
        "(Debian/Ubuntu: `sudo apt-get install -y chromium`)."
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def run_chromium(browser: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    command = [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        *NETWORK_CUT,
        "--virtual-time-budget=10000",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


class BertvizBoxes(HTMLParser):
    """Counts, inside every ``div.bertbook-bertviz``, the SVG elements that a drawn view has."""

    def __init__(self):
        super().__init__()
        self.boxes: list[dict[str, int]] = []
        self.spans: list[list] = []  # [(line, column) of the box's start tag, of its end tag]
        self.depth = 0  # <div> nesting inside the current box; 0 = outside

    def handle_starttag(self, tag, attrs):
        if self.depth:
            if tag == "div":
                self.depth += 1
            box = self.boxes[-1]
            box[tag] = box.get(tag, 0) + 1
        elif tag == "div" and "bertbook-bertviz" in (dict(attrs).get("class") or ""):
            self.boxes.append({})
            self.spans.append([self.getpos(), None])
            self.depth = 1

    def handle_endtag(self, tag):
        if self.depth and tag == "div":
            self.depth -= 1
            if self.depth == 0:
                self.spans[-1][1] = self.getpos()


def bertviz_boxes(html: str) -> list[dict[str, int]]:
    parser = BertvizBoxes()
    parser.feed(html)
    return parser.boxes


def box_sources(html: str) -> list[str]:
    """The outer HTML of every bertviz box in the page source (script contents are not mistaken for tags)."""
    parser = BertvizBoxes()
    parser.feed(html)
    line_starts = [0] + [m.end() for m in re.finditer("\n", html)]

    def offset(pos):
        return line_starts[pos[0] - 1] + pos[1]

    return [html[offset(start) : offset(end) + len("</div>")] for start, end in parser.spans if end is not None]


@pytest.fixture(scope="module")
def page(built_site) -> Path:
    path = built_site / PAGE
    assert path.exists(), f"{PAGE} was not built"
    return path


def test_page_source_loads_nothing_from_a_cdn(page):
    html = page.read_text(encoding="utf-8")
    assert html.count('class="bertbook-bertviz"') >= 2, "the chapter shows a head view and a model view"
    assert "cdnjs.cloudflare.com/ajax/libs/d3" not in html and "require.js/2.3.6" not in html
    # nine figures: saturation, mask, GELU, cost, head heatmap, head grid, patterns, pattern heads, fine-tuning
    figures = re.findall(r'<img[^>]+src="(?:\.\./_images/[^"]+\.png|data:image/png;base64,)', html)
    assert len(figures) >= 9, f"the static heatmaps and plots are missing: {len(figures)} figures in the page"


def test_bertviz_views_draw_with_the_network_cut(page, tmp_path):
    browser = find_chromium()
    run = run_chromium(browser, tmp_path / "profile", "--dump-dom", page.as_uri())
    dom = run.stdout
    assert "<body" in dom, f"chromium produced no DOM: {run.stderr[-2000:]}"
    boxes = bertviz_boxes(dom)
    assert len(boxes) >= 2, f"expected a head view and a model view, found {len(boxes)} bertviz boxes"
    for i, box in enumerate(boxes):
        assert box.get("svg", 0) >= 1, f"bertviz view {i} is blank (no SVG drawn): {box}"
        assert box.get("text", 0) >= 4, f"bertviz view {i} has no token labels: {box}"
        assert box.get("line", 0) + box.get("rect", 0) >= 20, f"bertviz view {i} draws no attention: {box}"


def test_each_view_alone_is_not_blank_in_a_screenshot(page, tmp_path):
    browser = find_chromium()
    from PIL import Image

    keep = Path(os.environ.get("ATTENTION_SCREENSHOTS") or tmp_path)
    keep.mkdir(parents=True, exist_ok=True)
    sources = box_sources(page.read_text(encoding="utf-8"))
    assert len(sources) >= 2
    for i, source in enumerate(sources):
        single = tmp_path / f"view{i}.html"
        single.write_text(
            f"<!doctype html><html><body style='margin:0;background:#fff'>{source}</body></html>", encoding="utf-8"
        )
        shot = keep / f"bertviz_view{i}.png"
        run_chromium(
            browser,
            tmp_path / f"profile{i}",
            "--window-size=1100,900",
            f"--screenshot={shot}",
            "--hide-scrollbars",
            single.as_uri(),
        )
        assert shot.exists(), f"no screenshot of view {i}"
        image = Image.open(shot).convert("RGB")
        pixels = list(image.getdata())
        inked = [p for p in pixels if sum(p) < 3 * 235]
        share = len(inked) / len(pixels)
        colours = {(r // 32, g // 32, b // 32) for r, g, b in inked}
        assert share > 0.01, f"view {i} is blank in {shot} ({share:.2%} of the pixels are not white)"
        assert len(colours) >= 4, f"view {i} in {shot} is drawn in too few colours ({len(colours)})"
