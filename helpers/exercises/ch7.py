"""Exercise checkers of chapter 7 (Chinese): the [UNK] share of the English tokenizer, character n-grams by hand.

Each checker registers itself under its exercise id; see :mod:`helpers.exercises` for the rules they share.
"""

from __future__ import annotations

from typing import Any

from . import register
from .guards import _as_number, _call_student, _close, _function_guard, _not_answered, _report, _slip_hint, _type_name

# (text, n, the character n-grams expected): spaces are dropped, punctuation is kept, order is kept.
NGRAM_CASES: list[tuple[str, int, list[str]]] = [
    ("不好看", 2, ["不好", "好看"]),
    (
        "这部电影不好看，但是音乐很棒",
        3,
        [
            "这部电",
            "部电影",
            "电影不",
            "影不好",
            "不好看",
            "好看，",
            "看，但",
            "，但是",
            "但是音",
            "是音乐",
            "音乐很",
            "乐很棒",
        ],
    ),
    ("很 好", 1, ["很", "好"]),
    ("好 看", 2, ["好看"]),
    ("好", 2, []),
]


def _unk_counts(tokenizer, texts) -> tuple[int, int, int, int]:
    """[UNK] tokens, all tokens (no [CLS]/[SEP]), texts with an [UNK], and texts: the reference of exercise 7.1."""
    unk = tokenizer.unk_token
    pieces = [tokenizer.tokenize(t) for t in texts]
    n_unk = sum(p.count(unk) for p in pieces)
    return n_unk, sum(len(p) for p in pieces), sum(unk in p for p in pieces), len(pieces)


@register("7.1")
def unk_share_by_hand(answer: Any, *, tokenizer, texts, exercise_id: str = "7.1") -> bool:
    """Exercise 7.1: the share of the English tokenizer's tokens that are [UNK] on Chinese ``texts``.

    The share is over the tokens of ``tokenizer.tokenize`` (no [CLS] or [SEP]), all texts pooled. Recognises the
    usual slips: a percentage, the count of [UNK]s, the share of the tokens that are *not* [UNK], the special tokens
    counted in the denominator, the share of texts that hold an [UNK], and the mean of the per-text shares.
    """
    if tokenizer is None or texts is None:
        raise TypeError(
            "unk_share_by_hand needs the English tokenizer and the Chinese texts: "
            "tokenizer=en_tokenizer, texts=zh_test_texts"
        )
    if answer is None:
        return _not_answered(exercise_id, "the share of [UNK] tokens (a number between 0 and 1)")
    value = _as_number(answer)
    if value is None:
        return _report(
            exercise_id,
            False,
            f"the answer should be one number, the share of [UNK] tokens, but it is "
            f"a {_type_name(answer)}. Hint: `answer = n_unk / n_tokens`.",
        )
    texts = list(texts)
    n_unk, n_tokens, texts_with_unk, n_texts = _unk_counts(tokenizer, texts)
    if n_tokens == 0:
        raise ValueError("The texts give no tokens; pass the chapter's Chinese test texts.")
    right = n_unk / n_tokens
    if _close(value, right, 1e-6):
        return _report(
            exercise_id,
            True,
            f"correct. {n_unk:,} of the {n_tokens:,} tokens are [UNK] "
            f"({right:.1%}): the English model sees these characters as one and the "
            "same unknown symbol, whatever they mean.",
        )
    per_text = [_unk_counts(tokenizer, [t]) for t in texts]
    mean_share = sum(u / max(k, 1) for u, k, _, _ in per_text) / n_texts
    slips = [
        (100 * right, "this is a percentage: give the share as a fraction between 0 and 1."),
        (float(n_unk), "this is the number of [UNK] tokens; divide it by the number of tokens."),
        (1 - right, "this is the share of tokens that are NOT [UNK]."),
        (
            n_unk / (n_tokens + 2 * n_texts),
            "you counted [CLS] and [SEP] as tokens: use `tokenizer.tokenize(text)`, "
            "which leaves the special tokens out.",
        ),
        (texts_with_unk / n_texts, "this is the share of texts that hold at least one [UNK], not of tokens."),
        (mean_share, "this is the mean of the per-text shares; pool all tokens first, then divide once."),
    ]
    hint = _slip_hint(value, slips, 1e-6)
    if hint:
        return _report(exercise_id, False, f"not quite: {hint}")
    return _report(
        exercise_id,
        False,
        f"{value:.4f} is not the share of [UNK] tokens. Hint: tokenise every text "
        "with `tokenizer.tokenize`, count the items equal to `tokenizer.unk_token` "
        "and divide by the number of all items.",
    )


@register("7.2")
def char_ngrams_function(answer: Any, exercise_id: str = "7.2") -> bool:
    """Exercise 7.2: a function ``char_ngrams(text, n)``: the character n-grams of a Chinese text, in order.

    Spaces are removed first (Chinese is written without them), punctuation is kept, and every run of ``n``
    consecutive characters is one n-gram; a text shorter than ``n`` has none. Runs the function on
    :data:`NGRAM_CASES` and recognises the usual slips: spaces kept, the last n-gram dropped (an off-by-one in the
    range), a set instead of a list, and words (``text.split()``) instead of characters.
    """
    if (verdict := _function_guard(exercise_id, answer, "char_ngrams", "text, n")) is not None:
        return verdict
    for text, n, expected in NGRAM_CASES:
        ok, got = _call_student(exercise_id, answer, "char_ngrams", f"text={text!r}, n={n}", text, n)
        if not ok:
            return got
        if got is None:
            return _report(
                exercise_id, False, f"your function returned None for {text!r}. Did you forget the `return`?"
            )
        if isinstance(got, (set, frozenset)):
            return _report(
                exercise_id,
                False,
                "your function returns a set: return a list, in the order of the "
                "text, with repeated n-grams kept (a vectorizer counts them).",
            )
        try:
            got_list = list(got)
        except TypeError:
            return _report(
                exercise_id, False, f"your function should return a list of strings, not a {_type_name(got)}."
            )
        if got_list == expected:
            continue
        kept_spaces = [text[i : i + n] for i in range(len(text) - n + 1)]
        hint = ""
        if " " in text and got_list == kept_spaces:
            hint = " Remove the spaces first (`''.join(text.split())`): they are not part of Chinese words."
        elif got_list == expected[:-1] and expected:
            hint = " The last n-gram is missing: the start positions run from 0 to len(text) - n, inclusive."
        elif got_list == text.split():
            hint = " These are words split at spaces; a character n-gram is `n` consecutive characters."
        return _report(
            exercise_id,
            False,
            f"for text={text!r}, n={n} the result should be {expected}, but your function returned {got_list}.{hint}",
        )
    return _report(
        exercise_id,
        True,
        "correct. These are the features of the character n-gram baseline: "
        "no segmenter is needed, and 不好 or 好看 become features of their own.",
    )
