"""Build the book in another language, or extract its messages for translation: jupyter-book's own build, with
Sphinx's gettext internationalisation switched on.

    python book/_ext/build_language.py zh_CN [--path-output DIR]     # the Chinese site, DIR/_build/html/zh
    python book/_ext/build_language.py gettext [--path-output DIR]   # the message catalogs (.pot), DIR/_build/gettext

The Chinese site is the English book with every translatable message (paragraph, heading, caption, admonition,
glossary entry) replaced by its translation from ``locales/zh_CN/LC_MESSAGES/<page>.po``; code and outputs are
not translated. Run it after the English build (``jupyter-book build .``): it uses the same _config.yml and the
same execution cache (``book_site.execution_key``), so it executes nothing when the English build has run with
the same profile, sizes and notebooks, and its pages show the English build's numbers. ``jupyter-book build``
cannot write a site into a sub-folder of another, so this calls ``jupyter_book.sphinx.build_sphinx`` (what the
command line calls) with the language, the output folder and a doctree folder of its own.

The ``gettext`` build reads the pages without executing them (the catalogs hold the prose, not the outputs).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = {"zh_CN": "zh"}
REDIRECT = '<!DOCTYPE html>\n<meta charset="utf-8">\n<meta http-equiv="Refresh" content="0; url=book/intro.html" />\n'


def build(target: str, path_output: Path, warningiserror: bool = True, keep_going: bool = True) -> int:
    """Build ``target`` ("zh_CN" or "gettext") under ``path_output/_build``; return Sphinx's status (0: success)."""
    from jupyter_book.sphinx import build_sphinx

    overrides = {"external_toc_path": (ROOT / "_toc.yml").as_posix(), "latex_individualpages": False}
    build_dir = path_output / "_build"
    if target == "gettext":
        overrides["nb_execution_mode"] = "off"
        out, doctrees, builder = build_dir / "gettext", build_dir / ".doctrees-gettext", "gettext"
    elif target in FOLDERS:
        overrides["language"] = target
        out, doctrees, builder = build_dir / "html" / FOLDERS[target], build_dir / f".doctrees-{target}", "html"
    else:
        raise SystemExit(f"unknown target {target!r}: use gettext or one of {', '.join(FOLDERS)}")
    status = build_sphinx(
        ROOT,
        out,
        noconfig=True,
        path_config=ROOT / "_config.yml",
        confoverrides=overrides,
        doctreedir=doctrees,
        builder=builder,
        warningiserror=warningiserror,
        keep_going=keep_going,
    )
    if status == 0 and builder == "html":
        (out / "index.html").write_text(REDIRECT, encoding="utf-8")
    print(f"build_language: {target} {'written to ' + str(out) if status == 0 else 'FAILED'}")
    return 0 if status == 0 else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("target", help="zh_CN (the Chinese site) or gettext (the message catalogs)")
    parser.add_argument(
        "--path-output", type=Path, default=ROOT, help="the folder that holds _build (default: the book)"
    )
    parser.add_argument("--no-warningiserror", action="store_true", help="let warnings pass (default: they fail)")
    args = parser.parse_args(argv)
    return build(args.target, args.path_output.resolve(), warningiserror=not args.no_warningiserror)


if __name__ == "__main__":
    sys.exit(main())
