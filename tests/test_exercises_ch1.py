"""helpers.exercises.ch1: every checker of chapter 1 accepts the reference solution and rejects the typical wrong
answers with a hint: the idf by hand (against scikit-learn), macro-F1 by hand, negation marking.

The references are computed independently here, with the libraries, so the checkers are tested against them, not
against themselves. A checker must never raise because of the answer: None (the student notebooks' stub), a wrong
type, or a function that raises all give False and a message.
"""

import math

import numpy as np
import pytest
from exercise_tools import GUARD_CASES, assert_guarded, verdict
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline

import helpers.check as check
from helpers.exercises import ch1

TEXTS = [
    "A predictable plot, but fun.",
    "Predictable and dull; predictable again.",
    "A fine film.",
    "Nothing here is predictable!",
    "Dull, dull, dull.",
    "The acting was fine.",
    "Fun and fine.",
]


# ---------------------------------------------------------------------------------------------- 1.1 idf


def sklearn_idf(word="predictable"):
    vec = TfidfVectorizer().fit(TEXTS)
    return float(vec.idf_[vec.vocabulary_[word]])


def test_idf_accepts_the_scikit_learn_value(capsys):
    ok, out = verdict(capsys, check.exercise, "1.1", sklearn_idf(), texts=TEXTS)
    assert ok and "correct" in out and "sublinear_tf" in out
    sublinear = TfidfVectorizer(sublinear_tf=True).fit(TEXTS)  # the chapter's vectoriser: the same idf
    assert sublinear.idf_[sublinear.vocabulary_["predictable"]] == pytest.approx(sklearn_idf())
    ok, _ = verdict(capsys, check.exercise, "1.1", np.float32(sklearn_idf()), texts=TEXTS)  # NumPy scalars too
    assert ok


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda n, df: math.log(n / df) + 1, "adds 1 to both n and df"),
        (lambda n, df: math.log((1 + n) / (1 + df)), "ends with + 1"),
        (lambda n, df: math.log10((1 + n) / (1 + df)) + 1, "base-10"),
        (lambda n, df: float(df), "this is df"),
        (lambda n, df: df / n, "share of texts"),
        (lambda n, df: math.log((1 + n) / (1 + 4)) + 1, "not how often it occurs"),  # 4 occurrences, 3 texts
        (lambda n, df: 2.5, "Hint"),
    ],
)
def test_idf_recognises_typical_slips(capsys, wrong, hint):
    analyzer = CountVectorizer().build_analyzer()
    n, df = len(TEXTS), sum("predictable" in analyzer(t) for t in TEXTS)
    assert (n, df) == (7, 3)
    ok, out = verdict(capsys, ch1.idf_by_hand, wrong(n, df), texts=TEXTS)
    assert not ok and hint in out


@pytest.mark.parametrize(
    "answer, hint", [(None, "no answer yet"), ("1.5", "one number"), ([1.0, 2.0], "one number"), (True, "one number")]
)
def test_idf_non_answers(capsys, answer, hint):
    ok, out = verdict(capsys, check.exercise, "1.1", answer, texts=TEXTS)
    assert not ok and hint in out


# ---------------------------------------------------------------------------------------------- 1.2 macro-F1


@pytest.fixture(scope="module")
def three_classes():
    rng = np.random.default_rng(0)
    words = {0: "good great fine", 1: "bad awful dull", 2: "plot actor scene"}
    texts, labels = [], []
    for i in range(120):
        label = [0, 0, 1, 2][i % 4]  # imbalanced, so that weighted and macro averages differ
        noise = rng.choice(["good", "bad", "plot", "the", "a"], size=3)
        texts.append(" ".join([rng.choice(words[label].split()), *noise]))
        labels.append(label)
    model = make_pipeline(CountVectorizer(), LogisticRegression(C=0.3, max_iter=500)).fit(texts[:60], labels[:60])
    data = {"text": texts[60:], "label": labels[60:]}
    y_pred = model.predict(data["text"])
    return model, data, np.array(data["label"]), y_pred


def test_macro_f1_accepts_the_scikit_learn_value(capsys, three_classes):
    model, data, y, p = three_classes
    assert 0.3 < accuracy_score(y, p) < 1.0  # a model that makes mistakes, so the slips differ from the answer
    ok, out = verdict(capsys, check.exercise, "1.2", f1_score(y, p, average="macro"), model=model, data=data)
    assert ok and "per-class" in out


@pytest.mark.parametrize(
    "kind, hint",
    [
        ("accuracy", "accuracy"),
        ("weighted", "weighted"),
        ("class0", "class 0"),
        ("percent", "percentage"),
        ("other", "Hint"),
        ("above1", "between 0 and 1"),
    ],
)
def test_macro_f1_recognises_typical_slips(capsys, three_classes, kind, hint):
    model, data, y, p = three_classes
    value = {
        "accuracy": accuracy_score(y, p),
        "weighted": f1_score(y, p, average="weighted"),
        "class0": f1_score(y, p, average=None)[0],
        "percent": 100 * f1_score(y, p, average="macro"),
        "other": 0.123,
        "above1": 1.7,
    }[kind]
    ok, out = verdict(capsys, ch1.macro_f1_by_hand, value, model=model, data=data)
    assert not ok and hint in out


def test_missing_chapter_objects_are_a_notebook_error(three_classes):
    with pytest.raises(TypeError, match="needs the chapter's data"):
        check.exercise("1.2", 0.5, model=three_classes[0])
    with pytest.raises(TypeError, match="does not take"):
        check.exercise("1.1", 0.5, texts=TEXTS, model=None)
    with pytest.raises(KeyError, match="unknown exercise"):
        check.exercise("9.9", 0.5)


# ---------------------------------------------------------------------------------------------- 1.3 negation


def reference_mark_negation(words):
    out, negated = [], False
    for w in words:
        if w in {"not", "no", "never"}:
            out.append(w)
            negated = True
        elif w in {".", ",", ";", ":", "!", "?"}:
            out.append(w)
            negated = False
        else:
            out.append("not_" + w if negated else w)
    return out


def test_negation_accepts_the_reference(capsys):
    ok, out = verdict(capsys, check.exercise, "1.3", reference_mark_negation)
    assert ok and "all" in out


def _in_place(words):
    for i in range(1, len(words)):
        if words[i - 1] == "not":
            words[i] = "not_" + words[i]


def _no_scope_end(words):
    out, negated = [], False
    for w in words:
        out.append("not_" + w if negated and w not in {"not", "no", "never"} else w)
        negated = negated or w in {"not", "no", "never"}
    return out


def _marks_negation_word(words):
    out, negated = [], False
    for w in words:
        if w in {".", ",", ";", ":", "!", "?"}:
            negated = False
            out.append(w)
        else:
            out.append("not_" + w if negated else w)
            negated = negated or w in {"not", "no", "never"}
    return out


def _first_word_only(words):
    return [("not_" + w if i and words[i - 1] in {"not", "no", "never"} else w) for i, w in enumerate(words)]


def _crashes(words):
    return words[100]


def _not_written(words):
    raise NotImplementedError("write mark_negation here")


@pytest.mark.parametrize(
    "fn, hint",
    [
        (None, "no answer yet"),
        ("not a function", "pass the function"),
        (_not_written, "not written yet"),
        (_in_place, "in place"),
        (lambda words: None, "forget the `return`"),
        (_no_scope_end, "Punctuation is never marked"),
        (_marks_negation_word, "negation word itself"),
        (_first_word_only, "not only the first"),
        (_crashes, "IndexError"),
        (lambda words: [w.upper() for w in words], "should be"),
        (lambda words: words + ["!"], "one item per input item"),
    ],
)
def test_negation_recognises_typical_mistakes(capsys, fn, hint):
    ok, out = verdict(capsys, ch1.mark_negation_function, fn)
    assert not ok and hint in out


# ---------------------------------------------------------------------------------------------- every function exercise


@pytest.mark.parametrize(
    "checker, exercise_id, name",
    [
        (ch1.mark_negation_function, "1.3", "mark_negation"),
    ],
    ids=["1.3"],
)
@pytest.mark.parametrize("case", GUARD_CASES)
def test_function_exercises_report_non_functions_and_crashes(capsys, checker, exercise_id, name, case):
    """The shared guard and the shared call: None, a non-function, the stub and a crash are messages, not errors."""
    assert_guarded(capsys, checker, exercise_id, name, case)
