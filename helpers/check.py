"""Exercise checkers: tell a student whether an answer is right, and if not, what is wrong and a hint.

Every exercise of the book has an id such as ``"1.2"`` (chapter 1, exercise 2). In a notebook::

    import helpers.check as check

    answer = ...                        # the student's work
    check.exercise("1.2", answer, model=rt_models["tfidf_lr"], data=rt["test"]);

:func:`exercise` looks the id up in :data:`EXERCISES` and calls that exercise's checker, one named function per
exercise (:func:`idf_by_hand`, :func:`macro_f1_by_hand`, ...). The keyword arguments are the chapter's own objects
that the checker needs to compute the reference answer itself (it never trusts a number printed by the chapter).
Every checker prints one kind message (``✓ ...`` when right; ``✗ ...`` with what is wrong and a hint otherwise)
and returns ``True`` or ``False``. A checker never raises because of the *answer*: ``None`` (the stub of the
student notebooks), a wrong type, a function that crashes, all become a message and ``False``. It does raise
``KeyError`` for an unknown exercise id and ``TypeError`` when the chapter's objects are missing, which are
mistakes in the notebook rather than in the answer.
"""

from __future__ import annotations

import inspect
import math
import numbers
import textwrap
import traceback
from typing import Any, Callable

import numpy as np

__all__ = ["EXERCISES", "exercise", "idf_by_hand", "macro_f1_by_hand", "mark_negation_function",
           "attention_function", "encoder_parameter_count", "previous_token_scores",
           "masking_function", "pretraining_losses_by_hand", "pair_encoding_function",
           "pair_masks_function", "learning_rate_function", "class_scores_by_hand", "ece_function",
           "head_tail_function", "distillation_loss_function"]


# ----------------------------------------------------------------------------------------------------
# Reporting
# ----------------------------------------------------------------------------------------------------

def _report(exercise_id: str, ok: bool, message: str) -> bool:
    mark = "✓" if ok else "✗"
    print(textwrap.fill(f"{mark} Exercise {exercise_id}: {message}", width=110, subsequent_indent="  ",
                        break_long_words=False, break_on_hyphens=False))
    return ok


def _not_answered(exercise_id: str, what: str) -> bool:
    return _report(exercise_id, False, f"no answer yet. Replace the `None` in the cell above with {what}, "
                                       "run that cell, then run this one again.")


def _not_written(exercise_id: str, name: str) -> bool:
    return _report(exercise_id, False, f"`{name}` is not written yet: replace the `raise NotImplementedError` line "
                                       "in the cell above with your code, run that cell, then this one again.")


def _as_number(value: Any) -> float | None:
    """A plain float from an int, float, NumPy or torch scalar (or a 1-element array); None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        return float(value)
    item = getattr(value, "item", None)
    size = getattr(value, "size", None)
    numel = getattr(value, "numel", None)
    n = numel() if callable(numel) else size
    if callable(item) and n == 1:
        try:
            out = item()
        except (TypeError, ValueError):
            return None
        return float(out) if isinstance(out, numbers.Real) and not isinstance(out, bool) else None
    return None


def _close(a: float, b: float, tol: float) -> bool:
    return math.isfinite(a) and abs(a - b) <= tol * max(1.0, abs(b))


def _type_name(value: Any) -> str:
    return type(value).__name__


def _function_guard(exercise_id: str, answer: Any, name: str, signature: str) -> bool | None:
    """None when ``answer`` is a function to test; else the reported verdict (``None``, or not a function).

    ``name`` and ``signature`` are those of the function the exercise asks for: ``"lr_at"``, ``"t, peak_lr, ..."``.
    """
    if answer is None:
        return _not_answered(exercise_id, f"your function (write `def {name}({signature}): ...` and pass `{name}`)")
    if not callable(answer):
        return _report(exercise_id, False, f"pass the function itself (`{name}`, without brackets), not a "
                                           f"{_type_name(answer)}.")
    return None


def _call_student(exercise_id: str, fn, name: str, what: str, *args) -> tuple[bool, Any]:
    """Run the student's function ``fn(*args)``: (True, its result), or (False, the reported verdict) if it raised.

    ``name`` is the function's name in the exercise; ``what`` describes the input, for the message ("on WHAT, your
    function raised ..."). A ``NotImplementedError`` (the stub of the student notebooks) reads as "not written yet".
    """
    try:
        return True, fn(*args)
    except NotImplementedError:
        return False, _not_written(exercise_id, name)
    except Exception as err:  # the student's code: report, never raise
        where = traceback.extract_tb(err.__traceback__)[-1]
        return False, _report(exercise_id, False, f"on {what}, your function raised {type(err).__name__}: {err} "
                                                  f"(line {where.lineno}).")


# ----------------------------------------------------------------------------------------------------
# Chapter 1
# ----------------------------------------------------------------------------------------------------

def idf_by_hand(answer: Any, *, texts, word: str = "predictable", exercise_id: str = "1.1") -> bool:
    """Exercise 1.1: the idf of ``word`` over ``texts`` with scikit-learn's smooth formula, computed by hand.

    idf(w) = ln((1 + n) / (1 + df(w))) + 1, with scikit-learn's default tokenisation (lower case, runs of two or
    more letters or digits). Recognises the usual slips: no smoothing, log base 10 or 2, the final +1 forgotten,
    the document frequency (or a fraction) instead of the idf, counting occurrences instead of documents.
    """
    if texts is None:
        raise TypeError("idf_by_hand needs the training texts: texts=rt['train']['text']")
    if answer is None:
        return _not_answered(exercise_id, f"the idf of '{word}' (a number)")
    value = _as_number(answer)
    if value is None:
        return _report(exercise_id, False, f"the answer should be one number, the idf of '{word}', but it is a "
                                           f"{_type_name(answer)}. Hint: `answer = math.log(...) + 1`.")
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
        return _report(exercise_id, True, f"correct. '{word}' occurs in {df:,} of the {n:,} training texts, so its "
                                          f"idf is ln({n + 1:,} / {df + 1:,}) + 1 = {right:.4f}. A word in every "
                                          "text would get idf 1, the smallest possible.")
    slips = [
        (math.log(n / df) + 1, "this is ln(n / df) + 1: scikit-learn adds 1 to both n and df (as if one extra "
                               "text contained every word), so that no idf is ever infinite."),
        (math.log((1 + n) / (1 + df)), "almost: the formula ends with + 1, so that words found in every text "
                                       "still count a little instead of being zeroed."),
        (math.log(n / df), "this is the textbook ln(n / df): scikit-learn smooths it (1 + n, 1 + df) and adds 1."),
        (math.log10((1 + n) / (1 + df)) + 1, "you used a base-10 logarithm; the formula uses the natural log "
                                             "(`math.log` or `np.log`)."),
        (math.log2((1 + n) / (1 + df)) + 1, "you used a base-2 logarithm; the formula uses the natural log."),
        (math.log((1 + n) / (1 + occurrences)) + 1, "df counts the texts that contain the word, not how often it "
                                                    "occurs: use `word in set(tokens)` per text, not a count."),
        (float(df), "this is df, the number of texts containing the word; now put it into the formula."),
        (df / n, "this is the share of texts containing the word; the idf is ln((1 + n) / (1 + df)) + 1."),
    ]
    for wrong, hint in slips:
        if _close(value, wrong, 1e-6):
            return _report(exercise_id, False, f"not quite: {hint}")
    hint = ("Hint: tokenise each text the way the vectoriser does (`tfidf.build_analyzer()` gives that "
            f"function), count the texts whose tokens include '{word}' (df), and use n = {n:,}.")
    if _close(value, right, 1e-2):
        hint = "very close: check the tokenisation (lower case; `tfidf.build_analyzer()` is scikit-learn's own)."
    return _report(exercise_id, False, f"{value:.4f} is not the idf of '{word}'. {hint}")


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
        return _report(exercise_id, False, f"the answer should be one number (the macro-F1), but it is a "
                                           f"{_type_name(answer)}. Hint: average the per-class F1 scores.")
    from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

    y_true = np.asarray(data["label"])
    y_pred = np.asarray(model.predict(list(data["text"])))
    right = float(f1_score(y_true, y_pred, average="macro"))
    if _close(value, right, 1e-6):
        per_class = f1_score(y_true, y_pred, average=None)
        return _report(exercise_id, True, f"correct: macro-F1 = {right:.4f}, the plain mean of the per-class F1 "
                                          f"scores ({', '.join(f'{f:.4f}' for f in per_class)}). Every class counts "
                                          "the same, however many texts it has.")
    if _close(value, 100 * right, 1e-6):
        return _report(exercise_id, False, "that is the macro-F1 as a percentage: give it as a fraction "
                                           "between 0 and 1.")
    slips = [(float(accuracy_score(y_true, y_pred)), "this is the accuracy (which is also the micro-F1). "
                                                     "Macro-F1 computes an F1 score per class first."),
             (float(f1_score(y_true, y_pred, average="weighted")), "this is the *weighted* F1, which weights each "
                                                                   "class by its number of texts; macro-F1 takes "
                                                                   "the plain, unweighted mean."),
             (float(precision_score(y_true, y_pred, average="macro")), "this is the macro *precision*; F1 is "
                                                                       "2PR / (P + R) per class, then the mean."),
             (float(recall_score(y_true, y_pred, average="macro")), "this is the macro *recall*; F1 is "
                                                                    "2PR / (P + R) per class, then the mean.")]
    for c, f in enumerate(f1_score(y_true, y_pred, average=None)):
        slips.append((float(f), f"this is the F1 of class {c} only: compute it for every class and average."))
    for wrong, hint in slips:
        if _close(value, wrong, 1e-6):
            return _report(exercise_id, False, f"not quite: {hint}")
    if not 0 <= value <= 1:
        return _report(exercise_id, False, f"{value:.4f} cannot be an F1 score, which lies between 0 and 1.")
    return _report(exercise_id, False, f"{value:.4f} is not the macro-F1. Hint: for each class c, precision = "
                                       "TP / (TP + FP) and recall = TP / (TP + FN) with c as the positive class; "
                                       "F1 = 2PR / (P + R); then the mean over the classes. Predict with "
                                       "`model.predict(texts)`.")


NEGATION_CASES: list[tuple[list[str], list[str]]] = [
    (["not", "bad", "at", "all"], ["not", "not_bad", "not_at", "not_all"]),
    (["good", ",", "not", "great", "."], ["good", ",", "not", "not_great", "."]),
    (["never", "boring", ",", "always", "fun"], ["never", "not_boring", ",", "always", "fun"]),
    (["no", "plot", "and", "no", "charm", "!"], ["no", "not_plot", "not_and", "no", "not_charm", "!"]),
    (["a", "fine", "film", "."], ["a", "fine", "film", "."]),
    (["not", "funny", ";", "not", "moving", "either"], ["not", "not_funny", ";", "not", "not_moving", "not_either"]),
    ([], []),
]


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
            hint = (" It seems to change the list in place: build a new list and return it." if given != words
                    else " Did you forget the `return`?")
            return _report(exercise_id, False, f"your function returned None for {words}.{hint}")
        if given != words:
            return _report(exercise_id, False, f"your function changed its input list ({words} became {given}); "
                                               "build and return a new list instead.")
        try:
            got_list = list(got)
        except TypeError:
            return _report(exercise_id, False, f"your function should return a list of words, not a "
                                               f"{_type_name(got)}.")
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
        return _report(exercise_id, False, f"for {words} the result should be {expected}, but your function "
                                           f"returned {got_list}.{hint}")
    return _report(exercise_id, True, f"correct on all {len(NEGATION_CASES)} test inputs. With this marking, "
                                      "'bad' and 'not_bad' are different columns of the bag of words.")


# ----------------------------------------------------------------------------------------------------
# Chapter 2
# ----------------------------------------------------------------------------------------------------

def _reference_attention(q, k, v, mask=None):
    import torch

    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    weights = torch.softmax(scores, dim=-1)
    return weights @ v, weights


def attention_function(answer: Any, *, q=None, k=None, v=None, exercise_id: str = "2.1") -> bool:
    """Exercise 2.1: ``my_attention(q, k, v, mask=None) -> (output, weights)``, scaled dot-product attention.

    Tested on the chapter's tensors (``q``, ``k``, ``v`` of layer 0, when given) and on random ones with and
    without a boolean key mask (True = may attend). Recognises a missing ``1/sqrt(d_k)``, a softmax over the
    wrong axis, an ignored mask, the two results in the wrong order, and a single tensor returned.
    """
    import torch

    if (verdict := _function_guard(exercise_id, answer, "my_attention", "q, k, v, mask=None")) is not None:
        return verdict
    gen = torch.Generator().manual_seed(0)
    rq, rk, rv = (torch.randn(2, 3, 5, 8, generator=gen), torch.randn(2, 3, 6, 8, generator=gen),
                  torch.randn(2, 3, 6, 4, generator=gen))
    mask = torch.ones(2, 1, 1, 6, dtype=torch.bool)
    mask[1, ..., 4:] = False
    cases = [("random q, k, v (2 texts, 3 heads, 5 queries, 6 keys)", (rq, rk, rv), None)]
    if q is not None and k is not None and v is not None:
        cases.insert(0, ("the chapter's q, k, v of layer 0", (q, k, v), None))
    cases.append(("random q, k, v with a padding mask (the second text's last two keys are padding)",
                  (rq, rk, rv), mask))
    for name, (cq, ck, cv), cmask in cases:
        args = (cq, ck, cv) if cmask is None else (cq, ck, cv, cmask)
        ok, got = _call_student(exercise_id, answer, "my_attention", name, *args)
        if not ok:
            return got
        ref_out, ref_w = _reference_attention(cq, ck, cv, cmask)
        if got is None:
            return _report(exercise_id, False, "your function returned None: return `output, weights`.")
        if torch.is_tensor(got):
            return _report(exercise_id, False, "your function returned one tensor: return both, as "
                                               "`return output, weights`.")
        try:
            out, weights = got
        except (TypeError, ValueError):
            return _report(exercise_id, False, f"your function should return a pair (output, weights), not a "
                                               f"{_type_name(got)}.")
        if not (torch.is_tensor(out) and torch.is_tensor(weights)):
            return _report(exercise_id, False, "both results should be tensors: (output, weights).")
        if out.shape == ref_w.shape and weights.shape == ref_out.shape and ref_w.shape != ref_out.shape:
            return _report(exercise_id, False, "the two results are in the wrong order: return `output, weights`.")
        if tuple(weights.shape) != tuple(ref_w.shape):
            return _report(exercise_id, False, f"on {name} the weights should have shape {tuple(ref_w.shape)} "
                                               f"(..., queries, keys), not {tuple(weights.shape)}. Hint: the scores "
                                               "are `q @ k.transpose(-2, -1)`.")
        if tuple(out.shape) != tuple(ref_out.shape):
            return _report(exercise_id, False, f"on {name} the output should have shape {tuple(ref_out.shape)}, "
                                               f"not {tuple(out.shape)}. Hint: output = weights @ v.")
        w_ok = torch.allclose(weights.detach().float(), ref_w, atol=1e-5)
        o_ok = torch.allclose(out.detach().float(), ref_out, atol=1e-5)
        if w_ok and o_ok:
            continue
        scores = cq @ ck.transpose(-2, -1)
        if cmask is not None:
            unmasked_out, unmasked_w = _reference_attention(cq, ck, cv)
            if torch.allclose(weights.detach().float(), unmasked_w, atol=1e-5):
                return _report(exercise_id, False, "the mask is ignored: padded keys still get weight. Set their "
                                                   "scores to -inf before the softmax, e.g. "
                                                   "`scores.masked_fill(~mask, float('-inf'))`.")
        masked_scores = scores if cmask is None else scores.masked_fill(~cmask, float("-inf"))
        if torch.allclose(weights.detach().float(), torch.softmax(masked_scores, -1), atol=1e-5):
            return _report(exercise_id, False, "the weights are not scaled: divide the scores by sqrt(d_k) = "
                                               f"sqrt({cq.size(-1)}) before the softmax.")
        if torch.allclose(weights.detach().float(), torch.softmax(masked_scores / math.sqrt(cq.size(-1)), -2),
                          atol=1e-5):
            return _report(exercise_id, False, "the softmax runs over the wrong axis: each *row* (one query, all "
                                               "keys) must sum to 1, so use `dim=-1`.")
        if w_ok:
            return _report(exercise_id, False, "the weights are right but the output is not: it is the weighted "
                                               "average of the values, `weights @ v`.")
        return _report(exercise_id, False, f"on {name} the weights differ from softmax(q k^T / sqrt(d_k)) (largest "
                                           f"difference {(weights.detach().float() - ref_w).abs().max():.2e}). "
                                           "Hint: check the transpose of k and the scaling.")
    return _report(exercise_id, True, f"correct on {len(cases)} inputs, the padding mask included: your attention "
                                      "matches softmax(q k^T / sqrt(d_k)) v.")


def _parts(model) -> tuple[Any, int, list[int], int, int]:
    """The base model, and the parameter counts of its embeddings, of each layer, of the pooler and of the head."""
    base = getattr(model, "base_model", model)
    if not hasattr(base, "encoder") or not hasattr(base, "embeddings"):
        raise TypeError("encoder_parameter_count needs a transformers BERT model (model=model)")

    def count(module) -> int:
        return 0 if module is None else sum(p.numel() for p in module.parameters())

    layers = [count(layer) for layer in base.encoder.layer]
    head = count(model) - count(base) if base is not model else 0
    return base, count(base.embeddings), layers, count(getattr(base, "pooler", None)), head


def encoder_parameter_count(answer: Any, *, model, exercise_id: str = "2.2") -> bool:
    """Exercise 2.2: the number of parameters of the encoder ``model.bert`` (embeddings + layers + pooler).

    The reference counts the real model's tensors. Recognises the usual omissions: the pooler, the position or
    segment tables, the LayerNorms, the biases; and the classification head counted in.
    """
    if model is None:
        raise TypeError("encoder_parameter_count needs the chapter's model: model=model")
    if answer is None:
        return _not_answered(exercise_id, "the number of parameters (an integer)")
    value = _as_number(answer)
    if value is None:
        return _report(exercise_id, False, f"the answer should be one integer, but it is a {_type_name(answer)}.")
    base, emb, layers, pooler, head = _parts(model)
    cfg = base.config
    d, d_ff, vocab = cfg.hidden_size, cfg.intermediate_size, cfg.vocab_size
    positions, segments, n_layers = cfg.max_position_embeddings, cfg.type_vocab_size, cfg.num_hidden_layers
    right = emb + sum(layers) + pooler
    if value == right:
        return _report(exercise_id, True, f"correct: {right:,} parameters = embeddings {emb:,} + {n_layers} layers "
                                          f"x {layers[0]:,} + pooler {pooler:,}. The token table alone is "
                                          f"{vocab * d / right:.0%} of it.")
    if value == right + head:
        return _report(exercise_id, False, f"this includes the classification head ({head:,} parameters), which "
                                           "sits on top of the encoder: count `model.bert` only.")
    layer_no_bias = 4 * d * d + 2 * d * d_ff
    slips = [
        (right - pooler, f"you left out the pooler: a {d} x {d} dense layer with a bias on top of [CLS]."),
        (sum(layers), "this is the layers only: add the embeddings (three tables and a LayerNorm) and the pooler."),
        (layers[0], "this is one layer; the encoder has "
                    f"{n_layers} of them, plus the embeddings and the pooler."),
        (right - positions * d, f"you left out the position table ({positions} x {d})."),
        (right - segments * d, f"you left out the segment (token type) table ({segments} x {d})."),
        (right - (positions + segments) * d, "you left out the position and segment tables."),
        (right - 2 * d, "you left out the embeddings' LayerNorm (a gain and a bias per feature)."),
        (right - n_layers * 4 * d, "you left out the two LayerNorms of every layer (gain and bias each)."),
        (right - n_layers * 4 * d - 2 * d, "you left out every LayerNorm (each has a gain and a bias per feature)."),
        (right - n_layers * (5 * d + d_ff) - d,
         "you left out the biases of the linear layers (four in attention, two in the FFN, one in the pooler)."),
        (vocab * d + n_layers * layer_no_bias, "this counts only the token table and the layers' weight matrices; "
                                              "add the other embeddings, biases, LayerNorms and the pooler."),
    ]
    for wrong, hint in slips:
        if value == wrong:
            return _report(exercise_id, False, f"not quite: {hint}")
    off = value - right
    return _report(exercise_id, False, f"{int(value) if value == int(value) else value:,} is off by {off:+,.0f}. "
                                       "Hint: embeddings = (vocabulary + positions + segments) x d_model + a "
                                       "LayerNorm; one layer = 4 attention matrices and biases, the FFN's two "
                                       "matrices and biases, two LayerNorms; then a pooler. Read the sizes from "
                                       "`model.config`.")


def previous_token_scores(answer: Any, *, att, layer: int = 0, exercise_id: str = "2.3") -> bool:
    """Exercise 2.3: for every head of ``layer``, the mean weight a word puts on the token just before it.

    "Words" are the tokens other than [CLS], [SEP] and [PAD] (the rows that :func:`helpers.attention.pattern_scores`
    counts). The answer is a sequence of one number per head. Recognises the next token instead of the previous
    one, the special tokens' rows included, a sum instead of a mean, and the whole (layers, heads) table.
    """
    import torch

    if att is None:
        raise TypeError("previous_token_scores needs the chapter's attention: att=att")
    if answer is None:
        return _not_answered(exercise_id, "one score per head (a list, array or tensor)")
    w = att.weights[layer]  # (heads, n, n)
    n_heads, n = w.shape[0], w.shape[-1]
    try:
        got = torch.as_tensor(np.asarray(answer.detach() if torch.is_tensor(answer) else answer, dtype=float))
    except (TypeError, ValueError):
        return _report(exercise_id, False, f"the answer should be {n_heads} numbers, one per head, not a "
                                           f"{_type_name(answer)}.")
    words = torch.tensor([t not in ("[CLS]", "[SEP]", "[PAD]") for t in att.tokens])
    rows = torch.arange(n)
    prev = torch.zeros(n_heads, n)
    prev[:, 1:] = w[:, rows[1:], rows[1:] - 1]
    nxt = torch.zeros(n_heads, n)
    nxt[:, :-1] = w[:, rows[:-1], rows[:-1] + 1]
    right = prev[:, words].mean(-1).double()
    if got.shape == (att.weights.shape[0], n_heads):
        return _report(exercise_id, False, f"this is a table for every layer; give the {n_heads} scores of layer "
                                           f"{layer} only.")
    if got.numel() != n_heads:
        return _report(exercise_id, False, f"give one score per head: {n_heads} numbers, not {got.numel()}.")
    got = got.reshape(-1)
    if torch.allclose(got, right, atol=1e-5):
        best = int(right.argmax())
        return _report(exercise_id, True, f"correct. In layer {layer}, head {best} attends most to the previous "
                                          f"token ({right[best]:.2f} of each word's attention on average).")
    slips = [(nxt[:, words].mean(-1), "this is the weight on the *next* token: the previous token of query i is "
                                       "key i - 1, `weights[h, i, i - 1]`."),
             (prev[:, 1:].mean(-1), "the rows of [CLS] and [SEP] are included: average over the word tokens only."),
             (prev[:, words].sum(-1), "this is a sum over the words: take the mean."),
             (prev.mean(-1), "the rows of [CLS] and [SEP] are included: average over the word tokens only.")]
    for wrong, hint in slips:
        if torch.allclose(got, wrong.double(), atol=1e-5):
            return _report(exercise_id, False, f"not quite: {hint}")
    return _report(exercise_id, False, "these are not the previous-token scores. Hint: for a word at position i, "
                                       f"take `att.weights[{layer}, h, i, i - 1]`, and average over the words "
                                       "(skip [CLS] and [SEP]).")


# ----------------------------------------------------------------------------------------------------
# Chapter 3
# ----------------------------------------------------------------------------------------------------

def masking_function(answer: Any, *, input_ids, tokenizer, max_rows: int = 4000,
                     exercise_id: str = "3.1") -> bool:
    """Exercise 3.1: a function ``my_mask_tokens(input_ids, tokenizer, generator)`` returning ``(masked, labels)``.

    BERT's rule: every token that is not special is chosen with probability 0.15; a chosen token becomes
    ``[MASK]`` with probability 0.8, a token drawn uniformly from the vocabulary with probability 0.1, and stays
    as it is otherwise; ``labels`` holds the original id at every chosen position and -100 elsewhere. The
    function runs on the first ``max_rows`` rows of ``input_ids`` (a padded batch): the rates must lie within 4
    binomial standard errors of their targets; special and padding tokens must never be chosen or changed, nor
    any position that was not chosen; the input must stay as it was; and the same generator seed must give the
    same result. Recognises labels only at ``[MASK]`` positions, the kept 10% without a label, the 80/10/10 split
    made with two independent draws, one fixed "random" token, swapped outputs and the global random generator.
    """
    import torch

    if input_ids is None or tokenizer is None:
        raise TypeError("masking_function needs the chapter's batch and tokenizer: input_ids=big, tokenizer=tokenizer")
    if (verdict := _function_guard(exercise_id, answer, "my_mask_tokens",
                                   "input_ids, tokenizer, generator")) is not None:
        return verdict
    original = torch.as_tensor(input_ids, dtype=torch.long)[:max_rows].clone()
    given = original.clone()
    ok, got = _call_student(exercise_id, answer, "my_mask_tokens", f"a batch of shape {tuple(original.shape)}",
                            given, tokenizer, torch.Generator().manual_seed(0))
    if not ok:
        return got
    if got is None:
        return _report(exercise_id, False, "your function returned None: return `masked, labels`.")
    if torch.is_tensor(got):
        return _report(exercise_id, False, "your function returned one tensor: return both, as "
                                           "`return masked, labels`.")
    try:
        masked, labels = got
        masked, labels = torch.as_tensor(masked), torch.as_tensor(labels)
    except (TypeError, ValueError, RuntimeError):
        return _report(exercise_id, False, f"your function should return a pair of tensors (masked, labels), not a "
                                           f"{_type_name(got)}.")
    if not torch.equal(given, original):
        return _report(exercise_id, False, "your function changed `input_ids` in place: work on a copy "
                                           "(`masked = input_ids.clone()`), since the labels need the originals.")
    for name, t in (("masked", masked), ("labels", labels)):
        if tuple(t.shape) != tuple(original.shape):
            return _report(exercise_id, False, f"`{name}` should have the shape of the input, "
                                               f"{tuple(original.shape)}, not {tuple(t.shape)}.")
    masked, labels = masked.long(), labels.long()
    if bool((masked == -100).any()) and not bool((labels == -100).any()):
        return _report(exercise_id, False, "the two results are in the wrong order: return `masked, labels`.")
    chosen = labels != -100
    if not bool(chosen.any()):
        return _report(exercise_id, False, "every label is -100, so nothing was chosen: choose each non-special "
                                           "token with probability 0.15.")
    if not bool((~chosen).any()):
        return _report(exercise_id, False, "no label is -100: the labels must be -100 at every position that was "
                                           "not chosen, so that the cross-entropy ignores them.")
    if not torch.equal(labels[chosen], original[chosen]):
        hint = ("the label is the corrupted input" if torch.equal(labels[chosen], masked[chosen])
                else "some labels differ from the original ids")
        return _report(exercise_id, False, f"{hint}: at a chosen position the label is the *original* token id "
                                           "(`input_ids`), the token the model must recover.")
    special = torch.isin(original, torch.tensor(sorted({tokenizer.cls_token_id, tokenizer.sep_token_id,
                                                        tokenizer.pad_token_id})))
    if bool((chosen & special).any()):
        return _report(exercise_id, False, f"{int((chosen & special).sum()):,} special or padding tokens ([CLS], "
                                           "[SEP], [PAD]) were chosen: only the other tokens may be chosen. Hint: "
                                           "`torch.isin(input_ids, torch.tensor(tokenizer.all_special_ids))`.")
    changed = masked != original
    if bool((changed & ~chosen).any()):
        n = int((changed & ~chosen).sum())
        hint = (" Every chosen position gets its label, also those replaced by a random token or kept as they "
                "are." if not bool((chosen & (masked != tokenizer.mask_token_id)).any()) else "")
        return _report(exercise_id, False, f"{n:,} positions with label -100 were changed: a position that is not "
                                           "chosen must stay as it is, and one that is changed must be labelled."
                                           f"{hint}")
    eligible = ~torch.isin(original, torch.tensor(sorted(set(tokenizer.all_special_ids))))
    n_eligible, n_chosen = int(eligible.sum()), max(1, int((chosen & eligible).sum()))
    is_mask = chosen & eligible & (masked == tokenizer.mask_token_id)
    is_random = chosen & eligible & changed & ~is_mask
    is_kept = chosen & eligible & ~changed
    rates = {"chosen": (int((chosen & eligible).sum()) / n_eligible, 0.15, n_eligible),
             "[MASK]": (int(is_mask.sum()) / n_chosen, 0.8, n_chosen),
             "random": (int(is_random.sum()) / n_chosen, 0.1, n_chosen),
             "kept": (int(is_kept.sum()) / n_chosen, 0.1, n_chosen)}
    shown = ", ".join(f"{k} {v[0]:.3f}" for k, v in rates.items())
    off = [k for k, (p, target, n) in rates.items() if abs(p - target) > 4 * math.sqrt(target * (1 - target) / n)]
    if off:
        p_mask, p_random, p_kept = rates["[MASK]"][0], rates["random"][0], rates["kept"][0]
        if p_kept < 0.01 and "chosen" in off and rates["chosen"][0] < 0.15:
            hint = ("no chosen token is kept as it is: the 10% left unchanged are chosen too, so they carry a label "
                    "and count in N.")
        elif abs(p_mask - 0.8) < 0.03 and abs(p_random - 0.02) < 0.01:
            hint = ("the random share is about 0.2 x 0.1: after masking 80%, the other 20% must be split half "
                    "and half. Draw one uniform number u per position: u < 0.8 -> [MASK], 0.8 <= u < 0.9 -> "
                    "random token, else keep.")
        elif "chosen" in off:
            hint = ("choose each non-special token independently with probability 0.15: "
                    "`torch.rand(shape, generator=generator) < 0.15`, and not the special tokens.")
        else:
            hint = ("of the chosen tokens, 80% become [MASK], 10% a random token and 10% stay as they are. Draw "
                    "one uniform number u per position: u < 0.8 -> [MASK], 0.8 <= u < 0.9 -> random, else keep.")
        return _report(exercise_id, False, f"the rates are off: {', '.join(off)} (measured {shown}; targets "
                                           f"0.15, 0.80, 0.10, 0.10, within 4 standard errors). Hint: {hint}")
    random_ids = masked[is_random]
    if bool(((random_ids < 0) | (random_ids >= len(tokenizer))).any()):
        return _report(exercise_id, False, f"some random tokens are not ids of the vocabulary (0 to "
                                           f"{len(tokenizer) - 1}): draw them with `torch.randint(len(tokenizer), "
                                           "...)`.")
    if random_ids.numel() >= 20 and random_ids.unique().numel() < 0.5 * random_ids.numel():
        return _report(exercise_id, False, f"the {random_ids.numel():,} random replacements use only "
                                           f"{random_ids.unique().numel()} different token(s): draw each one uniformly "
                                           "from the whole vocabulary, `torch.randint(len(tokenizer), ...)`.")
    small = original[:200]
    runs = []
    for seed in (1, 1, 2):
        ok, out = _call_student(exercise_id, answer, "my_mask_tokens", "a second call", small.clone(), tokenizer,
                                torch.Generator().manual_seed(seed))
        if not ok:
            return out
        runs.append(tuple(torch.as_tensor(t).long() for t in out))
    if not all(torch.equal(a, b) for a, b in zip(runs[0], runs[1])):
        return _report(exercise_id, False, "two calls with the same generator seed gave different results: draw "
                                           "every random number from `generator` (`torch.rand(..., "
                                           "generator=generator)`, `torch.randint(..., generator=generator)`).")
    if all(torch.equal(a, b) for a, b in zip(runs[0], runs[2])):
        return _report(exercise_id, False, "two different generator seeds gave the same result: use the "
                                           "`generator` passed in, rather than a fixed seed of your own.")
    return _report(exercise_id, True, f"correct: on {n_eligible:,} eligible tokens the rates are {shown} (targets "
                                      "0.15, 0.80, 0.10, 0.10); special and padding tokens are never chosen, every "
                                      "chosen position carries its original id, and a seed reproduces the result.")


def pretraining_losses_by_hand(answer: Any, *, batch, output, tokenizer=None, exercise_id: str = "3.2") -> bool:
    """Exercise 3.2: ``(mlm_loss, nsp_loss)`` computed by hand from a ``BertForPreTraining`` output and its batch.

    ``batch`` holds ``labels`` (-100 where there is no MLM target) and ``next_sentence_label``; ``output`` holds
    ``prediction_logits`` and ``seq_relationship_logits``. The MLM loss is the mean of -log softmax(logits)[label]
    over the N positions whose label is not -100; the NSP loss is the mean two-class cross-entropy. Recognises
    the slips: averaging over every position, only the ``[MASK]`` positions (with ``tokenizer``), a sum, a mean of
    per-sequence means, the softmax over the wrong axis, the sign, other log bases, NSP labels read the wrong way
    round, the two losses swapped, and their sum given as one number.
    """
    import torch

    if batch is None or output is None:
        raise TypeError("pretraining_losses_by_hand needs the batch and the model's output: batch=pair_batch, "
                        "output=out")
    if answer is None:
        return _not_answered(exercise_id, "the two losses, `answer = (mlm_loss, nsp_loss)`")
    logits = output.prediction_logits.detach().float()
    labels = batch["labels"]
    nsp_logits = output.seq_relationship_logits.detach().double()
    nsp_labels = batch["next_sentence_label"].reshape(-1)
    keep = labels != -100
    log_p = torch.log_softmax(logits[keep].double(), dim=-1).gather(1, labels[keep].unsqueeze(1)).squeeze(1)
    mlm = float(-log_p.mean())
    nsp_log_p = torch.log_softmax(nsp_logits, dim=-1)
    nsp = float(-nsp_log_p.gather(1, nsp_labels.unsqueeze(1)).mean())
    single = _as_number(answer)
    if single is not None:
        if _close(single, mlm + nsp, 1e-4):
            return _report(exercise_id, False, "this is the total L_MLM + L_NSP: give the two losses separately, "
                                               "`answer = (mlm_loss, nsp_loss)`.")
        return _report(exercise_id, False, "give the two losses as a pair, `answer = (mlm_loss, nsp_loss)`.")
    try:
        values = [_as_number(v) for v in answer]
    except TypeError:
        values = [None]
    if len(values) != 2 or any(v is None for v in values):
        return _report(exercise_id, False, f"the answer should be two numbers, `(mlm_loss, nsp_loss)`, not a "
                                           f"{_type_name(answer)}.")
    got_mlm, got_nsp = values
    if _close(got_mlm, nsp, 1e-4) and _close(got_nsp, mlm, 1e-4):
        return _report(exercise_id, False, "the two losses are swapped: `answer = (mlm_loss, nsp_loss)`.")
    mlm_ok, nsp_ok = _close(got_mlm, mlm, 1e-4), _close(got_nsp, nsp, 1e-4)
    if mlm_ok and nsp_ok:
        n = int(keep.sum())
        return _report(exercise_id, True, f"correct: L_MLM = {mlm:.4f} (the mean over the N = {n} chosen "
                                          f"positions, [MASK], random and kept alike), L_NSP = {nsp:.4f} (the mean "
                                          f"over {len(nsp_labels)} pairs); their sum is the pretraining loss "
                                          "BertForPreTraining returns.")
    if not mlm_ok:
        per_position = -log_p
        rows = keep.nonzero()[:, 0]
        per_sequence = torch.stack([per_position[rows == r].mean() for r in rows.unique()])
        slips = [
            (float(per_position.sum()) / labels.numel(), "this averages over every position of the batch: N counts "
                                                         "only the positions whose label is not -100."),
            (float(per_position.sum()), "this is a sum: divide by N, the number of labelled positions."),
            (float(per_sequence.mean()), "this is a mean of per-sequence means: average over all N labelled "
                                         "positions of the batch at once."),
            (-mlm, "the sign is wrong: the loss is *minus* the mean log-probability, a positive number."),
            (mlm / math.log(10), "this uses a base-10 logarithm; the loss uses the natural log."),
            (mlm / math.log(2), "this uses a base-2 logarithm; the loss uses the natural log."),
        ]
        if tokenizer is not None and "input_ids" in batch:
            only_mask = batch["input_ids"][keep] == tokenizer.mask_token_id
            if bool(only_mask.any()) and not bool(only_mask.all()):
                slips.insert(0, (float(per_position[only_mask].mean()),
                                 "this averages over the [MASK] positions only: N counts *every* chosen position "
                                 "(label not -100), also those that got a random token or stayed unchanged."))
        wrong_axis = torch.log_softmax(logits, dim=1)
        if logits.dim() == 3 and labels.dim() == 2:
            idx = labels.clamp(min=0).unsqueeze(-1)
            slips.append((float(-wrong_axis.gather(2, idx).squeeze(-1)[keep].double().mean()),
                          "the softmax runs over the wrong axis: over the vocabulary, `dim=-1`."))
        for wrong, hint in slips:
            if _close(got_mlm, wrong, 1e-4):
                return _report(exercise_id, False, f"the MLM loss is not right: {hint}")
        return _report(exercise_id, False, f"{got_mlm:.4f} is not the MLM loss. Hint: keep the positions whose "
                                           "label is not -100, take `torch.log_softmax(logits, dim=-1)` there, "
                                           "read the log-probability of each label (`.gather`), and average "
                                           "minus it.")
    flipped = float(-nsp_log_p.gather(1, (1 - nsp_labels).unsqueeze(1)).mean())
    nsp_slips = [(flipped, "the labels are read the wrong way round: label 0 is IsNext (column 0 of the logits) "
                           "and 1 is NotNext (column 1); gather with the labels as they are."),
                 (nsp * len(nsp_labels), "this is a sum: take the mean over the pairs."),
                 (-nsp, "the sign is wrong: the loss is *minus* the mean log-probability.")]
    for wrong, hint in nsp_slips:
        if _close(got_nsp, wrong, 1e-4):
            return _report(exercise_id, False, f"the MLM loss is right, but the NSP loss is not: {hint}")
    return _report(exercise_id, False, f"the MLM loss is right, but {got_nsp:.4f} is not the NSP loss. Hint: "
                                       "`torch.log_softmax` over the two logits of each pair, the log-probability "
                                       "of its label, minus the mean.")


NSP_CHECK_PAIRS: list[tuple[str, str]] = [
    ("The detective arrives at the old house.", "He finds the door unlocked."),
    ("A snoozefest.", "Not bad at all, really!"),
]


def pair_encoding_function(answer: Any, *, tokenizer, pairs=None, n_pairs: int = 30, exercise_id: str = "3.3") -> bool:
    """Exercise 3.3: a function ``encode_pair(sentence_a, sentence_b)`` returning ``(input_ids, token_type_ids)``.

    The reference is the tokenizer's own encoding of a pair, ``tokenizer(a, b)``: ``[CLS] A [SEP] B [SEP]``, with
    segment 0 for ``[CLS] A [SEP]`` and 1 for ``B [SEP]``. Runs the function on :data:`NSP_CHECK_PAIRS` and on the
    first ``n_pairs`` of ``pairs`` (the chapter's NSP pairs). Recognises tokens instead of ids, a missing
    ``[CLS]`` or ``[SEP]``, the middle ``[SEP]`` in segment 1, the last ``[SEP]`` in segment 0, segments numbered 1
    and 2, and one segment for everything.
    """
    import torch

    if tokenizer is None:
        raise TypeError("pair_encoding_function needs the chapter's tokenizer: tokenizer=tokenizer")
    if (verdict := _function_guard(exercise_id, answer, "encode_pair", "sentence_a, sentence_b")) is not None:
        return verdict
    cases = list(NSP_CHECK_PAIRS) + [(p["sentence_a"], p["sentence_b"]) for p in list(pairs or [])[:n_pairs]]
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    for a, b in cases:
        ok, got = _call_student(exercise_id, answer, "encode_pair", f"the pair ({a!r}, {b!r})", a, b)
        if not ok:
            return got
        ref = tokenizer(a, b)
        ids, types = list(ref["input_ids"]), list(ref["token_type_ids"])
        where = f"for A = {a!r} and B = {b!r}"
        if got is None:
            return _report(exercise_id, False, "your function returned None: return `input_ids, token_type_ids`.")
        if isinstance(got, dict):
            return _report(exercise_id, False, "return the two lists as a pair, `return input_ids, token_type_ids`, "
                                               "not a dict.")
        try:
            got_ids, got_types = got
            got_ids = [x for x in (got_ids.tolist() if torch.is_tensor(got_ids) else list(got_ids))]
            got_types = [x for x in (got_types.tolist() if torch.is_tensor(got_types) else list(got_types))]
        except (TypeError, ValueError):
            return _report(exercise_id, False, f"your function should return a pair of lists (input_ids, "
                                               f"token_type_ids), not a {_type_name(got)}.")
        if got_ids and all(isinstance(x, str) for x in got_ids):
            return _report(exercise_id, False, "your function returns tokens (strings): turn them into ids with "
                                               "`tokenizer.convert_tokens_to_ids`.")
        if got_ids == types and got_types == ids:
            return _report(exercise_id, False, "the two results are in the wrong order: return "
                                               "`input_ids, token_type_ids`.")
        if got_ids != ids:
            if got_ids == ids[1:]:
                hint = "the [CLS] token (`tokenizer.cls_token_id`) is missing at the start."
            elif got_ids == ids[:-1]:
                hint = "the [SEP] that ends B is missing."
            elif got_ids == [x for i, x in enumerate(ids) if not (x == sep and i < len(ids) - 1)]:
                hint = "the [SEP] between A and B is missing."
            elif got_ids[:1] == [cls] and got_ids.count(cls) > 1:
                hint = ("there is more than one [CLS]: `tokenizer.encode(text)` adds [CLS] and [SEP] itself; "
                        "use `tokenizer.tokenize` and `tokenizer.convert_tokens_to_ids`.")
            else:
                i = next((k for k, (x, y) in enumerate(zip(got_ids, ids)) if x != y), min(len(got_ids), len(ids)))
                expect = tokenizer.convert_ids_to_tokens(ids[i]) if i < len(ids) else "the end"
                hint = (f"the ids differ from the tokenizer's from position {i} on (expected {expect!r} there). The "
                        "layout is [CLS], the tokens of A, [SEP], the tokens of B, [SEP].")
            return _report(exercise_id, False, f"{where} the input ids are not right: {hint}")
        if len(got_types) != len(ids):
            return _report(exercise_id, False, f"{where} there are {len(ids)} tokens but {len(got_types)} segment ids: "
                                               "give one segment id per token.")
        if got_types == types:
            continue
        middle = ids.index(sep)
        if got_types == [t + 1 for t in types]:
            hint = "the segments are numbered 0 (first) and 1 (second), not 1 and 2."
        elif set(got_types) <= {0} or set(got_types) <= {1}:
            hint = "everything is in one segment: B and its [SEP] get segment 1."
        elif got_types == [1 if i == middle else t for i, t in enumerate(types)]:
            hint = "the [SEP] after A closes the first segment, so it gets 0; segment 1 starts after it."
        elif got_types == [0 if i == len(ids) - 1 else t for i, t in enumerate(types)]:
            hint = "the final [SEP] belongs to B's segment, so it gets 1."
        elif got_types == [1 - t for t in types]:
            hint = "the segments are the wrong way round: 0 for [CLS] A [SEP], 1 for B [SEP]."
        else:
            hint = "0 for [CLS], A's tokens and the [SEP] after them; 1 for B's tokens and the final [SEP]."
        return _report(exercise_id, False, f"{where} the input ids are right but the segment ids are not: {hint}")
    return _report(exercise_id, True, f"correct on {len(cases)} pairs: [CLS] A [SEP] B [SEP], with segment 0 up to "
                                      "and including the first [SEP] and 1 after it, exactly as `tokenizer(a, b)` "
                                      "encodes a pair.")


# ----------------------------------------------------------------------------------------------------
# Chapter 4
# ----------------------------------------------------------------------------------------------------

def _as_int_rows(value: Any) -> list[list[int]] | None:
    """A tensor, array or list of lists as a list of lists of ints; None if it is not such a table."""
    try:
        if hasattr(value, "detach"):
            value = value.detach().cpu().numpy()
        rows = np.asarray(value)
    except (TypeError, ValueError):
        return None
    if rows.ndim != 2 or rows.dtype == object:
        return None
    if rows.dtype == bool:
        rows = rows.astype(int)
    if not np.issubdtype(rows.dtype, np.number):
        return None
    if not np.all(np.equal(np.mod(rows, 1), 0)):
        return None
    return rows.astype(int).tolist()


def _pair_cases(tokenizer, texts, n_pairs: int) -> list[Any]:
    """Padded pair batches: the chapter's texts paired two by two, and a hand-made batch without padding."""
    texts = [t for t in list(texts or []) if isinstance(t, str)][:2 * n_pairs]
    cases = []
    if len(texts) >= 4:
        half = len(texts) // 2
        cases.append(tokenizer(texts[:half], texts[half:2 * half], padding=True, truncation=True, max_length=48,
                               return_tensors="pt"))
    cases.append(tokenizer(["A fine film.", "Dull."], ["Not bad at all, really.", "Two hours lost."], padding=True,
                           return_tensors="pt"))
    cases.append(tokenizer(["Good."], ["Very good."], padding=True, return_tensors="pt"))
    return cases


def pair_masks_function(answer: Any, *, tokenizer, texts=None, n_pairs: int = 16, exercise_id: str = "4.1") -> bool:
    """Exercise 4.1: ``pair_masks(input_ids, sep_id, pad_id) -> (attention_mask, token_type_ids)`` for a padded
    batch of sentence pairs, each row ``[CLS] A [SEP] B [SEP] [PAD] ...``.

    The reference is the tokenizer's own output for the same batch: mask 1 on every real token (special tokens
    included) and 0 on padding; segment 0 up to and including the first ``[SEP]``, 1 for B and its ``[SEP]``, and
    0 again on padding (BERT's ``pad_token_type_id``). Recognises the mask inverted, padding in segment 1, the
    first ``[SEP]`` in segment 1, the last ``[SEP]`` in segment 0, one segment for everything, and the two
    results swapped.
    """
    if tokenizer is None:
        raise TypeError("pair_masks_function needs the chapter's tokenizer: tokenizer=tokenizer")
    if (verdict := _function_guard(exercise_id, answer, "pair_masks", "input_ids, sep_id, pad_id")) is not None:
        return verdict
    cases = _pair_cases(tokenizer, texts, n_pairs)
    sep, pad = tokenizer.sep_token_id, tokenizer.pad_token_id
    for enc in cases:
        ids = enc["input_ids"]
        shape = tuple(ids.shape)
        given = ids.clone()
        ok, got = _call_student(exercise_id, answer, "pair_masks", f"a padded batch of shape {shape}", given, sep,
                                pad)
        if not ok:
            return got
        if got is None:
            return _report(exercise_id, False, "your function returned None: return `attention_mask, "
                                               "token_type_ids`.")
        if not bool((given == ids).all()):
            return _report(exercise_id, False, "your function changed `input_ids` in place: build new tensors.")
        try:
            mask, types = got
        except (TypeError, ValueError):
            return _report(exercise_id, False, f"your function should return a pair (attention_mask, "
                                               f"token_type_ids), not a {_type_name(got)}.")
        mask, types = _as_int_rows(mask), _as_int_rows(types)
        if mask is None or types is None:
            return _report(exercise_id, False, "both results should be tables of 0s and 1s with the shape of "
                                               f"`input_ids` {shape} (tensors, arrays or lists of lists).")
        ref_mask, ref_types = enc["attention_mask"].tolist(), enc["token_type_ids"].tolist()
        if (np.shape(mask), np.shape(types)) != (shape, shape):
            return _report(exercise_id, False, f"both results should have the shape of `input_ids`, {shape}; yours "
                                               f"have {np.shape(mask)} and {np.shape(types)}.")
        if mask == ref_types and types == ref_mask and mask != types:
            return _report(exercise_id, False, "the two results are in the wrong order: return "
                                               "`attention_mask, token_type_ids`.")
        has_padding = any(0 in row for row in ref_mask)
        where = f"on a batch of {shape[0]} pairs" + (" with padding" if has_padding else " without padding")
        if mask != ref_mask:
            if mask == [[1 - x for x in row] for row in ref_mask]:
                hint = "it is inverted: 1 marks a real token (attend to it) and 0 a padding position."
            elif all(x == 1 for row in mask for x in row):
                hint = "it is all 1s, but the padding positions (`pad_id`) must get 0."
            else:
                hint = ("1 for every position that is not padding ([CLS] and [SEP] included), 0 where "
                        "`input_ids == pad_id`.")
            return _report(exercise_id, False, f"{where} the attention mask is not right: {hint}")
        if types == ref_types:
            continue
        rows = [(list(r), t, m) for r, t, m in zip(ids.tolist(), types, ref_types)]
        if all(g == [1 if i > 0 and (sep in r[:i]) else e for i, e in enumerate(e_row)] for r, g, e_row in rows):
            hint = ("the padding positions got segment 1: padding gets segment 0 (the tokenizer's "
                    "`pad_token_type_id`), and the attention mask hides it anyway.")
        elif all(all(x == 0 for x in g) for _, g, _ in rows) or all(all(x == 1 for x in g) for _, g, _ in rows):
            hint = "everything is in one segment: B and its [SEP] get segment 1."
        elif all(g == [1 if i == r.index(sep) else e for i, e in enumerate(e_row)] for r, g, e_row in rows):
            hint = "the [SEP] after A closes the first segment, so it gets 0; segment 1 starts after it."
        elif all(g == [0 if (x == sep and i != r.index(sep)) else e for i, (x, e) in enumerate(zip(r, e_row))]
                 for r, g, e_row in rows):
            hint = "the final [SEP] belongs to B's segment, so it gets 1."
        else:
            hint = ("0 up to and including the first [SEP], 1 from there up to and including the second [SEP], "
                    "0 on the padding after it.")
        return _report(exercise_id, False, f"{where} the attention mask is right but the token type ids are not: "
                                           f"{hint}")
    return _report(exercise_id, True, f"correct on {len(cases)} padded pair batches: your attention masks and "
                                      "token type ids are exactly the tokenizer's (segment 0 for [CLS] A [SEP], 1 "
                                      "for B [SEP], padding masked out and in segment 0).")


def _linear_warmup_lr(t: float, peak_lr: float, warmup_steps: int, total_steps: int) -> float:
    """transformers' get_linear_schedule_with_warmup after ``t`` scheduler steps."""
    if t < warmup_steps:
        return peak_lr * t / max(1, warmup_steps)
    return peak_lr * max(0.0, (total_steps - t) / max(1, total_steps - warmup_steps))


def learning_rate_function(answer: Any, *, steps=None, peak_lr=None, warmup_steps=None,
                           exercise_id: str = "4.2") -> bool:
    """Exercise 4.2: ``lr_at(t, peak_lr, warmup_steps, total_steps)``, the linear warm-up and decay schedule.

    ``t`` counts the optimiser steps already taken (0 for the first step), as transformers'
    ``get_linear_schedule_with_warmup`` does: the rate rises as ``peak * t / warmup`` and then falls as
    ``peak * (total - t) / (total - warmup)``, reaching 0 at ``t = total``. Tested on a grid of settings and, when
    given, on the chapter's recorded rates (``steps``, a ``TrainResult.steps`` table whose step ``s`` used
    ``lr_at(s - 1)``). Recognises an off-by-one step count, a decay over all the steps instead of those after
    warm-up, no warm-up, a constant rate, and a result in the wrong unit.
    """
    if (verdict := _function_guard(exercise_id, answer, "lr_at", "t, peak_lr, warmup_steps, total_steps")) is not None:
        return verdict
    settings = [(1e-4, 6, 100), (2e-5, 10, 40), (5e-5, 1, 8), (3e-5, 0, 20)]
    recorded = None
    if steps is not None and peak_lr is not None and warmup_steps is not None:
        recorded = (float(peak_lr), int(warmup_steps), len(steps), [float(x) for x in steps["lr"]])
        settings.insert(0, recorded[:3])
    for peak, warm, total in settings:
        for t in range(total + 1):
            right = _linear_warmup_lr(t, peak, warm, total)
            ok, got = _call_student(exercise_id, answer, "lr_at", f"t = {t} (peak {peak:g}, warm-up {warm}, total "
                                    f"{total})", t, peak, warm, total)
            if not ok:
                return got
            value = _as_number(got)
            if value is None:
                return _report(exercise_id, False, f"`lr_at` should return one number, not a {_type_name(got)}.")
            if abs(value - right) <= 1e-6 * peak:
                continue
            where = f"with peak {peak:g}, {warm} warm-up steps and {total} steps in all, lr_at({t})"
            shifted = _linear_warmup_lr(t + 1, peak, warm, total)
            decay_all = peak * t / max(1, warm) if t < warm else peak * max(0.0, (total - t) / total)
            no_warmup = peak * max(0.0, (total - t) / total)
            constant = False
            if abs(value - peak) <= 1e-6 * peak:  # the peak here: is it the peak at the last step too?
                ok, last = _call_student(exercise_id, answer, "lr_at", f"t = {total}", total, peak, warm, total)
                if not ok:
                    return last
                last = _as_number(last)
                constant = last is not None and abs(last - peak) <= 1e-6 * peak
            if constant:
                hint = "this is a constant rate, the peak at every step: it rises during warm-up, then falls to 0."
            elif abs(value - shifted) <= 1e-6 * peak:
                hint = ("this is one step ahead: t counts the steps already taken, so the first step (t = 0) uses "
                        "rate 0 when there is a warm-up, and the peak is reached at t = warmup_steps.")
            elif abs(value - decay_all) <= 1e-6 * peak:
                hint = ("the decay runs over the steps *after* warm-up: peak * (total - t) / (total - warmup), "
                        "which is the peak at t = warmup and 0 at t = total.")
            elif abs(value - no_warmup) <= 1e-6 * peak and warm > 0 and t < warm:
                hint = "there is no warm-up: during the first warmup_steps steps the rate climbs as peak * t / warmup."
            elif right > 0 and (abs(value / right - 100) < 1e-6 or abs(value * 100 / right - 1) < 1e-6):
                hint = "this is off by a factor of 100: return the rate itself, not a percentage."
            elif warm == 0 and not math.isfinite(value):
                hint = "with warmup_steps = 0 there is no warm-up phase; avoid dividing by zero."
            else:
                hint = ("during warm-up (t < warmup_steps) the rate is peak * t / warmup_steps; after it, peak * "
                        "(total - t) / (total - warmup_steps); never below 0.")
            return _report(exercise_id, False, f"{where} should be {right:.6g}, not {value:.6g}: {hint}")
    if recorded is not None:
        peak, warm, total, rates = recorded
        ours = [_linear_warmup_lr(s, peak, warm, total) for s in range(total)]
        if not np.allclose(rates, ours, rtol=1e-6, atol=1e-15):  # the chapter's run used another schedule
            raise ValueError("the recorded rates do not follow the linear schedule with these settings; pass the "
                             "training run's peak rate and warm-up steps.")
        return _report(exercise_id, True, f"correct: your schedule gives every one of the {total} rates the "
                                          f"chapter's run recorded (peak {peak:g} after {warm} warm-up step{'s' if warm != 1 else ''}, 0 at the "
                                          "end), and agrees with transformers' linear schedule on other settings.")
    return _report(exercise_id, True, "correct: your schedule agrees with transformers' linear warm-up and decay on "
                                      "every step of several settings.")


# ----------------------------------------------------------------------------------------------------
# Chapter 5
# ----------------------------------------------------------------------------------------------------

def class_scores_by_hand(answer: Any, *, y_true, y_pred, names, label: str, exercise_id: str = "5.1") -> bool:
    """Exercise 5.1: ``(precision, recall, f1)`` of the class ``label`` from the confusion matrix of ``y_true``
    and ``y_pred`` (class ids; ``names`` maps them to class names).

    The reference is scikit-learn's ``precision_recall_fscore_support`` for that class (with ``zero_division=0``).
    Recognises precision and recall swapped (a column read as a row), the accuracy, F1 as the arithmetic mean, the
    macro averages, another class's scores and percentages.
    """
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    if y_true is None or y_pred is None or names is None:
        raise TypeError("class_scores_by_hand needs the chapter's labels and predictions: y_true=..., y_pred=..., "
                        "names=...")
    names = list(names)
    if label not in names:
        raise ValueError(f"{label!r} is not one of the classes {names}.")
    if answer is None:
        return _not_answered(exercise_id, "the three numbers, `answer = (precision, recall, f1)`")
    try:
        values = [_as_number(v) for v in answer]
    except TypeError:
        values = [None]
    if len(values) != 3 or any(v is None for v in values):
        return _report(exercise_id, False, f"the answer should be three numbers, `(precision, recall, f1)`, not a "
                                           f"{_type_name(answer)}.")
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    labels = list(range(len(names)))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    c = names.index(label)
    right = (float(p[c]), float(r[c]), float(f[c]))
    got_p, got_r, got_f = values

    def same(a, b):
        return all(_close(x, y, 1e-6) for x, y in zip(a, b))

    if same(values, right):
        n_pred = int(np.sum(y_pred == c))
        said = (f"of the {n_pred} predicted {label}, the share that are {label}" if n_pred else
                f"nothing was predicted {label}, so 0 by convention")
        return _report(exercise_id, True, f"correct: for {label}, precision = {right[0]:.4f} ({said}), recall = "
                                          f"{right[1]:.4f} (of the {int(s[c])} that are {label}, the share found), "
                                          f"F1 = {right[2]:.4f}.")
    if same(values, [100 * x for x in right]):
        return _report(exercise_id, False, "these are percentages: give fractions between 0 and 1.")
    if same(values, (right[1], right[0], right[2])) and not _close(right[0], right[1], 1e-6):
        return _report(exercise_id, False, "precision and recall are swapped. In `confusion_matrix(y_true, y_pred)` "
                                           "the rows are the true classes and the columns the predictions: "
                                           "precision = TP / (column sum), recall = TP / (row sum).")
    hints = []
    if not _close(got_p, right[0], 1e-6) and not _close(got_p, right[1], 1e-6):
        if _close(got_p, float(accuracy_score(y_true, y_pred)), 1e-6):
            hints.append("the precision is the overall accuracy: use the column of this class only")
        elif _close(got_p, float(np.mean(p)), 1e-6):
            hints.append("the precision is the macro average over all classes: give this class's only")
        elif any(_close(got_p, float(x), 1e-6) for x in p):
            hints.append("the precision is another class's: check the index of "
                         f"{label!r} in the class names ({names.index(label)})")
    if not _close(got_r, right[1], 1e-6) and not _close(got_r, right[0], 1e-6):
        if _close(got_r, float(np.mean(r)), 1e-6):
            hints.append("the recall is the macro average: give this class's only")
        elif any(_close(got_r, float(x), 1e-6) for x in r):
            hints.append(f"the recall is another class's: check the index of {label!r}")
    if _close(got_p, right[0], 1e-6) and _close(got_r, right[1], 1e-6) and not _close(got_f, right[2], 1e-6):
        if _close(got_f, (right[0] + right[1]) / 2, 1e-6):
            hints.append("F1 is the harmonic mean 2PR / (P + R), not the arithmetic mean (P + R) / 2")
        else:
            hints.append("precision and recall are right, but F1 = 2PR / (P + R) = 2TP / (2TP + FP + FN)")
    if not hints:
        hints.append(f"from `cm = confusion_matrix(y_true, y_pred)` and c = {c} (the index of {label!r}): TP = "
                     "cm[c, c], FP = the rest of column c, FN = the rest of row c")
    return _report(exercise_id, False, f"not quite: {'; '.join(hints)}.")


def _check_probs_labels(probs, labels):
    probs = np.asarray(probs, dtype=float)
    labels = np.asarray(labels)
    if probs.ndim != 2 or len(probs) != len(labels):
        raise ValueError("probs must be an (n, classes) array with one row per label")
    return probs, labels


def ece_function(answer: Any, *, probs, labels, n_bins: int = 10, exercise_id: str = "5.2") -> bool:
    """Exercise 5.2: ``my_ece(probs, labels, n_bins)``, the expected calibration error with equal-width bins.

    The reference is :func:`helpers.evaluate.expected_calibration_error`: the top-label confidence cut into
    ``n_bins`` equal-width bins of [0, 1], then ``sum_b (n_b / n) |accuracy_b - confidence_b|``. Tested on the
    chapter's probabilities (and their temperature-scaled version, when given as a list of pairs) and on random
    ones with three classes. Recognises the probability of class 1 used instead of the top-label confidence, an
    unweighted mean over the bins, empty bins counted, the absolute value forgotten, and a single overall gap.
    """
    import helpers.evaluate as ev

    if probs is None or labels is None:
        raise TypeError("ece_function needs the chapter's probabilities and labels: probs=test_probs, labels=y_test")
    if (verdict := _function_guard(exercise_id, answer, "my_ece", "probs, labels, n_bins")) is not None:
        return verdict
    probs, labels = _check_probs_labels(probs, labels)
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(400, 3)) * 2.0
    random_probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    random_labels = np.where(rng.random(400) < 0.7, random_probs.argmax(axis=1), rng.integers(0, 3, 400))
    cases = [("the chapter's test probabilities", probs, labels, n_bins),
             ("random three-class probabilities, 10 bins", random_probs, random_labels, 10),
             ("random three-class probabilities, 5 bins", random_probs, random_labels, 5)]
    for name, cp, cl, nb in cases:
        ok, got = _call_student(exercise_id, answer, "my_ece", name, cp.copy(), cl.copy(), nb)
        if not ok:
            return got
        value = _as_number(got)
        if value is None:
            return _report(exercise_id, False, f"`my_ece` should return one number, not a {_type_name(got)}.")
        right = ev.expected_calibration_error(cp, cl, nb)
        if _close(value, right, 1e-6):
            continue
        bins = ev.reliability_bins(cp, cl, nb)
        full = bins[bins["count"] > 0]
        conf, correct = cp.max(axis=1), (cp.argmax(axis=1) == cl)
        slips = [(float(full["gap"].abs().mean()), "this is the plain mean over the bins: weight each bin by its "
                                                   "share of the examples, n_b / n."),
                 (float(np.nan_to_num(bins["gap"].abs()).sum() / nb), "the empty bins are counted: skip them, and "
                                                                       "weight each bin by n_b / n."),
                 (float((full["count"] / full["count"].sum() * full["gap"]).sum()),
                  "the absolute value is missing: an over-confident bin and an under-confident one must not cancel."),
                 (abs(float(conf.mean() - correct.mean())), "this is the overall gap |accuracy - mean confidence|: "
                                                          "compute the gap in each bin, then the weighted mean.")]
        if cp.shape[1] == 2:
            b_ids = np.clip(np.ceil(cp[:, 1] * nb).astype(int) - 1, 0, nb - 1)
            total = 0.0
            for b in range(nb):
                sel = b_ids == b
                if sel.any():
                    total += sel.mean() * abs(np.mean(cl[sel] == 1) - cp[sel, 1].mean())
            slips.append((float(total), "this bins the probability of class 1; ECE uses the top-label confidence, "
                                        "`probs.max(axis=1)`, and whether the *predicted* class is right."))
        for wrong, hint in slips:
            if _close(value, wrong, 1e-6):
                return _report(exercise_id, False, f"on {name}: {hint}")
        return _report(exercise_id, False, f"on {name} the ECE is {right:.4f}, not {value:.4f}. Hint: confidence = "
                                           "`probs.max(axis=1)`, correct = (`probs.argmax(axis=1) == labels`); bin b "
                                           "holds the confidences in (b / n_bins, (b + 1) / n_bins] (the first also "
                                           "0); ECE = sum over non-empty bins of (n_b / n) |accuracy_b - "
                                           "confidence_b|.")
    return _report(exercise_id, True, f"correct on {len(cases)} inputs: your ECE matches "
                                      "helpers.evaluate.expected_calibration_error (equal-width bins of the top-label "
                                      "confidence, each weighted by its share of the examples).")


# ----------------------------------------------------------------------------------------------------
# Chapter 6
# ----------------------------------------------------------------------------------------------------

def head_tail_function(answer: Any, *, token_lists=None, budget: int = 126, exercise_id: str = "6.1") -> bool:
    """Exercise 6.1: ``head_tail(ids, budget, head_tokens)``, the head+tail truncation of a list of token ids.

    A list that fits (``len(ids) <= budget``) is returned whole; a longer one becomes its first ``head_tokens`` ids
    followed by its last ``budget - head_tokens``. The reference is :func:`helpers.long_text.truncate_ids`. Tested
    on the chapter's articles (``token_lists``) with a quarter of ``budget`` from the head, and on edge cases: a
    list that fits exactly, ``head_tokens`` 0 and equal to ``budget``. Recognises the ``ids[-0:]`` slip (the whole
    list), a short text cut or padded, the tail too long or too short, and head and tail swapped.
    """
    from helpers.long_text import truncate_ids

    if (verdict := _function_guard(exercise_id, answer, "head_tail", "ids, budget, head_tokens")) is not None:
        return verdict
    long_list = list(range(1000, 1040))
    cases = [(list(ids), budget, budget // 4, "an article of the chapter") for ids in list(token_lists or [])[:40]]
    cases += [(long_list, 10, 3, "40 ids, budget 10, head 3"), (long_list, 10, 0, "40 ids, budget 10, head 0"),
              (long_list, 10, 10, "40 ids, budget 10, head 10"), (long_list[:10], 10, 3, "10 ids, budget 10 (fits)"),
              (long_list[:4], 10, 3, "4 ids, budget 10 (fits)"), (long_list[:11], 10, 3, "11 ids, budget 10")]
    for ids, b, h, name in cases:
        given = list(ids)
        ok, got = _call_student(exercise_id, answer, "head_tail", name, given, b, h)
        if not ok:
            return got
        if given != ids:
            return _report(exercise_id, False, "your function changed its input list: build and return a new one.")
        if got is None:
            return _report(exercise_id, False, "your function returned None: return the truncated list.")
        try:
            got = [int(x) for x in (got.tolist() if hasattr(got, "tolist") else got)]
        except (TypeError, ValueError):
            return _report(exercise_id, False, f"your function should return a list of ids, not a "
                                               f"{_type_name(got)}.")
        right = truncate_ids(ids, b, "head+tail", head_tokens=h)
        if got == right:
            continue
        where = f"on {name} (len {len(ids)}, budget {b}, head_tokens {h})"
        if len(ids) <= b:
            hint = "a list that fits in the budget is returned whole, unchanged."
        elif h == b and got == ids[:h] + ids:
            hint = ("with head_tokens == budget the tail is empty, but `ids[-0:]` is the whole list: use "
                    "`ids[len(ids) - (budget - head_tokens):]`.")
        elif got == ids[len(ids) - (b - h):] + ids[:h]:
            hint = "head and tail are swapped: the first head_tokens ids come first."
        elif len(got) != b:
            hint = f"the result has {len(got)} ids; it must have exactly budget = {b}."
        elif got[:h] != ids[:h]:
            hint = f"the first {h} ids must be the first {h} of the text."
        else:
            hint = f"the last {b - h} ids must be the last {b - h} of the text."
        return _report(exercise_id, False, f"{where}: {hint}")
    n_chapter = len(cases) - 6
    return _report(exercise_id, True, f"correct on {len(cases)} inputs ({n_chapter} of the chapter's articles and the "
                                      "edge cases): your truncation matches helpers.long_text.truncate_ids.")


def distillation_loss_function(answer: Any, *, student_logits=None, teacher_logits=None, labels=None,
                               exercise_id: str = "6.2") -> bool:
    """Exercise 6.2: ``my_distillation_loss(student_logits, teacher_logits, labels, temperature, alpha)``.

    ``alpha * T^2 * KL(softmax(teacher / T) || softmax(student / T)) + (1 - alpha) * CE(student, labels)``, the
    KL summed over the classes and averaged over the batch; the reference is
    :func:`helpers.compress.distillation_loss`. Tested on the chapter's logits (when given) and on random ones,
    with several temperatures and alphas. Recognises a missing T^2, the KL the wrong way round, the student's
    logits not divided by T, the cross-entropy on tempered logits, a sum or an element-wise mean instead of the
    batch mean, and alpha on the wrong term.
    """
    import torch
    import torch.nn.functional as F

    from helpers.compress import distillation_loss

    if (verdict := _function_guard(exercise_id, answer, "my_distillation_loss",
                                   "student_logits, teacher_logits, labels, temperature, alpha")) is not None:
        return verdict
    gen = torch.Generator().manual_seed(0)
    rs, rt = torch.randn(6, 3, generator=gen) * 2, torch.randn(6, 3, generator=gen) * 2
    rl = torch.randint(3, (6,), generator=gen)
    cases = [("random logits (6 texts, 3 classes), T = 2, alpha = 0.5", rs, rt, rl, 2.0, 0.5),
             ("random logits, T = 4, alpha = 0.9", rs, rt, rl, 4.0, 0.9),
             ("random logits, T = 1, alpha = 0.0", rs, rt, rl, 1.0, 0.0),
             ("random logits, T = 3, alpha = 1.0", rs, rt, rl, 3.0, 1.0)]
    if student_logits is not None and teacher_logits is not None and labels is not None:
        cases.insert(0, ("the chapter's logits, T = 2, alpha = 0.5", torch.as_tensor(student_logits).float(),
                         torch.as_tensor(teacher_logits).float(), torch.as_tensor(np.asarray(labels)).long(), 2.0,
                         0.5))
    for name, s, t, y, temp, alpha in cases:
        ok, got = _call_student(exercise_id, answer, "my_distillation_loss", name, s.clone(), t.clone(), y.clone(),
                                temp, alpha)
        if not ok:
            return got
        value = _as_number(got.detach() if hasattr(got, "detach") else got)
        if value is None:
            return _report(exercise_id, False, f"`my_distillation_loss` should return one number (a 0-d tensor or a "
                                               f"float), not a {_type_name(got)}.")
        right = float(distillation_loss(s, t, y, temperature=temp, alpha=alpha))
        if _close(value, right, 1e-4):
            continue
        log_ps, log_pt = F.log_softmax(s / temp, -1), F.log_softmax(t / temp, -1)
        kl = (log_pt.exp() * (log_pt - log_ps)).sum(-1)
        kl_rev = (log_ps.exp() * (log_ps - log_pt)).sum(-1)
        log_ps_raw = F.log_softmax(s, -1)
        kl_raw = (log_pt.exp() * (log_pt - log_ps_raw)).sum(-1)
        ce, ce_t = F.cross_entropy(s, y), F.cross_entropy(s / temp, y)
        n, k = s.shape
        slips = [
            (alpha * float(kl.mean()) + (1 - alpha) * float(ce), "the T^2 factor is missing: multiply the KL term "
                                                               "by temperature ** 2 (it keeps its gradients on the "
                                                               "scale of the label term's)."),
            (alpha * temp ** 2 * float(kl_rev.mean()) + (1 - alpha) * float(ce),
             "the KL runs the wrong way: KL(teacher || student) = sum p_teacher * (log p_teacher - log p_student). "
             "(`F.kl_div(input, target)` takes the *student's* log-probabilities as input.)"),
            (alpha * temp ** 2 * float(kl_raw.mean()) + (1 - alpha) * float(ce),
             "the student's logits must be divided by T too before the softmax."),
            (alpha * temp ** 2 * float(kl.mean()) + (1 - alpha) * float(ce_t),
             "the label term uses the plain logits: CE(student_logits, labels), without the temperature."),
            (alpha * temp ** 2 * float(kl.sum()) + (1 - alpha) * float(ce) * n,
             "this is a sum over the batch: take the mean over the texts."),
            (alpha * temp ** 2 * float(kl.sum()) / (n * k) + (1 - alpha) * float(ce),
             "the KL is averaged over every element (`reduction='mean'`): sum over the classes, then average over "
             "the texts (`reduction='batchmean'`)."),
            ((1 - alpha) * temp ** 2 * float(kl.mean()) + alpha * float(ce),
             "alpha weights the wrong term: alpha goes with the teacher's (soft) term, 1 - alpha with the labels."),
        ]
        for wrong, hint in slips:
            if _close(value, wrong, 1e-4) and not _close(wrong, right, 1e-4):
                return _report(exercise_id, False, f"on {name}: {hint}")
        return _report(exercise_id, False, f"on {name} the loss is {right:.4f}, not {value:.4f}. Hint: p^T = "
                                           "softmax(logits / T); soft = sum over classes of p_teacher^T (log "
                                           "p_teacher^T - log p_student^T), averaged over the texts, times T^2; "
                                           "loss = alpha * soft + (1 - alpha) * CE(student_logits, labels).")
    return _report(exercise_id, True, f"correct on {len(cases)} inputs: your loss matches "
                                      "helpers.compress.distillation_loss for several temperatures and alphas "
                                      "(alpha = 1: teacher only; alpha = 0: labels only).")


# ----------------------------------------------------------------------------------------------------
# The registry
# ----------------------------------------------------------------------------------------------------

EXERCISES: dict[str, Callable[..., bool]] = {
    "1.1": idf_by_hand,
    "1.2": macro_f1_by_hand,
    "1.3": mark_negation_function,
    "2.1": attention_function,
    "2.2": encoder_parameter_count,
    "2.3": previous_token_scores,
    "3.1": masking_function,
    "3.2": pretraining_losses_by_hand,
    "3.3": pair_encoding_function,
    "4.1": pair_masks_function,
    "4.2": learning_rate_function,
    "5.1": class_scores_by_hand,
    "5.2": ece_function,
    "6.1": head_tail_function,
    "6.2": distillation_loss_function,
}


def exercise(exercise_id: str, answer: Any, **context: Any) -> bool:
    """Check the answer to exercise ``exercise_id`` (e.g. ``"1.2"``); prints a message and returns True or False.

    ``context`` holds the chapter's objects the checker needs (see each checker's signature in :data:`EXERCISES`).
    """
    key = str(exercise_id).strip()
    if key not in EXERCISES:
        raise KeyError(f"unknown exercise {exercise_id!r}; the exercises are {', '.join(EXERCISES)}.")
    checker = EXERCISES[key]
    accepted = inspect.signature(checker).parameters
    unknown = sorted(set(context) - set(accepted) - {"exercise_id"})
    if unknown:
        raise TypeError(f"exercise {key} does not take {', '.join(unknown)}; it takes "
                        f"{', '.join(p for p in accepted if p not in ('answer', 'exercise_id'))}.")
    missing = [name for name, p in accepted.items()
               if p.kind is p.KEYWORD_ONLY and p.default is p.empty and name not in context]
    if missing:
        raise TypeError(f"exercise {key} needs the chapter's {', '.join(missing)} (pass {missing[0]}=...).")
    return checker(answer, exercise_id=key, **context)
