"""helpers.exercises.ch2: every checker of chapter 2 accepts the reference solution and rejects the typical wrong
answers with a hint: attention (against torch), the encoder's parameter count (against a small random BERT),
previous-token scores.

The references are computed independently here, with the libraries, so the checkers are tested against them, not
against themselves. A checker must never raise because of the answer: None (the student notebooks' stub), a wrong
type, or a function that raises all give False and a message.
"""

import math

import numpy as np
import pytest
import torch
from exercise_tools import GUARD_CASES, assert_guarded, verdict

import helpers.attention as attn
import helpers.check as check
from helpers.exercises import ch2

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
    out, _ = ch2._reference_attention(q, k, v, mask)
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


@pytest.mark.parametrize(
    "fn, hint",
    [
        (None, "no answer yet"),
        (_not_written_attention, "not written yet"),
        (_unscaled, "not scaled"),
        (_wrong_axis, "wrong axis"),
        (_ignores_mask, "mask is ignored"),
        (_swapped, "wrong order"),
        (lambda q, k, v, mask=None: good_attention(q, k, v, mask)[0], "one tensor"),
        (
            lambda q, k, v, mask=None: (2 * good_attention(q, k, v, mask)[0], good_attention(q, k, v, mask)[1]),
            "output is not",
        ),
        (lambda q, k, v: good_attention(q, k, v), "TypeError"),  # no mask argument
    ],
)
def test_attention_recognises_typical_mistakes(capsys, fn, hint):
    q, k, v = torch.randn(1, 2, 4, 8), torch.randn(1, 2, 4, 8), torch.randn(1, 2, 4, 6)
    ok, out = verdict(capsys, ch2.attention_function, fn, q=q, k=k, v=v)
    assert not ok and hint in out


# ---------------------------------------------------------------------------------------------- 2.2 parameters


@pytest.fixture(scope="module")
def tiny_bert():
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=97,
        hidden_size=16,
        num_hidden_layers=3,
        num_attention_heads=2,
        intermediate_size=40,
        max_position_embeddings=33,
        type_vocab_size=3,
    )
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


@pytest.mark.parametrize(
    "kind, hint",
    [
        ("head", "classification head"),
        ("no_pooler", "pooler"),
        ("layers", "layers only"),
        ("one_layer", "one layer"),
        ("no_positions", "position table"),
        ("no_segments", "segment"),
        ("no_layer_norms", "LayerNorms of every layer"),
        ("no_biases", "biases"),
        ("no_embedding_norm", "embeddings' LayerNorm"),
        ("other", "off by"),
        ("text", "one integer"),
        ("none", "no answer yet"),
    ],
)
def test_parameter_count_recognises_typical_omissions(capsys, tiny_bert, kind, hint):
    cfg = tiny_bert.config
    d, f = cfg.hidden_size, cfg.intermediate_size
    emb, layer, pooler = formula(cfg)
    true = emb + 3 * layer + pooler
    value = {
        "head": sum(p.numel() for p in tiny_bert.parameters()),
        "no_pooler": true - pooler,
        "layers": 3 * layer,
        "one_layer": layer,
        "no_positions": true - 33 * d,
        "no_segments": true - 3 * d,
        "no_layer_norms": true - 3 * 4 * d,
        "no_biases": true - 3 * (4 * d + f + d) - d,
        "other": true + 7,
        "no_embedding_norm": true - 2 * d,
        "text": "many",
        "none": None,
    }[kind]
    ok, out = verdict(capsys, ch2.encoder_parameter_count, value, model=tiny_bert)
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
    ok, _ = verdict(
        capsys, check.exercise, "2.3", attn.pattern_scores([fake_att])["previous token"][1], att=fake_att, layer=1
    )
    assert ok


@pytest.mark.parametrize(
    "kind, hint",
    [
        ("next", "next"),
        ("with_specials", "[CLS] and [SEP]"),
        ("sum", "sum"),
        ("table", "every layer"),
        ("short", "one score per head"),
        ("other", "Hint"),
        ("none", "no answer yet"),
        ("text", "numbers"),
    ],
)
def test_previous_token_recognises_typical_mistakes(capsys, fake_att, kind, hint):
    w = fake_att.weights[0]
    words = [1, 2, 3, 4, 5]
    value = {
        "next": [w[h, words, [i + 1 for i in words]].mean().item() for h in range(3)],
        "with_specials": [np.mean([w[h, i, i - 1].item() for i in range(1, 7)]) for h in range(3)],
        "sum": [w[h, words, [i - 1 for i in words]].sum().item() for h in range(3)],
        "table": attn.pattern_scores([fake_att])["previous token"],
        "short": [0.1, 0.2],
        "other": [0.5, 0.5, 0.5],
        "none": None,
        "text": "head 2",
    }[kind]
    ok, out = verdict(capsys, ch2.previous_token_scores, value, att=fake_att)
    assert not ok and hint in out


# ---------------------------------------------------------------------------------------------- every function exercise


@pytest.mark.parametrize(
    "checker, exercise_id, name",
    [
        (ch2.attention_function, "2.1", "my_attention"),
    ],
    ids=["2.1"],
)
@pytest.mark.parametrize("case", GUARD_CASES)
def test_function_exercises_report_non_functions_and_crashes(capsys, checker, exercise_id, name, case):
    """The shared guard and the shared call: None, a non-function, the stub and a crash are messages, not errors."""
    assert_guarded(capsys, checker, exercise_id, name, case)
