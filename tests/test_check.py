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
    assert list(check.EXERCISES) == ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "3.1", "3.2", "3.3", "4.1", "4.2",
                                     "5.1", "5.2", "6.1", "6.2"]
    assert all(callable(fn) and fn.__doc__ for fn in check.EXERCISES.values())


# ---------------------------------------------------------------------------------------------- 3.1 masking

REVIEWS = ["A predictable plot, but fun.", "Predictable and dull; predictable again and again, sadly.",
           "A fine film with a fine cast.", "Nothing here is predictable! The ending surprised me completely.",
           "Dull, dull, dull.", "The acting was fine, the music was not."]


@pytest.fixture(scope="module")
def review_ids(tokenizer):
    """4,800 padded rows of real text (about 50,000 eligible tokens), with [CLS], [SEP] and [PAD] in every row."""
    return tokenizer(REVIEWS * 800, padding=True, return_tensors="pt")["input_ids"]


def _specials(input_ids, tokenizer):
    return torch.isin(input_ids, torch.tensor(tokenizer.all_special_ids))


def good_mask_tokens(input_ids, tokenizer, generator):
    chosen = (torch.rand(input_ids.shape, generator=generator) < 0.15) & ~_specials(input_ids, tokenizer)
    action = torch.rand(input_ids.shape, generator=generator)
    masked = input_ids.clone()
    masked[chosen & (action < 0.8)] = tokenizer.mask_token_id
    to_random = chosen & (action >= 0.8) & (action < 0.9)
    masked[to_random] = torch.randint(len(tokenizer), (int(to_random.sum()),), generator=generator)
    return masked, torch.where(chosen, input_ids, torch.full_like(input_ids, -100))


def test_masking_accepts_the_reference_and_the_books_function(capsys, tokenizer, review_ids):
    import helpers.pretraining as pt

    ok, out = verdict(capsys, check.exercise, "3.1", good_mask_tokens, input_ids=review_ids, tokenizer=tokenizer)
    assert ok and "0.15, 0.80, 0.10, 0.10" in out
    ok, _ = verdict(capsys, check.masking_function,
                    lambda ids, tok, gen: pt.mask_tokens(ids, tok, generator=gen), input_ids=review_ids,
                    tokenizer=tokenizer)
    assert ok


def _variant(kind):
    """good_mask_tokens with one typical mistake."""
    def fn(input_ids, tokenizer, generator):
        if kind == "global_rng":
            generator = None
        elif kind == "fixed_seed":
            generator = torch.Generator().manual_seed(123)
        eligible = ~_specials(input_ids, tokenizer)
        if kind == "specials_chosen":
            eligible = input_ids != tokenizer.pad_token_id
        chosen = (torch.rand(input_ids.shape, generator=generator) < (0.25 if kind == "rate" else 0.15)) & eligible
        action = torch.rand(input_ids.shape, generator=generator)
        to_mask = chosen & (action < 0.8)
        if kind == "two_draws":  # mask 80%, then 10% of the rest: the random share becomes 2%
            to_random = chosen & ~to_mask & (torch.rand(input_ids.shape, generator=generator) < 0.1)
        else:
            to_random = chosen & (action >= 0.8) & (action < 0.9)
        masked = input_ids if kind == "in_place" else input_ids.clone()
        masked[to_mask] = tokenizer.mask_token_id
        masked[to_random] = (1000 if kind == "fixed_random"
                             else torch.randint(len(tokenizer), (int(to_random.sum()),), generator=generator))
        labelled = {"mask_only": to_mask, "no_kept_label": to_mask | to_random}.get(kind, chosen)
        labels = torch.where(labelled, input_ids, torch.full_like(input_ids, -100))
        if kind == "labels_corrupted":
            labels = torch.where(labelled, masked, labels)
        if kind == "no_ignore":
            labels = input_ids.clone()
        return (labels, masked) if kind == "swapped" else (masked, labels)
    return fn


def _not_written_mask(input_ids, tokenizer, generator):
    raise NotImplementedError("write my_mask_tokens here")


@pytest.mark.parametrize("fn, hint", [
    (None, "no answer yet"), ("my_mask_tokens", "pass the function"), (_not_written_mask, "not written yet"),
    (lambda ids, tok: None, "TypeError"), (lambda ids, tok, gen: None, "returned None"),
    (lambda ids, tok, gen: ids.clone(), "one tensor"),
    (_variant("swapped"), "wrong order"), (_variant("in_place"), "in place"),
    (_variant("no_ignore"), "no label is -100"), (_variant("labels_corrupted"), "*original* token"),
    (_variant("specials_chosen"), "special or padding tokens"),
    (_variant("mask_only"), "also those replaced by a random token"),
    (_variant("no_kept_label"), "the 10% left unchanged are chosen too"),
    (_variant("two_draws"), "split half and half"), (_variant("rate"), "probability 0.15"),
    (_variant("fixed_random"), "different token(s)"), (_variant("global_rng"), "same generator seed"),
    (_variant("fixed_seed"), "rather than a fixed seed"),
])
def test_masking_recognises_typical_mistakes(capsys, tokenizer, review_ids, fn, hint):
    before = review_ids.clone()
    ok, out = verdict(capsys, check.masking_function, fn, input_ids=review_ids, tokenizer=tokenizer)
    assert not ok and hint in out
    assert torch.equal(review_ids, before), "the checker works on a copy of the chapter's batch"


def test_masking_rates_are_checked_independently(tokenizer, review_ids):
    """The checker's eligible tokens and rates agree with helpers.pretraining.masking_statistics."""
    import helpers.pretraining as pt

    masked, labels = good_mask_tokens(review_ids, tokenizer, torch.Generator().manual_seed(0))
    stats = pt.masking_statistics(review_ids, masked, labels, tokenizer)
    for key, target in [("chosen_rate", 0.15), ("mask_rate", 0.8), ("random_rate", 0.1), ("kept_rate", 0.1)]:
        assert abs(stats[key] - target) <= 4 * stats[key + "_se"]


# ---------------------------------------------------------------------------------------------- 3.2 losses

@pytest.fixture(scope="module")
def pretraining_output():
    """A tiny BertForPreTraining, a batch with MLM labels (some at [MASK], some not) and NSP labels, its output."""
    from transformers import BertConfig, BertForPreTraining

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                     max_position_embeddings=16)
    model = BertForPreTraining(cfg).eval()
    input_ids = torch.randint(5, 50, (4, 9))
    labels = torch.full_like(input_ids, -100)
    chosen = torch.zeros_like(input_ids, dtype=torch.bool)
    chosen[:, [2, 5]] = True
    chosen[0, 7] = True  # sequences with different numbers of chosen positions
    labels[chosen] = input_ids[chosen]
    input_ids[:, 2] = 4  # [MASK] is id 4 here; the positions 5 and 7 keep or get another token
    batch = {"input_ids": input_ids, "labels": labels, "next_sentence_label": torch.tensor([0, 1, 1, 0]),
             "attention_mask": torch.ones_like(input_ids), "token_type_ids": torch.zeros_like(input_ids)}
    with torch.no_grad():
        out = model(**batch)
    return batch, out


def test_losses_accept_the_torch_values(capsys, pretraining_output):
    from types import SimpleNamespace

    batch, out = pretraining_output
    F = torch.nn.functional
    mlm = F.cross_entropy(out.prediction_logits.view(-1, 50), batch["labels"].view(-1), ignore_index=-100)
    nsp = F.cross_entropy(out.seq_relationship_logits, batch["next_sentence_label"])
    torch.testing.assert_close(mlm + nsp, out.loss)  # transformers' own pretraining loss
    tok = SimpleNamespace(mask_token_id=4)
    ok, text = verdict(capsys, check.exercise, "3.2", (mlm.item(), nsp.item()), batch=batch, output=out,
                       tokenizer=tok)
    assert ok and "N = 9" in text
    ok, _ = verdict(capsys, check.exercise, "3.2", [mlm, nsp], batch=batch, output=out)  # tensors, no tokenizer
    assert ok


@pytest.mark.parametrize("kind, hint", [
    ("none", "no answer yet"), ("text", "two numbers"), ("sum", "give the two losses separately"),
    ("one", "as a pair"), ("swapped", "swapped"), ("mask_only", "[MASK] positions only"),
    ("all_positions", "every position"), ("mlm_sum", "this is a sum"), ("per_sequence", "per-sequence"),
    ("sign", "sign"), ("log10", "base-10"), ("axis", "wrong axis"), ("other", "not the MLM loss"),
    ("nsp_flipped", "wrong way round"), ("nsp_sum", "mean over the pairs"), ("nsp_other", "not the NSP loss"),
])
def test_losses_recognise_typical_slips(capsys, pretraining_output, kind, hint):
    from types import SimpleNamespace

    batch, out = pretraining_output
    logits, labels, nsp_y = out.prediction_logits, batch["labels"], batch["next_sentence_label"]
    keep = labels != -100
    per_position = -torch.log_softmax(logits, -1).gather(2, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    mlm = per_position[keep].mean().item()
    nsp_lp = torch.log_softmax(out.seq_relationship_logits, -1)
    nsp = -nsp_lp.gather(1, nsp_y.unsqueeze(1)).mean().item()
    at_mask = keep & (batch["input_ids"] == 4)
    axis1 = -torch.log_softmax(logits, 1).gather(2, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    value = {"none": None, "text": "low", "sum": mlm + nsp, "one": 3.0, "swapped": (nsp, mlm),
             "mask_only": (per_position[at_mask].mean().item(), nsp),
             "all_positions": ((per_position * keep).sum().item() / labels.numel(), nsp),
             "mlm_sum": (per_position[keep].sum().item(), nsp),
             "per_sequence": (torch.stack([per_position[r][keep[r]].mean() for r in range(4)]).mean().item(), nsp),
             "sign": (-mlm, nsp), "log10": (mlm / math.log(10), nsp), "axis": (axis1[keep].mean().item(), nsp),
             "other": (mlm + 0.5, nsp), "nsp_flipped": (mlm, -nsp_lp.gather(1, (1 - nsp_y).unsqueeze(1)).mean().item()),
             "nsp_sum": (mlm, 4 * nsp), "nsp_other": (mlm, nsp + 0.3)}[kind]
    ok, text = verdict(capsys, check.pretraining_losses_by_hand, value, batch=batch, output=out,
                       tokenizer=SimpleNamespace(mask_token_id=4))
    assert not ok and hint in text


# ---------------------------------------------------------------------------------------------- 3.3 segment ids

def make_encode_pair(tokenizer, kind="right"):
    def encode_pair(sentence_a, sentence_b):
        a = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(sentence_a))
        b = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(sentence_b))
        cls, sep = [tokenizer.cls_token_id], [tokenizer.sep_token_id]
        if kind == "tokens":
            return ["[CLS]", *tokenizer.tokenize(sentence_a), "[SEP]", *tokenizer.tokenize(sentence_b), "[SEP]"], []
        if kind == "no_cls":
            return a + sep + b + sep, [0] * (len(a) + 1) + [1] * (len(b) + 1)
        if kind == "no_last_sep":
            return cls + a + sep + b, [0] * (len(a) + 2) + [1] * len(b)
        if kind == "encode_twice":
            return tokenizer.encode(sentence_a) + tokenizer.encode(sentence_b), []
        ids = cls + a + sep + b + sep
        types = {"right": [0] * (len(a) + 2) + [1] * (len(b) + 1),
                 "one_two": [1] * (len(a) + 2) + [2] * (len(b) + 1),
                 "all_zero": [0] * len(ids),
                 "middle_sep": [0] * (len(a) + 1) + [1] * (len(b) + 2),
                 "last_sep": [0] * (len(a) + 2) + [1] * len(b) + [0],
                 "reversed": [1] * (len(a) + 2) + [0] * (len(b) + 1),
                 "short": [0] * (len(a) + 2) + [1] * len(b)}.get(kind, None)
        if types is None:  # "swapped", "tensor": the right segment ids, returned differently
            types = [0] * (len(a) + 2) + [1] * (len(b) + 1)
        if kind == "swapped":
            return types, ids
        if kind == "tensor":
            return torch.tensor(ids), torch.tensor(types)
        return ids, types
    return encode_pair


@pytest.fixture(scope="module")
def nsp_pairs(tokenizer):
    import helpers.pretraining as pt

    docs = ["Dr. Smith arrives in a small town. He finds the mayor missing! Nobody will talk to him.",
            "A young chef opens a restaurant in Paris. Her first review is a disaster. She cooks for her critics."]
    return pt.make_nsp_pairs(docs, tokenizer, seed=0)


def test_pair_encoding_accepts_the_reference(capsys, tokenizer, nsp_pairs):
    for p in nsp_pairs:  # the reference matches the pairs helpers.pretraining builds (untruncated here)
        assert list(make_encode_pair(tokenizer)(p["sentence_a"], p["sentence_b"])[1]) == p["token_type_ids"]
    ok, out = verdict(capsys, check.exercise, "3.3", make_encode_pair(tokenizer), tokenizer=tokenizer, pairs=nsp_pairs)
    assert ok and f"{len(nsp_pairs) + 2} pairs" in out
    ok, _ = verdict(capsys, check.exercise, "3.3", make_encode_pair(tokenizer, "tensor"), tokenizer=tokenizer)
    assert ok
    ok, _ = verdict(capsys, check.exercise, "3.3",
                    lambda a, b: (tokenizer(a, b)["input_ids"], tokenizer(a, b)["token_type_ids"]), tokenizer=tokenizer)
    assert ok


def _not_written_pair(sentence_a, sentence_b):
    raise NotImplementedError("write encode_pair here")


@pytest.mark.parametrize("kind, hint", [
    ("tokens", "tokens (strings)"), ("no_cls", "[CLS] token"), ("no_last_sep", "ends B is missing"),
    ("encode_twice", "more than one [CLS]"), ("one_two", "not 1 and 2"), ("all_zero", "one segment"),
    ("middle_sep", "closes the first segment"), ("last_sep", "final [SEP] belongs to B"),
    ("reversed", "wrong way round"), ("short", "one segment id per token"), ("swapped", "wrong order"),
])
def test_pair_encoding_recognises_typical_mistakes(capsys, tokenizer, nsp_pairs, kind, hint):
    ok, out = verdict(capsys, check.pair_encoding_function, make_encode_pair(tokenizer, kind), tokenizer=tokenizer,
                      pairs=nsp_pairs)
    assert not ok and hint in out


@pytest.mark.parametrize("fn, hint", [(None, "no answer yet"), (_not_written_pair, "not written yet"),
                                      ("encode_pair", "pass the function"), (lambda a, b: None, "returned None"),
                                      (lambda a, b: {"input_ids": []}, "not a dict"), (lambda a: a, "TypeError"),
                                      (lambda a, b: 7, "pair of lists")])
def test_pair_encoding_non_answers(capsys, tokenizer, fn, hint):
    ok, out = verdict(capsys, check.pair_encoding_function, fn, tokenizer=tokenizer)
    assert not ok and hint in out


# ---------------------------------------------------------------------------------------------- 4.1 pair masks

PAIR_TEXTS = REVIEWS + ["Good.", "A slow, long, and in the end rather pointless film about nothing much at all.",
                        "Fun.", "The cast is great; the script is not."]


def make_pair_masks(kind="right"):
    def pair_masks(input_ids, sep_id, pad_id):
        ids = input_ids.tolist()
        masks, types = [], []
        for row in ids:
            mask = [0 if x == pad_id else 1 for x in row]
            first = row.index(sep_id)
            seps = [i for i, x in enumerate(row) if x == sep_id]
            last = seps[1] if len(seps) > 1 else len(row) - 1
            seg = [1 if first < i <= last else 0 for i in range(len(row))]
            if kind == "pad_one":
                seg = [1 if i > first else 0 for i in range(len(row))]
            elif kind == "middle_sep":
                seg = [1 if first <= i <= last else 0 for i in range(len(row))]
            elif kind == "last_sep":
                seg = [1 if first < i < last else 0 for i in range(len(row))]
            elif kind == "all_zero":
                seg = [0] * len(row)
            elif kind == "inverted":
                mask = [1 - m for m in mask]
            elif kind == "all_ones":
                mask = [1] * len(row)
            masks.append(mask)
            types.append(seg)
        if kind == "swapped":
            return torch.tensor(types), torch.tensor(masks)
        if kind == "lists":
            return masks, types
        if kind == "one":
            return torch.tensor(masks)
        return torch.tensor(masks), torch.tensor(types)

    return pair_masks


def test_pair_masks_accepts_the_reference(capsys, tokenizer):
    enc = tokenizer(PAIR_TEXTS[:5], PAIR_TEXTS[5:], padding=True, return_tensors="pt")
    mask, types = make_pair_masks()(enc["input_ids"], tokenizer.sep_token_id, tokenizer.pad_token_id)
    assert torch.equal(mask, enc["attention_mask"]) and torch.equal(types, enc["token_type_ids"])  # the tokenizer's
    assert (enc["attention_mask"] == 0).any(), "the test batch has padding"
    ok, out = verdict(capsys, check.exercise, "4.1", make_pair_masks(), tokenizer=tokenizer, texts=PAIR_TEXTS)
    assert ok and "3 padded pair batches" in out
    ok, _ = verdict(capsys, check.exercise, "4.1", make_pair_masks("lists"), tokenizer=tokenizer)
    assert ok


def _not_written_pair_masks(input_ids, sep_id, pad_id):
    raise NotImplementedError("write pair_masks here")


@pytest.mark.parametrize("kind, hint", [
    ("pad_one", "padding positions got segment 1"), ("middle_sep", "closes the first segment"),
    ("last_sep", "final [SEP] belongs to B"), ("all_zero", "one segment"), ("inverted", "inverted"),
    ("all_ones", "must get 0"), ("swapped", "wrong order"), ("one", "pair (attention_mask, token_type_ids)"),
])
def test_pair_masks_recognises_typical_mistakes(capsys, tokenizer, kind, hint):
    ok, out = verdict(capsys, check.pair_masks_function, make_pair_masks(kind), tokenizer=tokenizer, texts=PAIR_TEXTS)
    assert not ok and hint in out


@pytest.mark.parametrize("fn, hint", [(None, "no answer yet"), (_not_written_pair_masks, "not written yet"),
                                      ("pair_masks", "pass the function"), (lambda i, s, p: None, "returned None"),
                                      (lambda i, s: i, "TypeError"), (lambda i, s, p: ("a", "b"), "tables of 0s")])
def test_pair_masks_non_answers(capsys, tokenizer, fn, hint):
    ok, out = verdict(capsys, check.pair_masks_function, fn, tokenizer=tokenizer)
    assert not ok and hint in out


def test_pair_masks_needs_the_tokenizer():
    with pytest.raises(TypeError, match="tokenizer"):
        check.exercise("4.1", make_pair_masks())


# ---------------------------------------------------------------------------------------------- 4.2 schedule

def good_lr_at(t, peak_lr, warmup_steps, total_steps):
    if t < warmup_steps:
        return peak_lr * t / warmup_steps
    return peak_lr * max(0.0, (total_steps - t) / (total_steps - warmup_steps))


def transformers_rates(peak, warmup, total):
    """The rates transformers' scheduler gives the optimiser steps 1..total (what helpers.train records)."""
    import pandas as pd
    from transformers import get_linear_schedule_with_warmup

    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=peak)
    sched = get_linear_schedule_with_warmup(opt, warmup, total)
    rates = []
    for _ in range(total):
        rates.append(sched.get_last_lr()[0])
        opt.step()
        sched.step()
    return pd.DataFrame({"step": range(1, total + 1), "lr": rates})


def test_schedule_accepts_the_reference(capsys):
    steps = transformers_rates(1e-4, 3, 40)
    assert np.allclose([good_lr_at(t, 1e-4, 3, 40) for t in range(40)], steps["lr"], rtol=1e-9)  # = transformers
    ok, out = verdict(capsys, check.exercise, "4.2", good_lr_at, steps=steps, peak_lr=1e-4, warmup_steps=3)
    assert ok and "40 rates" in out
    ok, _ = verdict(capsys, check.exercise, "4.2", lambda t, p, w, n: np.float32(good_lr_at(t, p, w, n)) * 1.0)
    assert ok


def test_schedule_rejects_a_recording_of_another_schedule():
    with pytest.raises(ValueError, match="do not follow"):
        check.learning_rate_function(good_lr_at, steps=transformers_rates(1e-4, 3, 40), peak_lr=1e-4, warmup_steps=5)


@pytest.mark.parametrize("fn, hint", [
    (lambda t, p, w, n: good_lr_at(t + 1, p, w, n), "one step ahead"),
    (lambda t, p, w, n: p * t / w if t < w else p * (n - t) / n, "steps *after* warm-up"),
    (lambda t, p, w, n: p * (n - t) / n, "no warm-up"),
    (lambda t, p, w, n: p, "constant rate"),
    (lambda t, p, w, n: 100 * good_lr_at(t, p, w, n), "factor of 100"),
    (lambda t, p, w, n: p * t / w if t < w else p * (n - t) / (n - w) * 0.9, "never below 0"),
])
def test_schedule_recognises_typical_slips(capsys, fn, hint):
    ok, out = verdict(capsys, check.exercise, "4.2", fn, steps=transformers_rates(1e-4, 3, 40), peak_lr=1e-4,
                      warmup_steps=3)
    assert not ok and hint in out


def test_schedule_zero_warmup_does_not_crash_the_checker(capsys):
    ok, out = verdict(capsys, check.exercise, "4.2", lambda t, p, w, n: p * min(t / w, (n - t) / (n - w)))
    # right whenever warmup_steps > 0, but divides by zero without warm-up
    assert not ok and "ZeroDivisionError" in out


@pytest.mark.parametrize("fn, hint", [(None, "no answer yet"), ("lr_at", "pass the function"),
                                      (lambda t, p, w, n: [p], "one number"), (lambda t: t, "TypeError")])
def test_schedule_non_answers(capsys, fn, hint):
    ok, out = verdict(capsys, check.exercise, "4.2", fn)
    assert not ok and hint in out


# ---------------------------------------------------------------------------------------------- 5.1 one class

TOPICS = ["business", "entertainment", "politics", "sport", "tech"]


@pytest.fixture(scope="module")
def topic_predictions():
    rng = np.random.default_rng(1)
    y_true = rng.integers(0, 5, 300)
    y_pred = np.where(rng.random(300) < 0.7, y_true, rng.integers(0, 5, 300))
    y_pred[(y_true == 0) & (rng.random(300) < 0.3)] = 4  # business often taken for tech
    return y_true, y_pred


def by_hand_from_cm(y_true, y_pred, c):
    from sklearn.metrics import confusion_matrix

    cm = confusion_matrix(y_true, y_pred, labels=range(5))
    tp = cm[c, c]
    p, r = tp / cm[:, c].sum(), tp / cm[c, :].sum()
    return p, r, 2 * p * r / (p + r)


def test_class_scores_accept_the_scikit_learn_values(capsys, topic_predictions):
    from sklearn.metrics import precision_recall_fscore_support

    y_true, y_pred = topic_predictions
    p, r, f, _ = precision_recall_fscore_support(y_true, y_pred)
    right = by_hand_from_cm(y_true, y_pred, 0)
    assert np.allclose(right, (p[0], r[0], f[0]))
    ok, out = verdict(capsys, check.exercise, "5.1", right, y_true=y_true, y_pred=y_pred, names=TOPICS,
                      label="business")
    assert ok and "correct" in out
    ok, _ = verdict(capsys, check.exercise, "5.1", np.array(by_hand_from_cm(y_true, y_pred, 4)), y_true=y_true,
                    y_pred=y_pred, names=TOPICS, label="tech")
    assert ok


def test_class_scores_never_predicted_class_counts_as_zero(capsys):
    y_true, y_pred = np.array([0, 0, 1, 2, 2]), np.array([1, 1, 1, 2, 2])
    ok, _ = verdict(capsys, check.class_scores_by_hand, (0.0, 0.0, 0.0), y_true=y_true, y_pred=y_pred,
                    names=["a", "b", "c"], label="a")
    assert ok


@pytest.mark.parametrize("kind, hint", [
    ("swapped", "swapped"), ("percent", "percentages"), ("mean", "harmonic mean"), ("accuracy", "overall accuracy"),
    ("macro", "macro average"), ("other", "another class"), ("pair", "three numbers"), ("none", "no answer yet"),
    ("off", "TP = cm[c, c]"),
])
def test_class_scores_recognise_typical_slips(capsys, topic_predictions, kind, hint):
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    y_true, y_pred = topic_predictions
    p, r, f = by_hand_from_cm(y_true, y_pred, 0)
    pa, ra, _, _ = precision_recall_fscore_support(y_true, y_pred)
    answer = {"swapped": (r, p, f), "percent": (100 * p, 100 * r, 100 * f), "mean": (p, r, (p + r) / 2),
              "accuracy": (accuracy_score(y_true, y_pred), r, f), "macro": (pa.mean(), ra.mean(), f),
              "other": by_hand_from_cm(y_true, y_pred, 2), "pair": (p, r), "none": None, "off": (0.5, 0.5, 0.5)}[kind]
    ok, out = verdict(capsys, check.class_scores_by_hand, answer, y_true=y_true, y_pred=y_pred, names=TOPICS,
                      label="business")
    assert not ok and hint in out


def test_class_scores_unknown_label_is_a_notebook_mistake(topic_predictions):
    with pytest.raises(ValueError, match="not one of the classes"):
        check.class_scores_by_hand((1, 1, 1), y_true=[0], y_pred=[0], names=TOPICS, label="weather")


# ---------------------------------------------------------------------------------------------- 5.2 ECE

def good_ece(probs, labels, n_bins):
    conf, correct = probs.max(axis=1), probs.argmax(axis=1) == labels
    total = 0.0
    for b in range(n_bins):
        lo, hi = b / n_bins, (b + 1) / n_bins
        inside = (conf > lo) & (conf <= hi) if b else (conf >= lo) & (conf <= hi)
        if inside.any():
            total += inside.mean() * abs(correct[inside].mean() - conf[inside].mean())
    return total


@pytest.fixture(scope="module")
def binary_probs():
    rng = np.random.default_rng(3)
    p1 = 1 / (1 + np.exp(-3 * rng.normal(size=500)))
    labels = (rng.random(500) < 0.5 + 0.6 * (p1 - 0.5)).astype(int)
    return np.stack([1 - p1, p1], axis=1), labels


def test_ece_accepts_the_reference(capsys, binary_probs):
    from sklearn.calibration import calibration_curve

    probs, labels = binary_probs
    conf, correct = probs.max(axis=1), (probs.argmax(axis=1) == labels).astype(int)
    prob_true, prob_pred = calibration_curve(correct, conf, n_bins=10)  # the bins scikit-learn makes
    counts = np.histogram(conf, bins=np.linspace(0, 1, 11))[0]
    counts = counts[counts > 0]
    assert np.isclose(good_ece(probs, labels, 10), np.sum(counts / counts.sum() * np.abs(prob_true - prob_pred)))
    ok, out = verdict(capsys, check.exercise, "5.2", good_ece, probs=probs, labels=labels)
    assert ok and "correct on 3 inputs" in out


def _unweighted(probs, labels, n_bins):
    conf, correct = probs.max(axis=1), probs.argmax(axis=1) == labels
    ids = np.clip(np.ceil(conf * n_bins).astype(int) - 1, 0, n_bins - 1)
    return np.mean([abs(correct[ids == b].mean() - conf[ids == b].mean()) for b in range(n_bins) if (ids == b).any()])


def _class_one(probs, labels, n_bins):
    p1 = probs[:, 1]
    ids = np.clip(np.ceil(p1 * n_bins).astype(int) - 1, 0, n_bins - 1)
    return sum((ids == b).mean() * abs((labels[ids == b] == 1).mean() - p1[ids == b].mean())
               for b in range(n_bins) if (ids == b).any())


@pytest.mark.parametrize("fn, hint", [
    (_unweighted, "plain mean over the bins"),
    (lambda p, y, n: abs(p.max(axis=1).mean() - (p.argmax(axis=1) == y).mean()), "overall gap"),
    (_class_one, "probability of class 1"),
    (lambda p, y, n: good_ece(p, y, n) + 0.01, "Hint"),
    (lambda p, y, n: [0.1], "one number"),
    (None, "no answer yet"), ("my_ece", "pass the function"), (lambda p, y: 0.0, "TypeError"),
])
def test_ece_recognises_typical_slips(capsys, binary_probs, fn, hint):
    probs, labels = binary_probs
    ok, out = verdict(capsys, check.ece_function, fn, probs=probs, labels=labels)
    assert not ok and hint in out


# ---------------------------------------------------------------------------------------------- 6.1 head+tail

def good_head_tail(ids, budget, head_tokens):
    if len(ids) <= budget:
        return list(ids)
    return ids[:head_tokens] + ids[len(ids) - (budget - head_tokens):]


ARTICLES = [list(range(n)) for n in (50, 126, 127, 300, 1000)]


def test_head_tail_accepts_the_reference(capsys):
    from helpers.long_text import truncate_ids

    for ids in ARTICLES:
        assert good_head_tail(ids, 126, 31) == truncate_ids(ids, 126, "head+tail")
    ok, out = verdict(capsys, check.exercise, "6.1", good_head_tail, token_lists=ARTICLES, budget=126)
    assert ok and f"{len(ARTICLES) + 6} inputs" in out
    ok, _ = verdict(capsys, check.exercise, "6.1", lambda i, b, h: np.array(good_head_tail(i, b, h)))
    assert ok


@pytest.mark.parametrize("fn, hint", [
    (lambda i, b, h: i[:h] + i[-(b - h):] if len(i) > b else list(i), "`ids[-0:]` is the whole list"),
    (lambda i, b, h: i[:h] + i[-(b - h):] if b > h else i[:h], "fits in the budget"),
    (lambda i, b, h: (i[len(i) - (b - h):] + i[:h]) if len(i) > b else list(i), "swapped"),
    (lambda i, b, h: (i[:h] + i[len(i) - (b - h) - 1:]) if len(i) > b else list(i), "exactly budget"),
    (lambda i, b, h: (i[1:h + 1] + i[len(i) - (b - h):]) if len(i) > b else list(i), "first"),
    (lambda i, b, h: (i[:h] + i[len(i) - (b - h) - 1:-1]) if len(i) > b else list(i), "last"),
    (lambda i, b, h: i.pop() and None, "changed its input"),
    (None, "no answer yet"), (lambda i, b: i, "TypeError"), (lambda i, b, h: 3, "list of ids"),
])
def test_head_tail_recognises_typical_slips(capsys, fn, hint):
    ok, out = verdict(capsys, check.head_tail_function, fn, token_lists=ARTICLES, budget=126)
    assert not ok and hint in out


# ---------------------------------------------------------------------------------------------- 6.2 distillation

def good_kd(student_logits, teacher_logits, labels, temperature, alpha):
    log_ps = torch.log_softmax(student_logits / temperature, -1)
    log_pt = torch.log_softmax(teacher_logits / temperature, -1)
    soft = (log_pt.exp() * (log_pt - log_ps)).sum(-1).mean() * temperature ** 2
    hard = -torch.log_softmax(student_logits, -1)[torch.arange(len(labels)), labels].mean()
    return alpha * soft + (1 - alpha) * hard


@pytest.fixture(scope="module")
def kd_logits():
    gen = torch.Generator().manual_seed(5)
    return torch.randn(10, 2, generator=gen) * 3, torch.randn(10, 2, generator=gen) * 3, torch.randint(2, (10,),
                                                                                                       generator=gen)


def test_distillation_accepts_the_reference(capsys, kd_logits):
    from helpers.compress import distillation_loss

    s, t, y = kd_logits
    for temp, alpha in [(2.0, 0.5), (1.0, 0.0), (4.0, 1.0)]:
        assert torch.isclose(good_kd(s, t, y, temp, alpha), distillation_loss(s, t, y, temperature=temp, alpha=alpha))
    ok, out = verdict(capsys, check.exercise, "6.2", good_kd, student_logits=s, teacher_logits=t, labels=y)
    assert ok and "correct on 5 inputs" in out
    ok, _ = verdict(capsys, check.exercise, "6.2", lambda *a: float(good_kd(*a)))
    assert ok


def _kd_variant(kind):
    def loss(s, t, y, temp, alpha):
        log_ps, log_pt = torch.log_softmax(s / temp, -1), torch.log_softmax(t / temp, -1)
        ce = torch.nn.functional.cross_entropy(s, y)
        kl = (log_pt.exp() * (log_pt - log_ps)).sum(-1)
        scale = temp ** 2
        if kind == "no_t2":
            scale = 1.0
        elif kind == "reversed":
            kl = (log_ps.exp() * (log_ps - log_pt)).sum(-1)
        elif kind == "raw_student":
            kl = (log_pt.exp() * (log_pt - torch.log_softmax(s, -1))).sum(-1)
        elif kind == "tempered_ce":
            ce = torch.nn.functional.cross_entropy(s / temp, y)
        elif kind == "sum":
            return alpha * scale * kl.sum() + (1 - alpha) * ce * len(y)
        elif kind == "elementwise":
            return alpha * scale * kl.sum() / s.numel() + (1 - alpha) * ce
        elif kind == "alpha_swapped":
            return (1 - alpha) * scale * kl.mean() + alpha * ce
        elif kind == "not_written":
            raise NotImplementedError("write my_distillation_loss here")
        return alpha * scale * kl.mean() + (1 - alpha) * ce

    return loss


@pytest.mark.parametrize("kind, hint", [
    ("no_t2", "T^2 factor is missing"), ("reversed", "wrong way"), ("raw_student", "divided by T too"),
    ("tempered_ce", "without the temperature"), ("sum", "sum over the batch"), ("elementwise", "batchmean"),
    ("alpha_swapped", "alpha weights the wrong term"), ("not_written", "not written yet"),
])
def test_distillation_recognises_typical_slips(capsys, kd_logits, kind, hint):
    s, t, y = kd_logits
    ok, out = verdict(capsys, check.distillation_loss_function, _kd_variant(kind), student_logits=s,
                      teacher_logits=t, labels=y)
    assert not ok and hint in out


@pytest.mark.parametrize("fn, hint", [(None, "no answer yet"), ("loss", "pass the function"),
                                      (lambda *a: torch.zeros(3), "one number"), (lambda s, t: 0.0, "TypeError")])
def test_distillation_non_answers(capsys, fn, hint):
    ok, out = verdict(capsys, check.distillation_loss_function, fn)
    assert not ok and hint in out


def _not_written(*args):
    raise NotImplementedError("write it here")


@pytest.mark.parametrize("checker", [check.learning_rate_function, check.head_tail_function,
                                     check.distillation_loss_function])
def test_function_exercises_answer_the_student_stub(capsys, checker):
    ok, out = verdict(capsys, checker, _not_written)
    assert not ok and "not written yet" in out


def test_ece_answers_the_student_stub(capsys, binary_probs):
    ok, out = verdict(capsys, check.ece_function, _not_written, probs=binary_probs[0], labels=binary_probs[1])
    assert not ok and "not written yet" in out


# ---------------------------------------------------------------------------------------------- every function exercise

def _stub(*args):
    raise NotImplementedError("write it here")


def _breaks(*args):
    raise ValueError("something broke")


_BREAKS_LINE = _breaks.__code__.co_firstlineno + 1

FUNCTION_EXERCISES = [  # (checker, its exercise id, the function's name, the chapter objects it needs)
    (check.mark_negation_function, "1.3", "mark_negation", {}),
    (check.attention_function, "2.1", "my_attention", {}),
    (check.learning_rate_function, "4.2", "lr_at", {}),
    (check.ece_function, "5.2", "my_ece", {"probs": "binary_probs"}),
    (check.head_tail_function, "6.1", "head_tail", {}),
    (check.distillation_loss_function, "6.2", "my_distillation_loss", {}),
]


@pytest.mark.parametrize("checker, exercise_id, name, needs", FUNCTION_EXERCISES,
                         ids=[e[1] for e in FUNCTION_EXERCISES])
@pytest.mark.parametrize("case", ["none", "not_callable", "not_written", "raises"])
def test_function_exercises_report_non_functions_and_crashes(capsys, request, checker, exercise_id, name, needs,
                                                             case):
    """The shared guard and the shared call: None, a non-function, the stub and a crash are messages, not errors."""
    context = {}
    if needs:
        probs, labels = request.getfixturevalue(needs["probs"])
        context = {"probs": probs, "labels": labels}
    answer = {"none": None, "not_callable": [1, 2], "not_written": _stub, "raises": _breaks}[case]
    ok, out = verdict(capsys, checker, answer, **context)
    assert ok is False
    expected = {"none": f"no answer yet. Replace the `None` in the cell above with your function (write `def {name}(",
                "not_callable": f"pass the function itself (`{name}`, without brackets), not a list.",
                "not_written": f"`{name}` is not written yet",
                "raises": f"your function raised ValueError: something broke (line {_BREAKS_LINE})."}[case]
    assert out.startswith(f"✗ Exercise {exercise_id}: ") and expected in out, out
    if case == "none":
        assert f"and pass `{name}`)" in out
    if case == "raises":
        assert out.startswith(f"✗ Exercise {exercise_id}: on "), "the message says on which input it broke"
