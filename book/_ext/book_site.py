"""The book's Sphinx extension: small fixes that make the built site complete and self-contained.

1. **Executed notebooks.** The theme's download button serves the stored notebook, which has no outputs
   (the repository keeps notebooks clean). myst-nb writes the executed copies to ``_build/jupyter_execute``;
   at the end of the build they are copied into the site as ``_executed/<page>.ipynb``, and every chapter
   gets a button for its executed copy in the download menu, next to the source notebook.
2. **No duplicate scripts.** jupyter-book 1.x and sphinx-thebe both register thebe's configuration
   script, so every page declared ``THEBE_JS_URL`` twice: a JavaScript error on every page. Each script is
   now included once.
3. **The Colab badge from the site itself.** The notebooks' badge image lives on colab.research.google.com
   (right on GitHub and in Colab); on the website it is served from ``_static``, so the page is complete
   without that host.
4. **A light default theme mode**, so the theme does not log an error on a reader's first visit.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
FOLDER = "_executed"
BADGE_URL = "https://colab.research.google.com/assets/colab-badge.svg"
STATIC = Path(__file__).resolve().parent / "static"


def executed_copy(app, docname: str) -> Path:
    """Where myst-nb left the executed notebook of ``docname``."""
    return Path(app.outdir).parent / "jupyter_execute" / f"{docname}.ipynb"


def add_download_button(app, pagename, templatename, context, doctree) -> None:
    if context.get("page_source_suffix") != ".ipynb":
        return
    url = f"{context['pathto'](FOLDER, 1)}/{pagename}.ipynb"
    button = {"type": "link", "url": url, "text": ".ipynb (executed)", "icon": "fas fa-play",
              "tooltip": "Download the notebook as this build ran it, outputs included",
              "label": "download-executed-notebook-button"}
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"].insert(0, button)
            return


def drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    if "script_files" not in context:
        return
    seen, kept = set(), []
    for js in context["script_files"]:
        key = (str(getattr(js, "filename", js) or ""), tuple(sorted(getattr(js, "attributes", {}).items())))
        if key not in seen:
            seen.add(key)
            kept.append(js)
    if len(kept) < len(context["script_files"]):
        LOGGER.debug(f"{pagename}: dropped {len(context['script_files']) - len(kept)} duplicate scripts")
    context["script_files"] = kept


def local_badge(app, pagename, templatename, context, doctree) -> None:
    if "body" in context and BADGE_URL in context["body"]:
        context["body"] = context["body"].replace(BADGE_URL, context["pathto"]("_static/colab-badge.svg", 1))


def copy_executed(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for docname in sorted(app.env.found_docs):
        if Path(app.env.doc2path(docname)).suffix != ".ipynb":
            continue
        source = executed_copy(app, docname)
        if not source.exists():  # only when execution is switched off; the book's config always executes
            LOGGER.warning(f"no executed notebook for {docname} at {source}: its download button is broken")
            continue
        target = Path(app.outdir) / FOLDER / f"{docname}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)


def configure(app, config) -> None:
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    config.html_context = {"default_mode": "light", **(config.html_context or {})}


def setup(app):
    app.connect("config-inited", configure)
    for handler in (add_download_button, drop_duplicate_scripts, local_badge):
        app.connect("html-page-context", handler, priority=900)
    app.connect("build-finished", copy_executed)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
