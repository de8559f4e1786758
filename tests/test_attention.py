"""helpers.attention: the from-scratch encoder against torch and the real pretrained model, and the attention views.

Tolerances (float32 on a CPU): single operations 1e-5; one encoder layer 1e-4 and the whole 6-layer encoder 1e-4
(measured: about 2e-6 and 2e-6 on the real tokens of the offline model).
"""

import re

import pytest
import torch

import helpers
import helpers.attention as attn
import helpers.attention_views as views

SENTENCES = ["The movie was not bad at all.", "Awful, boring and far too long; I walked out."]


@pytest.fixture(scope="module")
def model():
    m = helpers.load_model(labels=["negative", "positive"])  # SDPA, the default: get_attentions must switch it
    return m.eval()


@pytest.fixture(scope="module")
def batch(tokenizer):
    return tokenizer(SENTENCES, padding=True, return_tensors="pt")


def test_scaled_dot_product_attention_matches_torch():
    torch.manual_seed(0)
    q, k, v = torch.randn(2, 3, 7, 16), torch.randn(2, 3, 9, 16), torch.randn(2, 3, 9, 8)
    mask = torch.ones(2, 1, 1, 9, dtype=torch.bool)
    mask[1, ..., 6:] = False
    out, weights = attn.scaled_dot_product_attention(q, k, v, mask)
    ref = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    assert out.shape == (2, 3, 7, 8) and weights.shape == (2, 3, 7, 9)
    torch.testing.assert_close(out, ref, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 3, 7))


def test_mask_gives_padded_positions_exactly_zero_weight(model, tokenizer, batch):
    w = attn.EncoderWeights.from_model(model)
    x = attn.embeddings(batch["input_ids"], w.embeddings, batch["token_type_ids"])
    _, weights = attn.encoder_layer(x, w.layers[0], attn.padding_mask(batch["attention_mask"]))
    pads = ~batch["attention_mask"].bool()
    assert pads.any(), "the test batch must contain padding"
    assert torch.all(weights.permute(0, 3, 1, 2)[pads] == 0.0)  # every head, every query, every padded key
    # and the real tokens of the short sentence see exactly what they would see without the padding
    short = tokenizer(SENTENCES[0], return_tensors="pt")
    n = short["input_ids"].size(1)
    alone, _ = attn.encoder(short["input_ids"], w, short["attention_mask"])
    padded, _ = attn.encoder(batch["input_ids"], w, batch["attention_mask"])
    torch.testing.assert_close(padded[0, :n], alone[0], atol=1e-5, rtol=1e-5)


def test_a_causal_mask_hides_later_tokens_and_no_mask_does_not():
    """Chapter 2 §2.14: with GPT's lower-triangular mask, changing the last token leaves earlier outputs untouched."""
    gen = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(1, 2, 6, 4, generator=gen) for _ in range(3))
    k2, v2 = k.clone(), v.clone()
    k2[..., -1, :] += 1.0
    v2[..., -1, :] -= 1.0
    causal = torch.ones(6, 6).tril().bool()
    out, weights = attn.scaled_dot_product_attention(q, k, v, causal)
    out2, _ = attn.scaled_dot_product_attention(q, k2, v2, causal)
    assert torch.equal(out[..., :-1, :], out2[..., :-1, :])
    assert torch.equal(weights.triu(1), torch.zeros_like(weights))
    both, _ = attn.scaled_dot_product_attention(q, k, v)
    both2, _ = attn.scaled_dot_product_attention(q, k2, v2)
    assert (both[..., :-1, :] - both2[..., :-1, :]).abs().max() > 1e-3


def test_split_and_merge_heads_are_inverse():
    x = torch.randn(2, 5, 384)
    heads = attn.split_heads(x, 12)
    assert heads.shape == (2, 12, 5, 32)
    assert torch.equal(attn.merge_heads(heads), x)
    with pytest.raises(ValueError, match="divisible"):
        attn.split_heads(x, 7)


def test_layer_norm_and_gelu_match_torch():
    torch.manual_seed(0)
    x = torch.randn(3, 4, 384) * 5 + 2
    ln = torch.nn.LayerNorm(384, eps=1e-12)
    torch.nn.init.normal_(ln.weight)
    torch.nn.init.normal_(ln.bias)
    with torch.no_grad():
        torch.testing.assert_close(attn.layer_norm(x, ln.weight, ln.bias, 1e-12), ln(x), atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(attn.gelu(x), torch.nn.functional.gelu(x), atol=1e-6, rtol=1e-6)


def test_feed_forward_and_attention_block_match_the_real_layer(model, batch):
    layer = model.bert.encoder.layer[2]
    w = attn.LayerWeights.from_bert_layer(layer)
    x = torch.randn(2, batch["input_ids"].size(1), 384)
    with torch.no_grad():
        ffn_ref = layer.output.dense(layer.intermediate(x))
        torch.testing.assert_close(attn.feed_forward(x, w.w1, w.b1, w.w2, w.b2), ffn_ref, atol=1e-4, rtol=1e-4)


def test_embeddings_match_the_real_model(model, batch):
    w = attn.EncoderWeights.from_model(model)
    with torch.no_grad():
        ref = model.bert.embeddings(input_ids=batch["input_ids"], token_type_ids=batch["token_type_ids"])
    torch.testing.assert_close(
        attn.embeddings(batch["input_ids"], w.embeddings, batch["token_type_ids"]), ref, atol=1e-5, rtol=1e-5
    )


def test_encoder_layer_matches_bert_layer(model, batch):
    """One from-scratch layer with copied weights = transformers' BertLayer, within 1e-4 (about 2e-6 measured)."""
    w = attn.EncoderWeights.from_model(model)
    x = attn.embeddings(batch["input_ids"], w.embeddings, batch["token_type_ids"])
    real = batch["attention_mask"].bool()
    additive = torch.zeros(real.shape).masked_fill(~real, torch.finfo(torch.float32).min)[:, None, None, :]
    for i, layer in enumerate(model.bert.encoder.layer):
        with torch.no_grad():
            ref = layer(x, attention_mask=additive)
            ref = ref[0] if isinstance(ref, tuple) else ref
        mine, _ = attn.encoder_layer(x, w.layers[i], attn.padding_mask(batch["attention_mask"]))
        assert (mine - ref)[real].abs().max().item() < 1e-4, f"layer {i}"
        x = mine


def test_whole_encoder_matches_bert_model(model, batch):
    """The whole from-scratch encoder = BertModel's last_hidden_state on every real token, within 1e-4."""
    w = attn.EncoderWeights.from_model(model)
    with torch.no_grad():
        out = model.bert(**batch, output_attentions=False)
    mine, weights = attn.encoder(batch["input_ids"], w, batch["attention_mask"], batch["token_type_ids"])
    real = batch["attention_mask"].bool()
    assert len(weights) == 6 and weights[0].shape == (2, 12, real.size(1), real.size(1))
    assert (mine - out.last_hidden_state)[real].abs().max().item() < 1e-4


def test_get_attentions_switches_sdpa_to_eager_and_back(model, tokenizer):
    assert attn.attention_implementation(model) == "sdpa"
    with torch.no_grad():
        empty = model(**tokenizer("hello", return_tensors="pt"), output_attentions=True).attentions
    assert not empty, "transformers returned SDPA attentions: the switch may no longer be needed"
    att = attn.get_attentions(model, tokenizer, SENTENCES[0])
    n = len(att.tokens)
    assert att.tokens[0] == "[CLS]" and att.tokens[-1] == "[SEP]"
    assert att.shape == (6, 12, n, n)
    torch.testing.assert_close(att.weights.sum(-1), torch.ones(6, 12, n))
    assert attn.attention_implementation(model) == "sdpa"


def test_bad_input_gives_clear_errors(model, tokenizer):
    with pytest.raises(ValueError, match="empty"):
        attn.get_attentions(model, tokenizer, "   ")
    with pytest.raises(ValueError, match="at most 512"):
        attn.get_attentions(model, tokenizer, "word " * 600)
    with pytest.raises(TypeError, match="string"):
        attn.get_attentions(model, tokenizer, ["a list"])
    att = attn.get_attentions(model, tokenizer, "word " * 200)
    with pytest.raises(ValueError, match="too long for the head view"):
        attn.head_view(att, display=False)
    with pytest.raises(ValueError, match="layer must be"):
        attn.plot_attention_heatmap(att, layer=6, head=0)


def test_bertviz_views_need_no_network(model, tokenizer):
    pytest.importorskip("bertviz")
    att = attn.get_attentions(model, tokenizer, SENTENCES[0])
    for view in (attn.head_view(att, display=False), attn.model_view(att, display=False)):
        html = view.data
        assert "cdnjs" not in html and "require.min.js" not in html
        assert not re.search(r"src=[\"']?(https?:)?//", html)
        assert "d3js.org v5.7.0" in html and "jQuery v2" in html  # the vendored libraries are inlined
        assert 'class="bertbook-bertviz" style="overflow:auto' in html  # scrolls instead of overflowing
        assert html.count('<script type="text/javascript">') == 2  # the vendored libraries, then bertviz


def test_long_inputs_are_limited(model, tokenizer, capsys):
    pytest.importorskip("bertviz")
    att = attn.get_attentions(model, tokenizer, "word " * 100)  # 102 tokens
    layers, heads = views._limit_for_length(102, 6, 12, 60_000)
    assert len(layers) * len(heads) * 102**2 <= 60_000 and 5 in layers
    html = attn.model_view(att, display=False).data
    assert "Long input (102 tokens)" in capsys.readouterr().out
    params = re.search(r'"include_layers": (\[[^\]]*\]), "include_heads": (\[[^\]]*\])', html)
    assert params and eval(params.group(1)) == layers and eval(params.group(2)) == heads
    short = attn.get_attentions(model, tokenizer, SENTENCES[0])
    assert views._limit_for_length(len(short.tokens), 6, 12, 60_000) == (list(range(6)), list(range(12)))


def test_pattern_scores_find_the_heads_built_for_each_pattern():
    tokens = ["[CLS]", "a", "b", "a", "[SEP]"]
    weights = torch.zeros(1, 3, 5, 5)
    for i in range(5):
        weights[0, 0, i, max(i - 1, 0)] = 1.0  # head 0: previous token
        weights[0, 1, i, 4] = 1.0  # head 1: [SEP]
        weights[0, 2, i, {1: 3, 3: 1}.get(i, i)] = 1.0  # head 2: the other "a", else itself
    att = attn.Attentions(tokens, weights, torch.zeros(5))
    scores = attn.pattern_scores([att])
    assert scores["previous token"][0].tolist() == [1.0, 0.0, 0.0]
    assert scores["[SEP]"][0].tolist() == [0.0, 1.0, 0.0]
    assert scores["same word elsewhere"][0].tolist() == [0.0, 0.0, 1.0]
    assert scores["itself"][0].tolist() == pytest.approx([0.0, 0.0, 1 / 3])  # rows a, b, a: only "b" attends to itself


def test_softmax_saturation_grows_without_scaling():
    small = attn.softmax_saturation(16, scale=False)
    big = attn.softmax_saturation(512, scale=False)
    scaled = attn.softmax_saturation(512, scale=True)
    assert big["max_weight"] > small["max_weight"] and big["jacobian_norm"] < small["jacobian_norm"]
    assert abs(scaled["score_std"] - 1.0) < 0.1 and big["score_std"] > 15


def test_bytes_allocated_sees_the_three_n_by_n_matrices():
    sizes = {}
    for n in (64, 256):
        q, k, v = (torch.randn(1, 12, n, 32) for _ in range(3))
        sizes[n] = attn.bytes_allocated(attn.scaled_dot_product_attention, q, k, v)
        matrix = 12 * n * n * 4  # one float32 (heads, n, n) matrix
        assert 3 * matrix <= sizes[n] <= 3 * matrix + 2 * 12 * n * 32 * 4  # scores, scaled scores, weights, output
    assert 14 < sizes[256] / sizes[64] < 16  # 4x the length, about 16x the memory


VIEWS = (
    "Attentions",
    "get_attentions",
    "attention_implementation",
    "encode_one",
    "plot_attention_heatmap",
    "plot_attention_grid",
    "offline_bertviz_html",
    "head_view",
    "model_view",
    "attention_explorer",
    "pattern_masks",
    "pattern_scores",
    "PATTERNS",
    "VENDOR_DIR",
)


def test_views_live_in_attention_views_and_stay_reachable_from_attention():
    """attention.py holds the maths only; the views are attention_views', re-exported for `attn.head_view(...)`."""
    import ast
    import inspect

    for name in VIEWS:
        assert getattr(attn, name) is getattr(views, name), name
        if callable(getattr(views, name)):
            assert getattr(views, name).__module__ == "helpers.attention_views", name
    tree = ast.parse(inspect.getsource(attn))
    imported = {
        alias.name.split(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert not imported & {"bertviz", "matplotlib", "ipywidgets", "IPython"}  # no view code in the maths
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert {"scaled_dot_product_attention", "multi_head_attention", "encoder", "EncoderWeights"} <= defined
    assert not defined & set(VIEWS)
