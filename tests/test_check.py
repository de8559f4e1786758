"""helpers.check: every checker accepts the reference solution and rejects the typical wrong answers with a hint.

The references are computed independently here, with scikit-learn (idf, F1), torch (attention) and the tensors of a
small random BERT (parameter counts), so the checkers are tested against the libraries, not against themselves.
A checker must never raise because of the answer: None (the student notebooks' stub), a wrong type, or a function
that raises all give False and a message.
"""

import math

import numpy as np
import pytest
import torch
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.pipeline import make_pipeline

import helpers.attention as attn
import helpers.check as check

TEXTS = ["A predictable plot, but fun.", "Predictable and dull; predictable again.", "A fine film.",
         "Nothing here is predictable!", "Dull, dull, dull.", "The acting was fine.", "Fun and fine."]


def verdict(capsys, fn, *args, **kwargs):
    ok = fn(*args, **kwargs)
    out = capsys.readouterr().out
    assert isinstance(ok, bool)
    assert out.startswith("✓" if ok else "✗"), out
    assert all(len(line) <= 110 for line in out.splitlines()), "messages are wrapped for the page"
    return ok, " ".join(out.split())  # one line, for matching the hints


# ---------------------------------------------------------------------------------------------- 1.1 idf

def sklearn_idf(word="predictable"):
    vec = TfidfVectorizer().fit(TEXTS)
    return float(vec.idf_[vec.vocabulary_[word]])


def test_idf_accepts_the_scikit_learn_value(capsys):
    ok, out = verdict(capsys, check.exercise, "1.1", sklearn_idf(), texts=TEXTS)
    assert ok and "correct" in out
    ok, _ = verdict(capsys, check.exercise, "1.1", np.float32(sklearn_idf()), texts=TEXTS)  # NumPy scalars too
    assert ok


@pytest.mark.parametrize("wrong, hint", [
    (lambda n, df: math.log(n / df) + 1, "adds 1 to both n and df"),
    (lambda n, df: math.log((1 + n) / (1 + df)), "ends with + 1"),
    (lambda n, df: math.log10((1 + n) / (1 + df)) + 1, "base-10"),
    (lambda n, df: float(df), "this is df"),
    (lambda n, df: df / n, "share of texts"),
    (lambda n, df: math.log((1 + n) / (1 + 4)) + 1, "not how often it occurs"),  # 4 occurrences, 3 texts
    (lambda n, df: 2.5, "Hint"),
])
def test_idf_recognises_typical_slips(capsys, wrong, hint):
    analyzer = CountVectorizer().build_analyzer()
    n, df = len(TEXTS), sum("predictable" in analyzer(t) for t in TEXTS)
    assert (n, df) == (7, 3)
    ok, out = verdict(capsys, check.idf_by_hand, wrong(n, df), texts=TEXTS)
    assert not ok and hint in out


@pytest.mark.parametrize("answer, hint", [(None, "no answer yet"), ("1.5", "one number"), ([1.0, 2.0], "one number"),
                                          (True, "one number")])
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


@pytest.mark.parametrize("kind, hint", [("accuracy", "accuracy"), ("weighted", "weighted"), ("class0", "class 0"),
                                        ("percent", "percentage"), ("other", "Hint"), ("above1", "between 0 and 1")])
def test_macro_f1_recognises_typical_slips(capsys, three_classes, kind, hint):
    model, data, y, p = three_classes
    value = {"accuracy": accuracy_score(y, p), "weighted": f1_score(y, p, average="weighted"),
             "class0": f1_score(y, p, average=None)[0], "percent": 100 * f1_score(y, p, average="macro"),
             "other": 0.123, "above1": 1.7}[kind]
    ok, out = verdict(capsys, check.macro_f1_by_hand, value, model=model, data=data)
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


@pytest.mark.parametrize("fn, hint", [
    (None, "no answer yet"), ("not a function", "pass the function"), (_not_written, "not written yet"),
    (_in_place, "in place"), (lambda words: None, "forget the `return`"), (_no_scope_end, "Punctuation is never marked"),
    (_marks_negation_word, "negation word itself"), (_first_word_only, "not only the first"),
    (_crashes, "IndexError"), (lambda words: [w.upper() for w in words], "should be"),
    (lambda words: words + ["!"], "one item per input item"),
])
def test_negation_recognises_typical_mistakes(capsys, fn, hint):
    ok, out = verdict(capsys, check.mark_negation_function, fn)
    assert not ok and hint in out


# ---------------------------------------------------------------------------------------------- 2.1 attention

def good_attention(q, k, v, mask=None):
    scores = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    if mask is not None:
        scores = scores.masked_fill(~mask, float("-inf"))
    w = torch.softmax(scores, dim=-1)
    return w @ v, w


def test_attention_accepts_the_reference_and_the_books_function(capsys):
    q, k, v = torch.randn(1, 2, 4, 8), torch.randn(1, 2, 4, 8), torch.randn(1, 2, 4, 8)
    ok, out = verdict(capsys, check.exercise, "2.1", good_attention, q=q, k=k, v=v)
    assert ok and "3 inputs" in out
    ok, _ = verdict(capsys, check.exercise, "2.1", attn.scaled_dot_product_attention)
    assert ok


def test_reference_agrees_with_torch():
    q, k, v = torch.randn(2, 3, 5, 8), torch.randn(2, 3, 6, 8), torch.randn(2, 3, 6, 4)
    mask = torch.ones(2, 1, 1, 6, dtype=torch.bool)
    mask[1, ..., 4:] = False
    out, _ = check._reference_attention(q, k, v, mask)
    torch.testing.assert_close(out, torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask))


def _unscaled(q, k, v, mask=None):
    s = q @ k.transpose(-2, -1)
    if mask is not None:
        s = s.masked_fill(~mask, float("-inf"))
    w = torch.softmax(s, -1)
    return w @ v, w


def _wrong_axis(q, k, v, mask=None):
    s = q @ k.transpose(-2, -1) / math.sqrt(q.size(-1))
    w = torch.softmax(s, -2)
    return w @ v, w


def _ignores_mask(q, k, v, mask=None):
    return good_attention(q, k, v)


def _swapped(q, k, v, mask=None):
    out, w = good_attention(q, k, v, mask)
    return w, out


def _not_written_attention(q, k, v, mask=None):
    raise NotImplementedError("write my_attention here")


@pytest.mark.parametrize("fn, hint", [
    (None, "no answer yet"), (_not_written_attention, "not written yet"), (_unscaled, "not scaled"),
    (_wrong_axis, "wrong axis"), (_ignores_mask, "mask is ignored"), (_swapped, "wrong order"),
    (lambda q, k, v, mask=None: good_attention(q, k, v, mask)[0], "one tensor"),
    (lambda q, k, v, mask=None: (2 * good_attention(q, k, v, mask)[0], good_attention(q, k, v, mask)[1]),
     "output is not"),
    (lambda q, k, v: good_attention(q, k, v), "TypeError"),  # no mask argument
])
def test_attention_recognises_typical_mistakes(capsys, fn, hint):
    q, k, v = torch.randn(1, 2, 4, 8), torch.randn(1, 2, 4, 8), torch.randn(1, 2, 4, 6)
    ok, out = verdict(capsys, check.attention_function, fn, q=q, k=k, v=v)
    assert not ok and hint in out


# ---------------------------------------------------------------------------------------------- 2.2 parameters

@pytest.fixture(scope="module")
def tiny_bert():
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=97, hidden_size=16, num_hidden_layers=3, num_attention_heads=2, intermediate_size=40,
                     max_position_embeddings=33, type_vocab_size=3)
    return BertForSequenceClassification(cfg)


def formula(cfg):
    d, f = cfg.hidden_size, cfg.intermediate_size
    emb = (cfg.vocab_size + cfg.max_position_embeddings + cfg.type_vocab_size) * d + 2 * d
    layer = 4 * (d * d + d) + (d * f + f) + (f * d + d) + 4 * d
    return emb, layer, d * d + d


def test_parameter_count_accepts_the_true_count(capsys, tiny_bert):
    true = sum(p.numel() for p in tiny_bert.bert.parameters())
    emb, layer, pooler = formula(tiny_bert.config)
    assert emb + 3 * layer + pooler == true  # the book's formula is right for transformers' BertModel
    ok, out = verdict(capsys, check.exercise, "2.2", true, model=tiny_bert)
    assert ok and "3 layers" in out
    ok, _ = verdict(capsys, check.exercise, "2.2", torch.tensor(true), model=tiny_bert.bert)  # a BertModel works too
    assert ok


@pytest.mark.parametrize("kind, hint", [
    ("head", "classification head"), ("no_pooler", "pooler"), ("layers", "layers only"), ("one_layer", "one layer"),
    ("no_positions", "position table"), ("no_segments", "segment"), ("no_layer_norms", "LayerNorms of every layer"),
    ("no_biases", "biases"), ("no_embedding_norm", "embeddings' LayerNorm"), ("other", "off by"), ("text", "one integer"), ("none", "no answer yet"),
])
def test_parameter_count_recognises_typical_omissions(capsys, tiny_bert, kind, hint):
    cfg = tiny_bert.config
    d, f = cfg.hidden_size, cfg.intermediate_size
    emb, layer, pooler = formula(cfg)
    true = emb + 3 * layer + pooler
    value = {"head": sum(p.numel() for p in tiny_bert.parameters()), "no_pooler": true - pooler,
             "layers": 3 * layer, "one_layer": layer, "no_positions": true - 33 * d, "no_segments": true - 3 * d,
             "no_layer_norms": true - 3 * 4 * d, "no_biases": true - 3 * (4 * d + f + d) - d, "other": true + 7,
             "no_embedding_norm": true - 2 * d, "text": "many", "none": None}[kind]
    ok, out = verdict(capsys, check.encoder_parameter_count, value, model=tiny_bert)
    assert not ok and hint in out


# ---------------------------------------------------------------------------------------------- 2.3 previous token

@pytest.fixture(scope="module")
def fake_att():
    torch.manual_seed(0)
    tokens = ["[CLS]", "the", "film", "was", "fine", ".", "[SEP]"]
    weights = torch.softmax(torch.randn(2, 3, 7, 7), dim=-1)
    return attn.Attentions(tokens, weights, torch.arange(7))


def test_previous_token_accepts_pattern_scores(capsys, fake_att):
    right = attn.pattern_scores([fake_att])["previous token"][0]
    ok, out = verdict(capsys, check.exercise, "2.3", right, att=fake_att)
    assert ok and "head" in out
    ok, _ = verdict(capsys, check.exercise, "2.3", right.tolist(), att=fake_att)
    assert ok
    ok, _ = verdict(capsys, check.exercise, "2.3", attn.pattern_scores([fake_att])["previous token"][1], att=fake_att,
                    layer=1)
    assert ok


@pytest.mark.parametrize("kind, hint", [("next", "next"), ("with_specials", "[CLS] and [SEP]"), ("sum", "sum"),
                                        ("table", "every layer"), ("short", "one score per head"), ("other", "Hint"),
                                        ("none", "no answer yet"), ("text", "numbers")])
def test_previous_token_recognises_typical_mistakes(capsys, fake_att, kind, hint):
    w = fake_att.weights[0]
    words = [1, 2, 3, 4, 5]
    value = {"next": [w[h, words, [i + 1 for i in words]].mean().item() for h in range(3)],
             "with_specials": [np.mean([w[h, i, i - 1].item() for i in range(1, 7)]) for h in range(3)],
             "sum": [w[h, words, [i - 1 for i in words]].sum().item() for h in range(3)],
             "table": attn.pattern_scores([fake_att])["previous token"], "short": [0.1, 0.2],
             "other": [0.5, 0.5, 0.5], "none": None, "text": "head 2"}[kind]
    ok, out = verdict(capsys, check.previous_token_scores, value, att=fake_att)
    assert not ok and hint in out


def test_registry_lists_one_checker_per_exercise():
    assert list(check.EXERCISES) == ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3"]
    assert all(callable(fn) and fn.__doc__ for fn in check.EXERCISES.values())
