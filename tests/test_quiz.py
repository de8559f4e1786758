"""helpers.quiz: well-formed questions, a static HTML version holding every question and answer, a widget whose
Check buttons grade right and wrong answers, and the choice between the two (widgets only for a live kernel, so
the built website never gets a widget that would need JavaScript from a CDN)."""

import html
import re
from types import SimpleNamespace

import pytest

import helpers.quiz as quiz

CHAPTERS = sorted(quiz.QUIZZES)


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_questions_are_well_formed(chapter):
    qs = quiz.questions(chapter)
    assert 4 <= len(qs) <= 6
    for q in qs:
        assert set(q) == {"question", "options", "answer", "explanation"}
        assert q["question"].strip() and q["explanation"].strip()
        assert len(q["options"]) >= 3 and len(set(q["options"])) == len(q["options"]), "distinct options"
        assert all(isinstance(o, str) and o.strip() for o in q["options"])
        assert isinstance(q["answer"], int) and 0 <= q["answer"] < len(q["options"]), "exactly one correct option"
    assert len({q["answer"] for q in qs}) >= 3, "the correct option is not always in the same place"


def test_chapter_keys_and_errors():
    assert CHAPTERS == ["01", "02", "03", "04", "05", "06"]
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
    (objs, kw), = shown
    bundle = objs[0]._repr_html_()
    assert bundle == quiz.static_html("01")


def test_show_with_a_live_kernel_outputs_widget_and_static_fallback(shown):
    w = quiz.show("02", interactive=True)
    assert isinstance(w, quiz.QuizWidget)
    (objs, kw), = shown
    bundle = objs[0]
    assert kw == {"raw": True}
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == w.box.model_id
    assert bundle["text/html"] == quiz.static_html("02")
    assert bundle["text/plain"].startswith("Quiz: chapter 02")


@pytest.mark.parametrize("allow_stdin, env, live", [(True, "", True), (False, "", False), (False, "widget", True),
                                                    (True, "static", False)])
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
