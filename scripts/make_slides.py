"""Turn chapters into reveal.js slide decks with `jupyter nbconvert --to slides` (built on demand, not committed).

    .venv/bin/python scripts/make_slides.py                      # every chapter, executed on the offline profile
    .venv/bin/python scripts/make_slides.py 01 02 --quick        # chapters 1 and 2 on CI's small slices (faster)
    .venv/bin/python scripts/make_slides.py 02 --no-execute      # no outputs: prose and code only, in seconds
    .venv/bin/python scripts/make_slides.py 01 --no-input        # outputs and prose, code hidden
    .venv/bin/python scripts/make_slides.py 01 --reveal-prefix reveal.js   # a local copy of reveal.js (offline)

Writes ``_build/slides/<chapter>.slides.html`` (``--out`` to change). Each chapter is first prepared on a copy:

* executed (the chapters are stored without outputs), with ``BOOK_PROFILE`` as set (default ``offline``);
* every ``{glue:text}`name:format``` in the prose replaced by its value from that run (MyST roles mean nothing to
  reveal.js), and MyST ``:::{admonition}`` boxes turned into block quotes;
* slide breaks: a ``#`` / ``##`` heading starts a new slide, a ``###`` heading or prose after a code cell a new
  vertical sub-slide; the install cell and the exercise solutions (cells tagged ``solution``) are skipped, so the
  deck can be shown in class before the students solve them; outputs of cells tagged ``remove-output`` are dropped,
  and so are widget outputs (progress bars), which would need a widget manager from a CDN.

The HTML loads reveal.js 4.0.2 (and MathJax for the formulas) from unpkg.com / cdnjs when it is *opened*: without
internet access the deck shows as one long unstyled page unless ``--reveal-prefix`` points at a local reveal.js
4.x folder (for example a clone of https://github.com/hakimel/reveal.js at tag 4.0.2, next to the HTML file).
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
BOOK = ROOT / "book"
GLUE_PREFIX = "application/papermill.record/"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
GLUE_ROLE = re.compile(r"\{glue(?::text)?\}`([^`:]+)(?::([^`]*))?`|\{glue:\}`([^`:]+)(?::([^`]*))?`")
ADMONITION = re.compile(r"^:::\{(\w+)\}[ \t]*([^\n]*)\n(?::class:[^\n]*\n)?(.*?)^:::[ \t]*$", re.M | re.S)


def chapter_paths(selected: list[str]) -> list[Path]:
    chapters = sorted(BOOK.glob("*.ipynb"))
    if not selected:
        return chapters
    paths = []
    for key in selected:
        match = [p for p in chapters if p.stem == key or p.stem.split("_")[0] == key.zfill(2) or p.name == key]
        if not match:
            raise SystemExit(f"no chapter {key!r}; the chapters are {', '.join(p.stem for p in chapters)}")
        paths += match
    return paths


def execute(nb, quick: bool, timeout: int):
    from nbclient import NotebookClient

    env_before = dict(os.environ)
    os.environ.setdefault("BOOK_PROFILE", "offline")
    if quick:
        os.environ["BOOK_QUICK"] = "1"
    try:
        NotebookClient(
            nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(BOOK)}}
        ).execute()
    finally:
        os.environ.clear()
        os.environ.update(env_before)
    return nb


def glued_values(nb) -> dict[str, str]:
    """name -> text/plain of every value glued (myst_nb.glue) by the executed notebook."""
    values = {}
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            meta = out.get("metadata", {}).get("scrapbook")
            if meta and "name" in meta:
                data = out.get("data", {})
                text = data.get(meta.get("mime_prefix", "") + "text/plain", data.get(GLUE_PREFIX + "text/plain"))
                if text is not None:
                    values[meta["name"]] = text
    return values


def format_glue(text: str, spec: str) -> str:
    from myst_nb.core.variables import format_plain_text

    try:
        return format_plain_text(text, spec or "")
    except (ValueError, TypeError):
        return text


def substitute_glue(markdown: str, values: dict[str, str]) -> str:
    def one(match: re.Match) -> str:
        name = match.group(1) or match.group(3)
        spec = match.group(2) if match.group(1) else match.group(4)
        if name not in values:
            return "…"  # not executed (--no-execute) or not glued
        return format_glue(values[name], spec or "")

    return GLUE_ROLE.sub(one, markdown)


def admonitions_to_quotes(markdown: str) -> str:
    def one(match: re.Match) -> str:
        kind, title, body = match.group(1), match.group(2).strip(), match.group(3).strip()
        heading = title or kind.capitalize()
        return "\n".join([f"> **{heading}**", ">"] + [f"> {line}".rstrip() for line in body.splitlines()])

    return ADMONITION.sub(one, markdown)


def slide_type(cell, previous) -> str:
    tags = cell.get("metadata", {}).get("tags", [])
    if "solution" in tags or "remove-cell" in tags:
        return "skip"
    if cell.cell_type == "markdown":
        first = cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""
        if first.startswith(("# ", "## ")) or "\n# " in cell.source or "\n## " in cell.source:
            return "slide"
        if first.startswith("### ") or (previous is not None and previous.cell_type == "code"):
            return "subslide"
    return "-"


def clean_outputs(cell) -> None:
    tags = cell.get("metadata", {}).get("tags", [])
    if "remove-output" in tags:
        cell.outputs = []
        return
    kept = []
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            continue  # progress bars and warnings
        data = out.get("data")
        if data is not None:
            if out.get("metadata", {}).get("scrapbook"):
                continue  # glue records
            if WIDGET_VIEW in data:
                continue  # a widget, with no widget manager in the deck
        kept.append(out)
    cell.outputs = kept


def prepare(nb):
    """The notebook as slides: glue values in the prose, slide breaks, skipped cells, cleaned outputs."""
    nb = copy.deepcopy(nb)
    values = glued_values(nb)
    previous = None
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            cell.source = admonitions_to_quotes(substitute_glue(cell.source, values))
        else:
            clean_outputs(cell)
        kind = "skip" if index == 1 and cell.cell_type == "code" else slide_type(cell, previous)
        cell.metadata["slideshow"] = {"slide_type": kind}
        if kind != "skip":
            previous = cell
    return nb


def build(
    path: Path, out: Path, *, run: bool, quick: bool, no_input: bool, reveal_prefix: str | None, timeout: int
) -> Path:
    nb = nbformat.read(path, as_version=4)
    if run:
        print(f"executing {path.name} ({'quick' if quick else 'full'} sizes) ...", flush=True)
        nb = execute(nb, quick, timeout)
    slides = prepare(nb)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp) / path.name
        nbformat.write(slides, staged)
        command = [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "slides",
            str(staged),
            "--output-dir",
            str(out),
            "--SlidesExporter.reveal_scroll=True",
        ]
        if no_input:
            command.append("--no-input")
        if reveal_prefix:
            command += ["--reveal-prefix", reveal_prefix]
        subprocess.run(command, check=True)
    return out / f"{path.stem}.slides.html"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", help="chapter numbers or names (default: all)")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "slides", help="output folder")
    parser.add_argument("--no-execute", action="store_true", help="do not run the chapter (no outputs, no numbers)")
    parser.add_argument("--quick", action="store_true", help="run on CI's small slices (BOOK_QUICK=1)")
    parser.add_argument("--no-input", action="store_true", help="hide the code cells' input")
    parser.add_argument("--reveal-prefix", help="where reveal.js is (default: unpkg.com, needs internet)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    args = parser.parse_args(argv)
    for path in chapter_paths(args.chapters):
        html = build(
            path,
            args.out,
            run=not args.no_execute,
            quick=args.quick,
            no_input=args.no_input,
            reveal_prefix=args.reveal_prefix,
            timeout=args.timeout,
        )
        print(f"wrote {html}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
