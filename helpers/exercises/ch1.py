"""Exercise checkers of chapter 1: the idf by hand, macro-F1 by hand, negation marking.

Each checker registers itself under its exercise id; see :mod:`helpers.exercises` for the rules they share.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import register
from .guards import _as_number, _call_student, _close, _function_guard, _not_answered, _report, _slip_hint, _type_name


@register("1.1")
def idf_by_hand(answer: Any, *, texts, word: str = "predictable", exercise_id: str = "1.1") -> bool:
    """Exercise 1.1: the idf of ``word`` over ``texts`` with scikit-learn's smooth formula, computed by hand.

    idf(w) = ln((1 + n) / (1 + df(w))) + 1, with scikit-learn's default tokenisation (lower case, runs of two or
    more letters or digits). Chapter 1's vectoriser uses ``sublinear_tf=True`` (tf = 1 + ln count), which does
    not change the idf. Recognises the usual slips: no smoothing, log base 10 or 2, the final +1 forgotten,
    the document frequency (or a fraction) instead of the idf, counting occurrences instead of documents.
    """
    if texts is None:
        raise TypeError("idf_by_hand needs the training texts: texts=rt['train']['text']")
    if answer is None:
        return _not_answered(exercise_id, f"the idf of '{word}' (a number)")
    value = _as_number(answer)
    if value is None:
        return _report(
            exercise_id,
            False,
            f"the answer should be one number, the idf of '{word}', but it is a "
            f"{_type_name(answer)}. Hint: `answer = math.log(...) + 1`.",
        )
    from sklearn.feature_extraction.text import CountVectorizer

    texts = list(texts)
    analyzer = CountVectorizer().build_analyzer()
    tokens = [analyzer(t) for t in texts]
    n = len(texts)
    df = sum(word in set(ts) for ts in tokens)
    occurrences = sum(ts.count(word) for ts in tokens)
    if df == 0:
        raise ValueError(f"'{word}' does not occur in the texts given; pass the training texts of the chapter.")
    right = math.log((1 + n) / (1 + df)) + 1
    if _close(value, right, 1e-6):
        return _report(
            exercise_id,
            True,
            f"correct. '{word}' occurs in {df:,} of the {n:,} training texts, so its "
            f"idf is ln({n + 1:,} / {df + 1:,}) + 1 = {right:.4f}. A word in every "
            "text would get idf 1, the smallest possible. `sublinear_tf=True` changes "
            "only the term frequency, so this idf is the same with it or without it.",
        )
    slips = [
        (
            math.log(n / df) + 1,
            "this is ln(n / df) + 1: scikit-learn adds 1 to both n and df (as if one extra "
            "text contained every word), so that no idf is ever infinite.",
        ),
        (
            math.log((1 + n) / (1 + df)),
            "almost: the formula ends with + 1, so that words found in every text "
            "still count a little instead of being zeroed.",
        ),
        (math.log(n / df), "this is the textbook ln(n / df): scikit-learn smooths it (1 + n, 1 + df) and adds 1."),
        (
            math.log10((1 + n) / (1 + df)) + 1,
            "you used a base-10 logarithm; the formula uses the natural log (`math.log` or `np.log`).",
        ),
        (math.log2((1 + n) / (1 + df)) + 1, "you used a base-2 logarithm; the formula uses the natural log."),
        (
            math.log((1 + n) / (1 + occurrences)) + 1,
            "df counts the texts that contain the word, not how often it "
            "occurs: use `word in set(tokens)` per text, not a count.",
        ),
        (float(df), "this is df, the number of texts containing the word; now put it into the formula."),
        (df / n, "this is the share of texts containing the word; the idf is ln((1 + n) / (1 + df)) + 1."),
    ]
    hint = _slip_hint(value, slips, 1e-6)
    if hint:
        return _report(exercise_id, False, f"not quite: {hint}")
    hint = (
        "Hint: tokenise each text the way the vectoriser does (`tfidf.build_analyzer()` gives that "
        f"function), count the texts whose tokens include '{word}' (df), and use n = {n:,}."
    )
    if _close(value, right, 1e-2):
        hint = "very close: check the tokenisation (lower case; `tfidf.build_analyzer()` is scikit-learn's own)."
    return _report(exercise_id, False, f"{value:.4f} is not the idf of '{word}'. {hint}")


@register("1.2")
def macro_f1_by_hand(answer: Any, *, model, data, exercise_id: str = "1.2") -> bool:
    """Exercise 1.2: the macro-F1 of ``model`` on ``data`` (a split with "text" and "label"), computed by hand.

    The reference comes from scikit-learn's ``f1_score(average="macro")`` on the model's predictions. Recognises
    accuracy (= micro-F1), weighted F1, the F1 of a single class, macro precision or recall, and percentages.
    """
    if model is None or data is None:
        raise TypeError("macro_f1_by_hand needs the model and the split: model=rt_models['tfidf_lr'], data=rt['test']")
    if answer is None:
        return _not_answered(exercise_id, "the macro-F1 (a number between 0 and 1)")
    value = _as_number(answer)
    if value is None:
        return _report(
            exercise_id,
            False,
            f"the answer should be one number (the macro-F1), but it is a "
            f"{_type_name(answer)}. Hint: average the per-class F1 scores.",
        )
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

    y_true = np.asarray(data["label"])
    y_pred = np.asarray(model.predict(list(data["text"])))
    right = float(f1_score(y_true, y_pred, average="macro"))
    if _close(value, right, 1e-6):
        per_class = f1_score(y_true, y_pred, average=None)
        return _report(
            exercise_id,
            True,
            f"correct: macro-F1 = {right:.4f}, the plain mean of the per-class F1 "
            f"scores ({', '.join(f'{f:.4f}' for f in per_class)}). Every class counts "
            "the same, however many texts it has.",
        )
    if _close(value, 100 * right, 1e-6):
        return _report(
            exercise_id, False, "that is the macro-F1 as a percentage: give it as a fraction between 0 and 1."
        )
    slips = [
        (
            float(accuracy_score(y_true, y_pred)),
            "this is the accuracy (which is also the micro-F1). Macro-F1 computes an F1 score per class first.",
        ),
        (
            float(f1_score(y_true, y_pred, average="weighted")),
            "this is the *weighted* F1, which weights each "
            "class by its number of texts; macro-F1 takes "
            "the plain, unweighted mean.",
        ),
        (
            float(precision_score(y_true, y_pred, average="macro")),
            "this is the macro *precision*; F1 is 2PR / (P + R) per class, then the mean.",
        ),
        (
            float(recall_score(y_true, y_pred, average="macro")),
            "this is the macro *recall*; F1 is 2PR / (P + R) per class, then the mean.",
        ),
    ]
    for c, f in enumerate(f1_score(y_true, y_pred, average=None)):
        slips.append((float(f), f"this is the F1 of class {c} only: compute it for every class and average."))
    hint = _slip_hint(value, slips, 1e-6)
    if hint:
        return _report(exercise_id, False, f"not quite: {hint}")
    if not 0 <= value <= 1:
        return _report(exercise_id, False, f"{value:.4f} cannot be an F1 score, which lies between 0 and 1.")
    return _report(
        exercise_id,
        False,
        f"{value:.4f} is not the macro-F1. Hint: for each class c, precision = "
        "TP / (TP + FP) and recall = TP / (TP + FN) with c as the positive class; "
        "F1 = 2PR / (P + R); then the mean over the classes. Predict with "
        "`model.predict(texts)`.",
    )


NEGATION_CASES: list[tuple[list[str], list[str]]] = [
    (["not", "bad", "at", "all"], ["not", "not_bad", "not_at", "not_all"]),
    (["good", ",", "not", "great", "."], ["good", ",", "not", "not_great", "."]),
    (["never", "boring", ",", "always", "fun"], ["never", "not_boring", ",", "always", "fun"]),
    (["no", "plot", "and", "no", "charm", "!"], ["no", "not_plot", "not_and", "no", "not_charm", "!"]),
    (["a", "fine", "film", "."], ["a", "fine", "film", "."]),
    (["not", "funny", ";", "not", "moving", "either"], ["not", "not_funny", ";", "not", "not_moving", "not_either"]),
    ([], []),
]


@register("1.3")
def mark_negation_function(answer: Any, exercise_id: str = "1.3") -> bool:
    """Exercise 1.3: a function ``mark_negation(words)`` that prefixes ``not_`` to the words after a negation.

    The rule: after "not", "no" or "never", every word gets the prefix ``not_`` up to the next punctuation item
    (one of . , ; : ! ?), which ends the scope and is left as it is; a negation word is never prefixed itself
    (it starts a new scope). The input list must not be changed. Runs the function on :data:`NEGATION_CASES`.
    """
    if (verdict := _function_guard(exercise_id, answer, "mark_negation", "words")) is not None:
        return verdict
    for words, expected in NEGATION_CASES:
        given = list(words)
        ok, got = _call_student(exercise_id, answer, "mark_negation", f"the input {words}", given)
        if not ok:
            return got
        if got is None:
            hint = (
                " It seems to change the list in place: build a new list and return it."
                if given != words
                else " Did you forget the `return`?"
            )
            return _report(exercise_id, False, f"your function returned None for {words}.{hint}")
        if given != words:
            return _report(
                exercise_id,
                False,
                f"your function changed its input list ({words} became {given}); build and return a new list instead.",
            )
        try:
            got_list = list(got)
        except TypeError:
            return _report(exercise_id, False, f"your function should return a list of words, not a {_type_name(got)}.")
        if got_list == expected:
            continue
        hint = ""
        if len(got_list) != len(expected):
            hint = " The output must have one item per input item (mark words, do not add or drop any)."
        elif any(g == f"not_{w}" and w in {"not", "no", "never"} for g, w in zip(got_list, words)):
            hint = " A negation word itself stays as it is (it starts a new scope)."
        elif any(g.startswith("not_") and w in {".", ",", ";", ":", "!", "?"} for g, w in zip(got_list, words)):
            hint = " Punctuation is never marked: it ends the scope."
        elif any(g == f"not_{w}" and e == w for g, w, e in zip(got_list, words, expected)):
            hint = " The scope ends at the next punctuation item (. , ; : ! ?)."
        elif any(e == f"not_{w}" and g == w for g, w, e in zip(got_list, words, expected)):
            hint = " Every word after the negation is marked, not only the first one, until punctuation."
        return _report(
            exercise_id,
            False,
            f"for {words} the result should be {expected}, but your function returned {got_list}.{hint}",
        )
    return _report(
        exercise_id,
        True,
        f"correct on all {len(NEGATION_CASES)} test inputs. With this marking, "
        "'bad' and 'not_bad' are different columns of the bag of words.",
    )
