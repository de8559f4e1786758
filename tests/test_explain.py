"""helpers.explain: integrated gradients satisfy completeness (better with more steps), word merging, attention."""

import numpy as np
import pytest
import torch
from tiny_models import tiny_bert

from helpers.explain import baseline_ids, cls_attention, integrated_gradients, plot_token_scores, word_scores

TEXT = "an unbelievably charming film"


@pytest.fixture(scope="module")
def model():
    # the real pretrained encoder (a tiny random BERT's output hardly depends on its input), with a random
    # head made confident, so that f(x) - f(baseline) is far from zero
    import helpers

    torch.manual_seed(0)
    m = helpers.load_model(num_labels=3, attn_implementation="eager").eval()
    with torch.no_grad():
        m.classifier.weight.mul_(20.0)
    return m


@pytest.fixture(scope="module")
def tiny():
    return tiny_bert(num_labels=3, attn_implementation="eager")


@pytest.mark.parametrize("output", ["prob", "logit"])
def test_completeness_gap_is_small_and_shrinks_with_steps(model, tokenizer, output):
    gaps = {}
    for steps in (2, 8, 64):
        att = integrated_gradients(model, tokenizer, TEXT, steps=steps, output=output)
        gaps[steps] = abs(att.gap)
    total = abs(att.f_input - att.f_baseline)
    assert total > 0.05
    assert gaps[64] < gaps[8] < gaps[2]
    assert gaps[64] < 0.01 * total


def test_attribution_values_and_targets(model, tokenizer):
    att = integrated_gradients(model, tokenizer, TEXT, steps=16)
    enc = tokenizer(TEXT, return_tensors="pt")
    assert att.tokens == tokenizer.convert_ids_to_tokens(enc["input_ids"][0])
    with torch.no_grad():
        probs = torch.softmax(model(**enc).logits[0], -1)
    assert att.target == int(probs.argmax())
    assert att.f_input == pytest.approx(float(probs.max()), abs=1e-5)
    other = integrated_gradients(model, tokenizer, TEXT, target=(att.target + 1) % 3, steps=16)
    assert other.target == (att.target + 1) % 3
    assert model.training is False
    # batching the path does not change the result
    assert np.allclose(
        integrated_gradients(model, tokenizer, TEXT, steps=16, batch_size=3).scores, att.scores, atol=1e-5
    )


def test_integrated_gradients_bad_input(tiny, tokenizer):
    model = tiny
    with pytest.raises(ValueError, match="non-empty"):
        integrated_gradients(model, tokenizer, "  ")
    with pytest.raises(ValueError, match="steps"):
        integrated_gradients(model, tokenizer, TEXT, steps=0)
    with pytest.raises(ValueError, match="target"):
        integrated_gradients(model, tokenizer, TEXT, target=3)
    with pytest.raises(ValueError, match="output"):
        integrated_gradients(model, tokenizer, TEXT, output="loss")


def test_baseline_keeps_only_cls_and_sep(tokenizer):
    ids = tokenizer(TEXT, return_tensors="pt")["input_ids"]
    base = baseline_ids(tokenizer, ids)[0].tolist()
    assert base[0] == tokenizer.cls_token_id and base[-1] == tokenizer.sep_token_id
    assert set(base[1:-1]) == {tokenizer.pad_token_id}


def test_word_scores_merge_pieces(tokenizer):
    tokens = ["[CLS]", "an", "un", "##bel", "##ie", "film", "[SEP]"]
    merged = word_scores(tokens, [9, 1, 0.5, 0.25, 0.25, -2, 9])
    assert merged == [("an", 1.0), ("unbelie", 1.0), ("film", -2.0)]
    assert word_scores(["[CLS]", "a"], [1, 2], skip_special=False) == [("[CLS]", 1.0), ("a", 2.0)]
    with pytest.raises(ValueError, match="scores"):
        word_scores(["a"], [1, 2])
    # real WordPiece output: the words come back whole
    att = tokenizer.tokenize("unbelievably charming")
    assert [w for w, _ in word_scores(att, np.zeros(len(att)))] == ["unbelievably", "charming"]


def test_cls_attention_is_the_head_mean_of_the_last_layer(tiny, tokenizer):
    model = tiny
    tokens, scores = cls_attention(model, tokenizer, TEXT)
    enc = tokenizer(TEXT, return_tensors="pt")
    with torch.no_grad():
        att = model(**enc, output_attentions=True).attentions[-1][0]
    assert np.allclose(scores, att[:, 0, :].mean(0).numpy(), atol=1e-6)
    assert scores.sum() == pytest.approx(1.0, abs=1e-5) and len(tokens) == len(scores)
    with pytest.raises(ValueError, match="layer"):
        cls_attention(model, tokenizer, TEXT, layer=5)


def test_plot_token_scores():
    fig = plot_token_scores(
        [("IG", [("good", 1.0), ("film", -0.5)]), ("attention", [("word", 0.2)] * 40)], title="scores", width=30
    )
    ax = fig.axes[0]
    assert ax.get_title() == "scores" and ax.get_xlabel() and ax.get_ylabel()
    assert len(ax.texts) == 42
