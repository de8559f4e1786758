"""helpers.exercises.ch7: every checker of chapter 7 accepts the reference solution and rejects the typical wrong
answers with a hint: the [UNK] share of the English tokenizer on Chinese text, character n-grams by hand.

The references are computed here independently (the tokenizer's own convert_tokens_to_ids for 7.1, a plain loop
for 7.2). A checker must never raise because of the answer: None, a wrong type, or a function that raises all give
False and a message.
"""

import pytest
from exercise_tools import GUARD_CASES, assert_guarded, verdict

import helpers.check as check
from helpers.exercises import ch7

TEXTS = ["这部电影不好看，但是音乐很棒", "房间很大，早餐一般", "iPhone 的屏幕不错"]


# --------------------------------------------------------------------------------------------- 7.1 [UNK] share


def reference(tokenizer):
    ids = [tokenizer(t, add_special_tokens=False)["input_ids"] for t in TEXTS]
    unk = tokenizer.unk_token_id
    n_unk, n_tokens = sum(i.count(unk) for i in ids), sum(len(i) for i in ids)
    return n_unk, n_tokens, sum(unk in i for i in ids)


def test_unk_share_accepts_the_reference(capsys, tokenizer):
    n_unk, n_tokens, _ = reference(tokenizer)
    assert 0 < n_unk < n_tokens
    ok, out = verdict(capsys, check.exercise, "7.1", n_unk / n_tokens, tokenizer=tokenizer, texts=TEXTS)
    assert ok and "correct" in out and f"{n_unk:,} of the {n_tokens:,}" in out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda u, k, w: 100 * u / k, "percentage"),
        (lambda u, k, w: float(u), "number of [UNK] tokens"),
        (lambda u, k, w: 1 - u / k, "NOT [UNK]"),
        (lambda u, k, w: u / (k + 2 * len(TEXTS)), "[CLS] and [SEP]"),
        (lambda u, k, w: w / len(TEXTS) if w / len(TEXTS) != u / k else 0.123, "share of texts"),
        (lambda u, k, w: 0.123, "Hint: tokenise every text"),
    ],
)
def test_unk_share_recognises_typical_slips(capsys, tokenizer, wrong, hint):
    ok, out = verdict(capsys, ch7.unk_share_by_hand, wrong(*reference(tokenizer)), tokenizer=tokenizer, texts=TEXTS)
    assert not ok and hint in out


@pytest.mark.parametrize(
    "answer, hint", [(None, "no answer yet"), ("0.5", "one number"), ([0.1], "one number"), (True, "one number")]
)
def test_unk_share_non_answers(capsys, tokenizer, answer, hint):
    ok, out = verdict(capsys, check.exercise, "7.1", answer, tokenizer=tokenizer, texts=TEXTS)
    assert not ok and hint in out


def test_unk_share_needs_the_chapter_objects(tokenizer):
    with pytest.raises(TypeError, match="needs the English tokenizer"):
        ch7.unk_share_by_hand(0.5, tokenizer=None, texts=TEXTS)
    with pytest.raises(TypeError, match="needs the chapter's tokenizer"):
        check.exercise("7.1", 0.5, texts=TEXTS)


# ------------------------------------------------------------------------------------------ 7.2 char n-grams


def char_ngrams(text, n):
    text = "".join(text.split())
    return [text[i : i + n] for i in range(len(text) - n + 1)]


def test_char_ngrams_accepts_a_correct_function(capsys):
    for text, n, expected in ch7.NGRAM_CASES:  # the cases themselves agree with an independent loop
        assert char_ngrams(text, n) == expected
    ok, out = verdict(capsys, check.exercise, "7.2", char_ngrams)
    assert ok and "correct" in out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (lambda text, n: [text[i : i + n] for i in range(len(text) - n + 1)], "Remove the spaces first"),
        (lambda text, n: char_ngrams(text, n)[:-1], "last n-gram is missing"),
        (lambda text, n: set(char_ngrams(text, n)), "returns a set"),
        (lambda text, n: text.split(), "should be"),
        (lambda text, n: None, "forget the `return`"),
        (lambda text, n: 3, "list of strings"),
    ],
)
def test_char_ngrams_recognises_typical_slips(capsys, wrong, hint):
    ok, out = verdict(capsys, ch7.char_ngrams_function, wrong)
    assert not ok and hint in out


@pytest.mark.parametrize("case", GUARD_CASES)
def test_char_ngrams_guards(capsys, case):
    assert_guarded(capsys, ch7.char_ngrams_function, "7.2", "char_ngrams", case)
