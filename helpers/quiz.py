"""End-of-chapter quizzes: the questions as data files, a static HTML version and an ipywidgets version.

The questions live in ``helpers/quizzes/NN.json``, one file per chapter (``01.json`` ... ``06.json``), installed
with the package and read with :mod:`importlib.resources`, so they load from a wheel as well as from the
checkout. A file holds ``{"chapter": "01", "questions": [...]}``; each question is an object with

* ``id``: a stable name, the chapter and a few words (``"01-why-macro-f1"``), unique in the book;
* ``question``: the text;
* ``options``: the choices, a list of distinct strings;
* ``answer``: the index (from 0) of the one correct option;
* ``explanation``: one line, shown with the answer.

Text may use ``backticks`` for code and ``*asterisks*`` for emphasis. To change a quiz, edit its file: the
chapter's notebook only calls ``quiz.show("NN")``. :func:`load_quizzes` checks every file when the module is
imported and names the file, the question and the field of any mistake. :data:`QUIZZES` maps a chapter
(``"01"``, ``"02"``, ...) to its list of questions.

``quiz.show("01")`` in a notebook displays

* with a **live kernel** (Jupyter, JupyterLab, VS Code, Colab): one output whose MIME bundle holds the ipywidgets
  quiz (pick an option, press *Check*, read the verdict and the explanation) *and* the static HTML version as a
  fallback, so a frontend without a widget manager still shows the quiz;
* with **no one at the keyboard** (the book build, nbval, ``jupyter nbconvert --execute``): only the static HTML
  version (each answer and its explanation behind a ``<details>`` toggle). No widget is created, so no widget
  state is saved in the notebook and the built website loads no widget JavaScript (which would have to come from a
  CDN, unreachable offline): the page shows no broken widget and no script error.

**Languages.** ``helpers/quizzes/zh/NN.json`` holds the Chinese version of each quiz: the same ids, the same
number of options in the same order, the same answers (``tests/test_i18n.py`` checks it). The reader's language
(:func:`helpers.i18n.language`, set by ``helpers.setup(language="zh")`` or ``BOOK_LANGUAGE=zh``) picks the widget's
and the static version's language. For the book build, which executes each chapter once for both sites, the static
version holds both languages, each in an element with its ``lang``, and a style rule shows the one that matches the
page's ``<html lang>`` (English on the English site and in Jupyter, Chinese on the Chinese site).

Which case applies is decided by :func:`live_kernel`: headless executors (nbclient, which jupyter-book and
nbconvert use, and nbval) send every cell with ``allow_stdin=False``, whereas interactive frontends allow
``input()``. ``BOOK_QUIZ=static`` or ``BOOK_QUIZ=widget`` in the environment overrides the guess.
"""

from __future__ import annotations

import html
import json
import os
import re
import sys
from importlib import resources
from typing import Any

from .i18n import language, normalise

__all__ = [
    "FIELDS",
    "QUIZZES",
    "QuizWidget",
    "grade",
    "live_kernel",
    "load_quizzes",
    "parse_quiz",
    "questions",
    "show",
    "static_html",
    "static_html_bilingual",
    "widget",
]

FIELDS = ("id", "question", "options", "answer", "explanation")
"""The fields of a question, all required, no others."""

_FILE_NAME = re.compile(r"(\d{2})\.json")


def parse_quiz(text: str, name: str) -> tuple[str, list[dict[str, Any]]]:
    """The chapter and the questions of one quiz file's ``text``; ``name`` (the file's name, ``"01.json"``) is
    used in the error messages. Raises ``ValueError`` naming the question and the field that is wrong."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"{name} is not valid JSON: {err}") from err
    if not isinstance(data, dict) or set(data) != {"chapter", "questions"}:
        raise ValueError(f'{name} must hold one object with the keys "chapter" and "questions".')
    chapter, qs = data["chapter"], data["questions"]
    if chapter != name.split(".")[0]:
        raise ValueError(f'{name} says "chapter": {chapter!r}; a file holds the quiz of the chapter it is named after.')
    if not isinstance(qs, list) or not qs:
        raise ValueError(f'{name}: "questions" must be a non-empty list.')
    for i, q in enumerate(qs):
        _check_question(q, f"{name}, question {i + 1}", chapter)
    ids = [q["id"] for q in qs]
    repeated = sorted({x for x in ids if ids.count(x) > 1})
    if repeated:
        raise ValueError(f"{name}: question ids must be unique; repeated: {', '.join(repeated)}.")
    return chapter, qs


def _check_question(q: Any, where: str, chapter: str) -> None:
    """Raise ``ValueError`` if ``q`` is not a well-formed question of ``chapter`` (``where`` names it)."""
    if not isinstance(q, dict) or set(q) != set(FIELDS):
        got = sorted(q) if isinstance(q, dict) else type(q).__name__
        raise ValueError(f"{where}: a question has exactly the fields {', '.join(FIELDS)}; this one has {got}.")
    if not re.fullmatch(rf"{chapter}-[a-z0-9]+(-[a-z0-9]+)*", str(q["id"])):
        raise ValueError(
            f"{where}: the id {q['id']!r} should be the chapter and a few lower-case words joined by "
            f'hyphens, like "{chapter}-why-macro-f1".'
        )
    where = f"{where} ({q['id']})"
    for field in ("question", "explanation"):
        if not isinstance(q[field], str) or not q[field].strip():
            raise ValueError(f'{where}: "{field}" must be a non-empty string.')
    options = q["options"]
    if (
        not isinstance(options, list)
        or len(options) < 2
        or not all(isinstance(o, str) and o.strip() for o in options)
        or len(set(options)) != len(options)
    ):
        raise ValueError(f'{where}: "options" must be a list of at least two distinct, non-empty strings.')
    answer = q["answer"]
    if isinstance(answer, bool) or not isinstance(answer, int) or not 0 <= answer < len(options):
        raise ValueError(
            f'{where}: "answer" must be the index (0 to {len(options) - 1}) of the one correct option, not {answer!r}.'
        )


def load_quizzes(folder: Any = None) -> dict[str, list[dict[str, Any]]]:
    """Every quiz in ``folder`` (a path or an importlib.resources folder; default: the installed
    ``helpers/quizzes``), as chapter -> questions, in chapter order. Files other than ``NN.json`` are ignored."""
    if folder is None:
        folder = resources.files("helpers") / "quizzes"
    quizzes = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if _FILE_NAME.fullmatch(entry.name):
            chapter, qs = parse_quiz(entry.read_text(encoding="utf-8"), entry.name)
            quizzes[chapter] = qs
    if not quizzes:
        raise FileNotFoundError(f"no quiz files (NN.json) in {folder}; reinstall the package (they are its data).")
    return quizzes


QUIZZES: dict[str, list[dict[str, Any]]] = load_quizzes()


def _load_translations() -> dict[str, list[dict[str, Any]]]:
    try:
        return load_quizzes(resources.files("helpers") / "quizzes" / "zh")
    except FileNotFoundError:  # an install without the translations: the quizzes stay in English
        return {}


QUIZZES_ZH: dict[str, list[dict[str, Any]]] = _load_translations()
"""The Chinese quizzes (``helpers/quizzes/zh/NN.json``), chapter -> questions, as :data:`QUIZZES`."""

_TEXT = {
    "en": {
        "title": "Quiz: chapter {n}",
        "sep": ". ",
        "static": "Answer each question in your head, then open <em>Show the answer</em>.",
        "show": "Show the answer",
        "answer": "Answer",
        "live": "Pick an answer and press <i>Check</i>.",
        "check": "Check",
        "score": "Score: {right} of {total} answered correctly.",
        "pick": "Pick an option first.",
        "correct": "Correct. {why}",
        "wrong": "Not quite. Think again and try another option.",
    },
    "zh": {
        "title": "测验：第 {n} 章",
        "sep": "。",
        "static": "先在心里回答每个问题，再展开<em>查看答案</em>。",
        "show": "查看答案",
        "answer": "答案",
        "live": "选择一个答案，然后点击<i>检查</i>。",
        "check": "检查",
        "score": "得分：{total} 题中答对 {right} 题。",
        "pick": "请先选择一个选项。",
        "correct": "正确。{why}",
        "wrong": "还不对。再想一想，换一个选项试试。",
    },
}
_HTML_LANG = {"en": "en", "zh": "zh-CN"}
_BILINGUAL_STYLE = (
    '<style>html:not([lang^="zh"]) .bertbook-quiz[lang^="zh"], '
    'html[lang^="zh"] .bertbook-quiz[lang="en"] {display: none;}</style>'
)


def questions(chapter: str, lang: str | None = None) -> list[dict[str, Any]]:
    """The questions of ``chapter`` ("01", "1" or 1 all mean chapter 1), with a clear error for unknown ones, in
    ``lang`` ("en" or "zh"; default: :func:`helpers.i18n.language`; English where no translation exists)."""
    key = f"{int(chapter):02d}" if str(chapter).strip().isdigit() else str(chapter).strip()
    if key not in QUIZZES:
        raise KeyError(f"no quiz for chapter {chapter!r}; quizzes exist for {', '.join(sorted(QUIZZES))}.")
    if (normalise(lang) if lang else language()) == "zh" and key in QUIZZES_ZH:
        return QUIZZES_ZH[key]
    return QUIZZES[key]


def _lang(lang: str | None) -> str:
    return normalise(lang) if lang else language()


def _chapter_key(chapter: str) -> str:
    questions(chapter)
    return f"{int(chapter):02d}" if str(chapter).strip().isdigit() else str(chapter).strip()


def grade(chapter: str, index: int, choice: int | str | None, lang: str | None = None) -> tuple[bool, str]:
    """Grade one answer: ``choice`` is an option's index or its text. Returns ``(correct, message)`` in ``lang``."""
    text = _TEXT[_lang(lang)]
    qs = questions(chapter, lang)
    if not 0 <= index < len(qs):
        raise IndexError(f"chapter {chapter} has questions 0 to {len(qs) - 1}, not {index}.")
    q = qs[index]
    if choice is None:
        return False, text["pick"]
    if isinstance(choice, str):
        if choice not in q["options"]:
            raise ValueError(f"{choice!r} is not one of the options of question {index + 1}.")
        choice = q["options"].index(choice)
    if not 0 <= int(choice) < len(q["options"]):
        raise IndexError(f"question {index + 1} has options 0 to {len(q['options']) - 1}, not {choice}.")
    if int(choice) == q["answer"]:
        return True, text["correct"].format(why=q["explanation"])
    return False, text["wrong"]


def _inline(text: str) -> str:
    """Escape text for HTML; `code` becomes <code>code</code> and *word* becomes <em>word</em>."""
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*([^*\s][^*]*)\*", r"<em>\1</em>", out)


def _plain(text: str) -> str:
    """Text for a widget label (no markup): backticks and asterisks removed."""
    return text.replace("`", "").replace("*", "")


def static_html(chapter: str, lang: str | None = None) -> str:
    """The quiz as static HTML in ``lang`` (default: the reader's language): the questions and options, each answer
    and explanation behind a <details> toggle."""
    key, lang = _chapter_key(chapter), _lang(lang)
    text = _TEXT[lang]
    title = text["title"].format(n=int(key) if key.isdigit() else key)
    parts = [
        f'<div class="bertbook-quiz" data-chapter="{key}" lang="{_HTML_LANG[lang]}">',
        f"<p><strong>{title}</strong>{text['sep']}{text['static']}</p>",
        "<ol>",
    ]
    for q in questions(key, lang):
        letters = "abcdefghij"
        options = "".join(f"<li>{_inline(o)}</li>" for o in q["options"])
        right = q["answer"]
        parts.append(
            f'<li class="bertbook-quiz-question"><p>{_inline(q["question"])}</p>'
            f'<ol type="a">{options}</ol>'
            f"<details><summary>{text['show']}</summary><p><strong>{text['answer']}: {letters[right]}) "
            f"{_inline(q['options'][right])}</strong> {_inline(q['explanation'])}</p></details></li>"
        )
    parts.append("</ol></div>")
    return "\n".join(parts)


def static_html_bilingual(chapter: str) -> str:
    """Both languages' static quizzes and the style rule that shows the one of the page's ``<html lang>``: what the
    book build stores, so that one execution serves the English and the Chinese site."""
    return "\n".join([_BILINGUAL_STYLE, static_html(chapter, "en"), static_html(chapter, "zh")])


class QuizWidget:
    """The ipywidgets quiz of one chapter: per question, radio buttons, a *Check* button and a feedback line.

    ``radios[i]``, ``buttons[i]`` and ``feedback[i]`` are question i's widgets; ``score`` shows how many are
    answered correctly; ``box`` is the whole quiz (display it). :meth:`check` is the buttons' callback.
    """

    def __init__(self, chapter: str, lang: str | None = None):
        import ipywidgets as widgets

        self.chapter, self.lang = _chapter_key(chapter), _lang(lang)
        self.text = _TEXT[self.lang]
        self.questions = questions(self.chapter, self.lang)
        self.correct = [False] * len(self.questions)
        self.radios, self.buttons, self.feedback = [], [], []
        title = self.text["title"].format(n=int(self.chapter) if self.chapter.isdigit() else self.chapter)
        rows = [widgets.HTML(f"<b>{title}</b>{self.text['sep']}{self.text['live']}")]
        for i, q in enumerate(self.questions):
            radio = widgets.RadioButtons(
                options=[(_plain(o), k) for k, o in enumerate(q["options"])],
                value=None,
                layout=widgets.Layout(width="max-content"),
            )
            button = widgets.Button(description=self.text["check"], button_style="primary")
            note = widgets.HTML("")
            button.on_click(lambda _button, i=i: self.check(i))
            self.radios.append(radio)
            self.buttons.append(button)
            self.feedback.append(note)
            rows.append(
                widgets.VBox(
                    [
                        widgets.HTML(f"<p><b>{i + 1}.</b> {_inline(q['question'])}</p>"),
                        radio,
                        widgets.HBox([button, note]),
                    ]
                )
            )
        self.score = widgets.HTML(self._score_text())
        rows.append(self.score)
        self.box = widgets.VBox(rows)

    def _score_text(self) -> str:
        return self.text["score"].format(right=sum(self.correct), total=len(self.questions))

    def check(self, index: int) -> bool:
        """Grade question ``index`` with the option selected now; update its feedback line and the score."""
        ok, message = grade(self.chapter, index, self.radios[index].value, self.lang)
        colour = "#1a7f37" if ok else "#b35900"
        mark = "✓" if ok else "✗"
        self.feedback[index].value = f'<span style="color:{colour}">{mark} {_inline(message)}</span>'
        if self.radios[index].value is not None:
            self.correct[index] = ok
        self.score.value = self._score_text()
        return ok


def widget(chapter: str, lang: str | None = None) -> QuizWidget:
    """Build (without displaying) the ipywidgets quiz of ``chapter`` in ``lang`` (default: the reader's)."""
    return QuizWidget(chapter, lang)


def live_kernel() -> bool:
    """True when a person can interact with this kernel (so widgets make sense), False for headless execution.

    ``BOOK_QUIZ=widget`` / ``BOOK_QUIZ=static`` force the answer. Otherwise: Colab is always live; plain Python (no
    IPython kernel) is not; in an IPython kernel, the current cell was sent with ``allow_stdin`` true by every
    interactive frontend and false by nbclient (jupyter-book, nbconvert) and nbval.
    """
    forced = os.environ.get("BOOK_QUIZ", "").strip().lower()
    if forced in {"widget", "widgets", "live"}:
        return True
    if forced in {"static", "html"}:
        return False
    if "google.colab" in sys.modules:
        return True
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    return bool(getattr(kernel, "_allow_stdin", False)) if kernel is not None else False


def show(chapter: str, interactive: bool | None = None) -> QuizWidget | None:
    """Display the quiz of ``chapter``: widgets plus a static fallback when live, the static HTML otherwise.

    ``interactive`` forces one or the other (default: :func:`live_kernel`). Returns the :class:`QuizWidget` when
    one was shown, else None. Headless, the static version holds both languages (:func:`static_html_bilingual`);
    live, the reader's language.
    """
    from IPython.display import HTML, display

    if interactive is None:
        interactive = live_kernel()
    if not interactive:
        display(HTML(static_html_bilingual(chapter)))
        return None
    page = static_html(chapter)
    try:
        quiz = QuizWidget(chapter)
        bundle = quiz.box._repr_mimebundle_() or {}
    except ImportError:  # ipywidgets is missing: the static version still works
        display(HTML(page))
        return None
    bundle = dict(bundle)
    bundle["text/html"] = page  # shown by frontends that cannot render widgets
    bundle["text/plain"] = f"Quiz: chapter {chapter} ({len(quiz.questions)} questions)"
    display(bundle, raw=True)
    return quiz
