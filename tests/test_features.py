"""helpers.features: mean pooling equals a masked mean by hand, [CLS] is position 0, freezing keeps the top."""

import numpy as np
import pytest
import torch
from conftest import tiny_bert_classifier

from helpers import features as hf

TEXTS = ["a good film", "the plot was slow and the acting was worse than i expected", "bad", "fine, i guess"]


def test_mean_pooling_equals_a_masked_mean_by_hand(tokenizer):
    model = tiny_bert_classifier(num_labels=2)
    got = hf.encode_features(model, tokenizer, TEXTS, pooling="mean", batch_size=3)
    for i, text in enumerate(TEXTS):  # one text at a time: no padding, so a plain mean over all positions
        ids = tokenizer(text, return_tensors="pt")
        with torch.no_grad():
            hidden = model.bert(**ids).last_hidden_state[0]
        np.testing.assert_allclose(got[i], hidden.mean(dim=0).numpy(), atol=1e-5)
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")  # padded: the mask must drop the [PAD] rows
    with torch.no_grad():
        hidden = model.bert(**batch).last_hidden_state
    mask = batch["attention_mask"]
    by_hand = np.stack([hidden[i, mask[i].bool()].mean(dim=0).numpy() for i in range(len(TEXTS))])
    np.testing.assert_allclose(hf.mean_pool(hidden, mask).numpy(), by_hand, atol=1e-6)
    assert not np.allclose(by_hand, hidden.mean(dim=1).numpy(), atol=1e-3), "padding must change an unmasked mean"


def test_cls_is_position_zero_in_input_order_and_both_from_one_pass(tokenizer):
    model = tiny_bert_classifier(num_labels=2)
    model.train()
    both = hf.encode_features(model, tokenizer, TEXTS, pooling=("cls", "mean"), batch_size=2)
    assert model.training, "the model's mode must be restored"
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    model.eval()
    with torch.no_grad():
        cls = model.bert(**batch).last_hidden_state[:, 0].numpy()
    np.testing.assert_allclose(both["cls"], cls, atol=1e-5)
    assert both["cls"].shape == (len(TEXTS), model.config.hidden_size)
    np.testing.assert_allclose(both["mean"], hf.encode_features(model, tokenizer, TEXTS, pooling="mean"), atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"pooling": "max"}, "pooling must be one of cls, mean"),
        ({"pooling": ()}, "pooling must be one of"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_encode_features_bad_input(tokenizer, kwargs, match):
    with pytest.raises(ValueError, match=match):
        hf.encode_features(tiny_bert_classifier(), tokenizer, TEXTS, **kwargs)


def test_encode_features_needs_texts_and_a_bert(tokenizer):
    with pytest.raises(ValueError, match="non-empty list of strings"):
        hf.encode_features(tiny_bert_classifier(), tokenizer, [])
    with pytest.raises(TypeError, match="BERT-style"):
        hf.encode_features(torch.nn.Linear(2, 2), tokenizer, TEXTS)


def test_freeze_all_but_top_leaves_the_top_layers_pooler_and_head():
    model = tiny_bert_classifier(num_labels=2, num_layers=3)
    hf.freeze_all_but_top(model, 2)
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable, "something must train"
    assert all(
        n.startswith(("bert.encoder.layer.1.", "bert.encoder.layer.2.", "bert.pooler.", "classifier."))
        for n in trainable
    )
    assert any(n.startswith("bert.encoder.layer.1.") for n in trainable)
    assert any(n.startswith("classifier.") for n in trainable) and any(n.startswith("bert.pooler.") for n in trainable)
    assert not any(n.startswith(("bert.embeddings.", "bert.encoder.layer.0.")) for n in trainable)
    hf.freeze_all_but_top(model, 0)
    assert {
        n.split(".")[1] if n.startswith("bert.") else n.split(".")[0]
        for n, p in model.named_parameters()
        if p.requires_grad
    } == {"pooler", "classifier"}
    hf.freeze_all_but_top(model, 3)
    assert all(p.requires_grad for n, p in model.named_parameters() if not n.startswith("bert.embeddings."))


def test_frozen_layers_get_no_gradient(tokenizer):
    model = tiny_bert_classifier(num_labels=2, num_layers=3).train()
    hf.freeze_all_but_top(model, 1)
    batch = tokenizer(TEXTS, padding=True, return_tensors="pt")
    model(**batch, labels=torch.tensor([1, 0, 0, 1])).loss.backward()
    assert model.bert.encoder.layer[0].attention.self.query.weight.grad is None
    assert model.bert.encoder.layer[2].attention.self.query.weight.grad is not None


@pytest.mark.parametrize("k", [-1, 4, 1.5])
def test_freeze_all_but_top_rejects_a_bad_k(k):
    with pytest.raises(ValueError, match="from 0 to 3"):
        hf.freeze_all_but_top(tiny_bert_classifier(num_layers=3), k)
