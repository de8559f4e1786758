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
5. **Execution that is reused.** ``_config.yml`` sets ``execute_notebooks: cache``: jupyter-cache keeps each
   notebook's outputs, keyed by its code, and a rebuild executes only the notebooks whose code changed. The
   outputs also depend on things the key does not see, so the cache folder is named after them
   (:func:`execution_key`): the profile, quick or full sizes (``BOOK_QUICK``), and a hash of the ``helpers``
   package (code, quiz files, shipped corpora). A quick build never serves a full build's numbers, and a change
   to ``helpers`` executes every chapter again. The key is also a ``rebuild="env"`` config value, so Sphinx
   re-reads every page when it changes.
6. **Two languages.** The English site is ``_build/html``; the Chinese one (``language = zh_CN``, the
   translations in ``locales/zh_CN/LC_MESSAGES``) is ``_build/html/zh``, built by ``book/_ext/build_language.py``
   from the same sources and the same execution cache. Every page has a button to the same page in the other
   language.
7. **Glue roles in translated sentences.** Sphinx parses each translated message as a small document of its own;
   myst-nb resolves ``{glue:text}`` from the notebook's renderer, which it keeps on the notebook's document only
   while parsing it, so a translated sentence would find no glue data ("No key ... found"). The parser is wrapped
   (:func:`glue_in_translations`) so that the renderer of the notebook being read is kept for its translated
   messages: they show the same numbers as the English page.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from sphinx.util import logging

LOGGER = logging.getLogger(__name__)
FOLDER = "_executed"
BADGE_URL = "https://colab.research.google.com/assets/colab-badge.svg"
STATIC = Path(__file__).resolve().parent / "static"
ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = {"en": ("English", ""), "zh_CN": ("中文", "zh")}
"""Sphinx language -> (the name its button shows, its folder below the English site)."""


def execution_key(root: Path = ROOT) -> str:
    """The name of the execution cache folder: profile, sizes and a hash of the ``helpers`` package.

    jupyter-cache matches a notebook by its code alone; this key adds what else changes the outputs.
    """
    digest = hashlib.sha256()
    for path in sorted((root / "helpers").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix not in {".pyc", ".pyo"}:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    profile = os.environ.get("BOOK_PROFILE", "offline").strip() or "offline"
    sizes = "quick" if os.environ.get("BOOK_QUICK", "").strip() not in {"", "0", "false", "False"} else "full"
    return f"{profile}-{sizes}-{digest.hexdigest()[:12]}"


def build_root(app) -> Path:
    """The ``_build`` folder: the parent of the English site (the Chinese site is one folder deeper)."""
    out = Path(app.outdir)
    return out.parent.parent if LANGUAGES.get(app.config.language, ("", ""))[1] else out.parent


def executed_copy(app, docname: str) -> Path:
    """Where myst-nb left the executed notebook of ``docname``."""
    return build_root(app) / "jupyter_execute" / f"{docname}.ipynb"


def add_download_button(app, pagename, templatename, context, doctree) -> None:
    if context.get("page_source_suffix") != ".ipynb":
        return
    url = f"{context['pathto'](FOLDER, 1)}/{pagename}.ipynb"
    button = {
        "type": "link",
        "url": url,
        "text": ".ipynb (executed)",
        "icon": "fas fa-play",
        "tooltip": "Download the notebook as this build ran it, outputs included",
        "label": "download-executed-notebook-button",
    }
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


def executed_notebook(app, docname: str):
    """The notebook of ``docname`` as this build executed it, outputs included (None if there is none).

    With ``execute_notebooks: cache`` myst-nb writes the *unexecuted* notebook to ``jupyter_execute`` (its outputs
    stay in the cache's copy), so the executed notebook is rebuilt from jupyter-cache: the source notebook with the
    cached code cells (outputs and execution counts) merged in.
    """
    import nbformat

    source = Path(app.env.doc2path(docname))
    if app.config.nb_execution_mode == "cache":
        from jupyter_cache import get_cache

        notebook = nbformat.read(source, as_version=4)
        try:
            return get_cache(app.env.mystnb_config.execution_cache_path).merge_match_into_notebook(notebook)[1]
        except KeyError:
            return None
    copy = executed_copy(app, docname)
    return nbformat.read(copy, as_version=4) if copy.exists() else None


def copy_executed(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    import nbformat

    for docname in sorted(app.env.found_docs):
        if Path(app.env.doc2path(docname)).suffix != ".ipynb":
            continue
        notebook = executed_notebook(app, docname)
        if notebook is None:  # only when execution is switched off; the book's config always executes
            LOGGER.warning(f"no executed notebook for {docname}: its download button is broken")
            continue
        target = Path(app.outdir) / FOLDER / f"{docname}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, str(target))


def language_button(app, pagename, templatename, context, doctree) -> None:
    """A header button to the same page in the other language (English <-> 中文)."""
    here = app.config.language if app.config.language in LANGUAGES else "en"
    other = "zh_CN" if here == "en" else "en"
    up = "../" * pagename.count("/")
    url = f"{up}zh/{pagename}.html" if other == "zh_CN" else f"../{up}{pagename}.html"
    name = LANGUAGES[other][0]
    tooltip = "阅读本页的中文版" if other == "zh_CN" else "Read this page in English"
    button = {
        "type": "link",
        "url": url,
        "text": name,
        "icon": "fas fa-language",
        "tooltip": tooltip,
        "label": "language-switch-button",
    }
    context.setdefault("header_buttons", []).insert(0, button)


def configure(app, config) -> None:
    config.html_static_path = [*config.html_static_path, str(STATIC)]
    config.html_context = {"default_mode": "light", **(config.html_context or {})}
    config.book_execution_key = execution_key()
    if config.nb_execution_mode == "cache":
        # Outputs of different profiles, sizes or helpers never share a cache (see execution_key).
        folder = (
            Path(app.outdir).parent.parent if LANGUAGES.get(config.language, ("", ""))[1] else Path(app.outdir).parent
        )
        config.nb_execution_cache_path = str(folder / ".jupyter_cache" / config.book_execution_key)


_RENDERER = "book_site_nb_renderer"


class _KeepRenderer(dict):
    """A document's attributes that remember myst-nb's renderer when myst-nb removes it at the end of the parse."""

    def __init__(self, data: dict, env) -> None:
        super().__init__(data)
        self.env = env

    def pop(self, key, *default):
        if key == "nb_renderer" and key in self:
            self.env.temp_data[_RENDERER] = self[key]
        return super().pop(key, *default)


def glue_in_translations() -> None:
    """Wrap myst-nb's parser so that translated messages of a notebook can read its glue data."""
    from myst_nb.sphinx_ import Parser

    if getattr(Parser.parse, "_book_site", False):
        return
    original = Parser.parse

    def parse(self, inputstring, document) -> None:
        env = getattr(document.settings, "env", None) or self.env
        if (document.current_source or "").endswith("<translated>"):
            renderer = env.temp_data.get(_RENDERER)
            if renderer is None or "nb_renderer" in document:
                return original(self, inputstring, document)
            document["nb_renderer"] = renderer
            try:
                return original(self, inputstring, document)
            finally:  # the fragment's nodes join the notebook's doctree, which must stay picklable
                document.attributes.pop("nb_renderer", None)
        document.attributes = _KeepRenderer(document.attributes, env)
        try:
            return original(self, inputstring, document)
        finally:
            document.attributes = dict(document.attributes)

    parse._book_site = True
    Parser.parse = parse


def myst_nb_output_folder(app) -> None:
    """The Chinese build writes the notebooks' images and executed copies where the English build does."""
    if LANGUAGES.get(app.config.language, ("", ""))[1] and hasattr(app.env, "mystnb_config"):
        folder = build_root(app) / "jupyter_execute"
        app.env.mystnb_config = app.env.mystnb_config.copy(output_folder=str(folder.resolve()))


def setup(app):
    app.add_config_value("book_execution_key", "", "env")
    glue_in_translations()
    app.connect("config-inited", configure)
    app.connect("builder-inited", myst_nb_output_folder, priority=900)
    for handler in (add_download_button, language_button, drop_duplicate_scripts, local_badge):
        app.connect("html-page-context", handler, priority=900)
    app.connect("build-finished", copy_executed)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
