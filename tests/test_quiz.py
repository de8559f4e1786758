"""helpers.quiz: the quiz files (one per chapter, valid, matching the notebooks, loadable from an installed
package), well-formed questions, a static HTML version holding every question and answer, a widget whose Check
buttons grade right and wrong answers, and the choice between the two (widgets only for a live kernel, so the built
website never gets a widget that would need JavaScript from a CDN)."""

import copy
import html
import json
import re
import sys
import zipfile
from pathlib import Path
from types import SimpleNamespace

import pytest

import helpers.quiz as quiz

CHAPTERS = sorted(quiz.QUIZZES)
ROOT = Path(__file__).resolve().parent.parent
QUIZ_DIR = ROOT / "helpers" / "quizzes"


# ---------------------------------------------------------------------------------------------- the data files


def test_one_quiz_file_per_chapter_notebook():
    notebooks = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))
    assert sorted(p.stem for p in QUIZ_DIR.glob("*.json")) == [p.name[:2] for p in notebooks] == CHAPTERS
    for path in notebooks:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
        assert re.findall(r"quiz\.show\(([^)]*)\)", code) == [f'"{path.name[:2]}"'], f"{path.name} shows its quiz"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_quiz_file_is_valid_and_is_what_the_module_loaded(chapter):
    path = QUIZ_DIR / f"{chapter}.json"
    assert quiz.parse_quiz(path.read_text(encoding="utf-8"), path.name) == (chapter, quiz.questions(chapter))
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) == {"chapter", "questions"} and data["chapter"] == chapter


def test_question_ids_are_unique_in_the_book():
    ids = [q["id"] for qs in quiz.QUIZZES.values() for q in qs]
    assert len(ids) == len(set(ids))
    assert all(q["id"].startswith(f"{chapter}-") for chapter, qs in quiz.QUIZZES.items() for q in qs)


def test_quizzes_load_from_a_zipped_package(tmp_path):
    """importlib.resources folders need not be on disk: the loader reads any Traversable, e.g. inside a zip."""
    archive = tmp_path / "helpers.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for path in QUIZ_DIR.glob("*.json"):
            z.write(path, f"helpers/quizzes/{path.name}")
        z.writestr("helpers/quizzes/README.txt", "not a quiz")
    assert quiz.load_quizzes(zipfile.Path(archive, "helpers/quizzes/")) == quiz.QUIZZES
    assert quiz.load_quizzes() == quiz.QUIZZES  # the default: the package's own folder, via importlib.resources


def test_the_package_data_installs_the_quiz_files():
    tomllib = pytest.importorskip("tomllib") if sys.version_info >= (3, 11) else pytest.importorskip("tomli")
    from fnmatch import fnmatch

    setup = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    packages = setup["packages"]
    patterns = packages["find"]["include"] if isinstance(packages, dict) else packages  # find: or a list
    for package in ("helpers.exercises", "helpers.quizzes"):
        assert any(fnmatch(package, pattern) for pattern in patterns), (package, patterns)
    assert "*.json" in setup["package-data"]["helpers.quizzes"]
    # scripts/colab_stage.sh checks the real thing: `pip install .` installs every file under helpers/.


def broken(edit):
    """The text of quiz file 01.json after ``edit(data)``."""
    data = copy.deepcopy(json.loads((QUIZ_DIR / "01.json").read_text(encoding="utf-8")))
    edit(data)
    return json.dumps(data)


@pytest.mark.parametrize(
    "edit, message",
    [
        (lambda d: d.update(chapter="02"), "the quiz of the chapter it is named after"),
        (lambda d: d.update(extra=1), 'keys "chapter" and "questions"'),
        (lambda d: d.update(questions=[]), "non-empty list"),
        (lambda d: d["questions"][1].pop("explanation"), "question 2: a question has exactly the fields"),
        (lambda d: d["questions"][1].update(hint="x"), "question 2: a question has exactly the fields"),
        (lambda d: d["questions"][0].update(id="why macro F1"), "the id 'why macro F1' should be"),
        (lambda d: d["questions"][0].update(id="02-why-macro-f1"), "should be the chapter"),
        (lambda d: d["questions"][2].update(question=" "), 'question 3 (01-smallest-idf): "question" must be'),
        (lambda d: d["questions"][0].update(options=["a", "a", "b"]), '"options" must be a list'),
        (lambda d: d["questions"][0].update(answer=4), '"answer" must be the index (0 to 3)'),
        (lambda d: d["questions"][0].update(answer=[0, 1]), "of the one correct option"),
        (lambda d: d["questions"][0].update(answer=True), "of the one correct option"),
        (lambda d: d["questions"][1].update(id=d["questions"][0]["id"]), "ids must be unique"),
    ],
)
def test_a_broken_quiz_file_names_the_question_and_the_field(edit, message):
    with pytest.raises(ValueError, match=re.escape(message)) as err:
        quiz.parse_quiz(broken(edit), "01.json")
    assert str(err.value).startswith("01.json")


def test_a_file_that_is_not_json_or_no_quiz_at_all_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="01.json is not valid JSON"):
        quiz.parse_quiz('{"chapter": "01",', "01.json")
    with pytest.raises(FileNotFoundError, match="no quiz files"):
        quiz.load_quizzes(tmp_path)


# ---------------------------------------------------------------------------------------------- loading and rendering


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_questions_are_well_formed(chapter):
    qs = quiz.questions(chapter)
    assert 4 <= len(qs) <= 6
    for q in qs:
        assert set(q) == {"id", "question", "options", "answer", "explanation"}
        assert q["question"].strip() and q["explanation"].strip()
        assert len(q["options"]) >= 3 and len(set(q["options"])) == len(q["options"]), "distinct options"
        assert all(isinstance(o, str) and o.strip() for o in q["options"])
        assert isinstance(q["answer"], int) and 0 <= q["answer"] < len(q["options"]), "exactly one correct option"
    assert len({q["answer"] for q in qs}) >= 3, "the correct option is not always in the same place"


def test_chapter_keys_and_errors():
    assert CHAPTERS == sorted(p.name[:2] for p in (ROOT / "book").glob("[0-9][0-9]_*.ipynb"))  # one per chapter
    assert quiz.questions(1) is quiz.questions("01") is quiz.questions("1")
    with pytest.raises(KeyError, match="no quiz for chapter"):
        quiz.questions("09")


def text_of(fragment: str) -> str:
    """What a reader sees of an HTML fragment: tags removed, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def plain(text: str) -> str:
    return text.replace("`", "").replace("*", "")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_static_html_holds_every_question_answer_and_explanation(chapter):
    page = quiz.static_html(chapter)
    seen = text_of(page)
    qs = quiz.questions(chapter)
    assert page.count("<details>") == len(qs) and page.count("</details>") == len(qs)
    assert "<script" not in page, "the static version needs no JavaScript"
    for q in qs:
        assert plain(q["question"]) in seen
        for option in q["options"]:
            assert plain(option) in seen
        assert plain(q["explanation"]) in seen
    # each answer sits inside its question's <details>
    answers = re.findall(r"<details>(.*?)</details>", page, flags=re.S)
    for q, block in zip(qs, answers):
        assert plain(q["options"][q["answer"]]) in text_of(block)


def test_static_html_escapes_markup():
    assert "&lt;b&gt;" in quiz._inline("<b>x</b>")
    assert quiz._inline("`a < b`") == "<code>a &lt; b</code>"


def test_grade():
    q = quiz.questions("01")[0]
    right, wrong = q["answer"], (q["answer"] + 1) % len(q["options"])
    ok, message = quiz.grade("01", 0, right)
    assert ok and q["explanation"] in message
    assert quiz.grade("01", 0, q["options"][right])[0]
    assert quiz.grade("01", 0, wrong) == (False, "Not quite. Think again and try another option.")
    assert quiz.grade("01", 0, None) == (False, "Pick an option first.")
    with pytest.raises(ValueError, match="not one of the options"):
        quiz.grade("01", 0, "no such option")
    with pytest.raises(IndexError):
        quiz.grade("01", 99, 0)
    with pytest.raises(IndexError):
        quiz.grade("01", 0, 9)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_widget_marks_right_and_wrong_answers(chapter):
    w = quiz.widget(chapter)
    qs = quiz.questions(chapter)
    assert len(w.radios) == len(w.buttons) == len(w.feedback) == len(qs)
    assert "0 of" in w.score.value
    w.buttons[0].click()  # nothing selected yet
    assert "Pick an option" in w.feedback[0].value
    for i, q in enumerate(qs):
        w.radios[i].value = (q["answer"] + 1) % len(q["options"])
        w.buttons[i].click()  # the button's callback
        assert "✗" in w.feedback[i].value and "Not quite" in w.feedback[i].value
        w.radios[i].value = q["answer"]
        w.buttons[i].click()
        assert "✓" in w.feedback[i].value and "Correct" in w.feedback[i].value
    assert f"{len(qs)} of {len(qs)}" in w.score.value
    w.radios[0].value = (qs[0]["answer"] + 1) % len(qs[0]["options"])  # changing a right answer to a wrong one
    assert w.check(0) is False
    assert f"{len(qs) - 1} of {len(qs)}" in w.score.value


def test_widget_options_follow_the_data():
    w = quiz.widget("02")
    q = quiz.questions("02")[3]
    assert [label for label, _ in w.radios[3].options] == [plain(o) for o in q["options"]]
    assert [value for _, value in w.radios[3].options] == list(range(len(q["options"])))


@pytest.fixture
def shown(monkeypatch):
    calls = []
    monkeypatch.setattr("IPython.display.display", lambda *objs, **kw: calls.append((objs, kw)))
    return calls


def test_show_without_a_live_kernel_outputs_only_static_html(shown, monkeypatch):
    monkeypatch.delenv("BOOK_QUIZ", raising=False)
    assert quiz.show("01") is None  # plain Python: not live
    ((objs, kw),) = shown
    bundle = objs[0]._repr_html_()
    assert bundle == quiz.static_html_bilingual("01")  # the book build's one execution serves both sites
    assert quiz.static_html("01", "en") in bundle and quiz.static_html("01", "zh") in bundle


def test_show_with_a_live_kernel_outputs_widget_and_static_fallback(shown):
    w = quiz.show("02", interactive=True)
    assert isinstance(w, quiz.QuizWidget)
    ((objs, kw),) = shown
    bundle = objs[0]
    assert kw == {"raw": True}
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == w.box.model_id
    assert bundle["text/html"] == quiz.static_html("02")
    assert bundle["text/plain"].startswith("Quiz: chapter 02")


@pytest.mark.parametrize(
    "allow_stdin, env, live", [(True, "", True), (False, "", False), (False, "widget", True), (True, "static", False)]
)
def test_live_kernel_follows_allow_stdin(monkeypatch, allow_stdin, env, live):
    fake = SimpleNamespace(kernel=SimpleNamespace(_allow_stdin=allow_stdin))
    monkeypatch.setattr("IPython.get_ipython", lambda: fake)
    monkeypatch.setenv("BOOK_QUIZ", env)
    assert quiz.live_kernel() is live


def test_live_kernel_false_in_plain_python_and_terminal_ipython(monkeypatch):
    monkeypatch.delenv("BOOK_QUIZ", raising=False)
    monkeypatch.setattr("IPython.get_ipython", lambda: None)
    assert quiz.live_kernel() is False
    monkeypatch.setattr("IPython.get_ipython", lambda: SimpleNamespace())  # terminal IPython has no kernel
    assert quiz.live_kernel() is False
