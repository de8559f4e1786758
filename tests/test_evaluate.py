"""helpers.evaluate: predictions in the input order that match the model's own forward pass, and the metrics."""

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification

from helpers.evaluate import accuracy_and_f1, encode_texts, predict

TEXTS = ["a long and winding sentence about a film that goes on and on without saying much at all",
         "great", "not good", "an utterly charming, funny and touching film", "meh",
         "the worst thing i have seen this year, by a long way", "fine"]


@pytest.fixture(scope="module")
def model():
    torch.manual_seed(0)
    cfg = BertConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64,
                     max_position_embeddings=64, num_labels=3)
    return BertForSequenceClassification(cfg).eval()


def test_predict_keeps_input_order_and_matches_forward(model, tokenizer):
    out = predict(model, tokenizer, TEXTS, batch_size=3)  # several batches, sorted by length inside
    assert out.labels.shape == (len(TEXTS),) and out.probs.shape == (len(TEXTS), 3)
    np.testing.assert_allclose(out.probs.sum(axis=1), 1.0, atol=1e-6)
    for i, text in enumerate(TEXTS):  # one text at a time, no padding at all
        with torch.no_grad():
            logits = model(**tokenizer(text, return_tensors="pt")).logits[0]
        np.testing.assert_allclose(out.probs[i], torch.softmax(logits, -1).numpy(), atol=1e-5)
        assert out.labels[i] == int(logits.argmax())


def test_predict_single_string_and_bad_input(model, tokenizer):
    one = predict(model, tokenizer, "great")
    many = predict(model, tokenizer, TEXTS)
    np.testing.assert_allclose(one.probs[0], many.probs[1], atol=1e-5)
    with pytest.raises(TypeError, match="item 1 is NoneType"):
        predict(model, tokenizer, ["ok", None])
    assert model.training is False


def test_predict_restores_training_mode(model, tokenizer):
    model.train()
    predict(model, tokenizer, TEXTS[:2])
    assert model.training
    model.eval()


def test_encode_texts_lengths(tokenizer):
    ids, lengths = encode_texts(tokenizer, ["great", "not good at all"], max_length=4)
    assert lengths.tolist() == [3, 4]  # [CLS] great [SEP]; truncated to 4
    assert ids.shape == (2, 4) and ids[0, 3] == tokenizer.pad_token_id


def test_accuracy_and_f1():
    scores = accuracy_and_f1([0, 0, 1, 1], [0, 1, 1, 1])
    assert scores["accuracy"] == pytest.approx(0.75)
    assert scores["f1"] == pytest.approx((2 / 3 + 0.8) / 2)  # class 0: P 1, R .5; class 1: P 2/3, R 1
    with pytest.raises(ValueError, match="2 labels but 1 predictions"):
        accuracy_and_f1([0, 1], [0])
