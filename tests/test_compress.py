"""helpers.compress: int8 quantisation keeps the predictions, the distillation loss by hand, layer truncation;
distill returns helpers.train's result, with its history and step columns, and its plot."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F
from conftest import tiny_bert_classifier
from result_columns import TRAIN_HISTORY, TRAIN_STEPS

import helpers
from helpers.compress import (
    cpu_latency,
    distill,
    distillation_loss,
    measure_latency,
    quantize_dynamic,
    size_on_disk,
    truncate_layers,
)
from helpers.training import TrainResult

TEXTS = ["a charming, funny film", "dull and far too long", "not bad at all", "the plot makes no sense"]


@pytest.fixture(scope="module")
def model():
    return tiny_bert_classifier(num_labels=2, hidden_size=64, num_layers=3)


def test_quantized_model_gives_near_identical_probabilities(model, tokenizer):
    q = quantize_dynamic(model)
    enc = tokenizer(TEXTS, padding=True, return_tensors="pt")
    with torch.no_grad():
        p = torch.softmax(model(**enc).logits, -1)
        pq = torch.softmax(q(**enc).logits, -1)
    assert (pq - p).abs().max() < 0.02
    assert any("quantized.dynamic" in type(m).__module__ for m in q.modules())
    assert not any("quantized" in type(m).__module__ for m in model.modules())  # the original is untouched
    # each linear weight goes from 4 bytes to 1 (the embeddings, most of this tiny model, stay float32)
    linear_weights = sum(m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear))
    assert size_on_disk(model) - size_on_disk(q) > 0.8 * 3 * linear_weights


def test_quantize_bad_input():
    with pytest.raises(TypeError, match="nn.Module"):
        quantize_dynamic("bert")


def test_size_on_disk_counts_the_bytes():
    layer = nn.Linear(100, 100)
    assert 40_400 <= size_on_disk(layer) < 40_400 + 2_000  # 10,100 float32 values plus a small header


def test_measure_latency():
    calls = []
    lat = measure_latency(lambda: calls.append(1), repeats=4, warmup=2)
    assert len(calls) == 6 and len(lat.runs) == 4 and lat.best <= lat.median
    with pytest.raises(ValueError, match="repeats"):
        measure_latency(lambda: None, repeats=0)


def test_cpu_latency_runs(model, tokenizer):
    lat = cpu_latency(model, tokenizer, TEXTS, max_length=16, batch_size=2, repeats=2)
    assert lat.median > 0


def test_distillation_loss_matches_the_formula():
    torch.manual_seed(0)
    s, t = torch.randn(5, 3), torch.randn(5, 3)
    y = torch.tensor([0, 2, 1, 1, 0])
    T, a = 3.0, 0.7
    pt, ps = torch.softmax(t / T, -1), torch.softmax(s / T, -1)
    kl = (pt * (pt.log() - ps.log())).sum(-1).mean()
    ce = -torch.log_softmax(s, -1)[torch.arange(5), y].mean()
    expected = a * T * T * kl + (1 - a) * ce
    assert torch.allclose(distillation_loss(s, t, y, temperature=T, alpha=a), expected, atol=1e-6)
    assert torch.allclose(distillation_loss(s, t, y, alpha=0.0), F.cross_entropy(s, y))


def test_distillation_loss_is_zero_when_student_equals_teacher():
    t = torch.randn(4, 5)
    assert distillation_loss(t.clone(), t, temperature=4.0, alpha=1.0).abs() < 1e-6
    assert distillation_loss(t + 1.0, t, alpha=1.0).abs() < 1e-6  # a shift of all logits changes no probability
    assert distillation_loss(t * 2, t, alpha=1.0) > 0.01


def test_distillation_loss_bad_input():
    with pytest.raises(ValueError, match="shape"):
        distillation_loss(torch.zeros(2, 3), torch.zeros(2, 4), alpha=1.0)
    with pytest.raises(ValueError, match="labels"):
        distillation_loss(torch.zeros(2, 3), torch.zeros(2, 3), alpha=0.5)
    with pytest.raises(ValueError, match="temperature"):
        distillation_loss(torch.zeros(2, 3), torch.zeros(2, 3), temperature=0, alpha=1.0)


def test_truncate_layers(model, tokenizer):
    enc = tokenizer(TEXTS, padding=True, return_tensors="pt")
    same = truncate_layers(model, 3)
    with torch.no_grad():
        assert torch.equal(same(**enc).logits, model(**enc).logits)
    small = truncate_layers(model, 1)
    assert len(small.bert.encoder.layer) == 1 and small.config.num_hidden_layers == 1
    assert len(model.bert.encoder.layer) == 3  # the teacher keeps its layers
    assert torch.equal(
        small.bert.encoder.layer[0].attention.self.query.weight, model.bert.encoder.layer[0].attention.self.query.weight
    )
    with pytest.raises(ValueError, match="between 1 and"):
        truncate_layers(model, 4)
    with pytest.raises(TypeError, match="encoder"):
        truncate_layers(nn.Linear(2, 2), 1)


def test_distill_moves_the_student_towards_the_teacher(model, tokenizer):
    teacher = truncate_layers(model, 3)  # a copy with a confident head, so that there is something to learn
    with torch.no_grad():
        teacher.classifier.weight.mul_(30.0)
    model = teacher
    student = truncate_layers(teacher, 1)
    torch.manual_seed(1)
    student.classifier.reset_parameters()  # a fresh head: the student starts far from the teacher
    texts, labels = TEXTS * 4, [0, 1, 0, 1] * 4
    enc = tokenizer(texts, padding=True, return_tensors="pt")

    def gap():
        with torch.no_grad():
            return distillation_loss(student(**enc).logits, model(**enc).logits, alpha=1.0).item()

    before = gap()
    result = distill(
        student,
        model,
        tokenizer,
        texts,
        labels,
        eval_texts=TEXTS,
        eval_labels=[0, 1, 0, 1],
        epochs=3,
        batch_size=8,
        lr=1e-3,
        max_length=16,
        alpha=1.0,
        progress=False,
    )
    assert gap() < before
    assert len(result.history) == 3 and math.isfinite(result.seconds)
    with pytest.raises(ValueError, match="as many labels"):
        distill(student, model, tokenizer, texts, labels[:3])
    with pytest.raises(ValueError, match="eval_labels"):
        distill(student, model, tokenizer, texts, labels, eval_texts=TEXTS, progress=False)
    assert np.isfinite(result.history["train_loss"]).all()
    # helpers.train's result: the same history and step columns, the same plot
    assert isinstance(result, TrainResult)
    assert list(result.history.columns) == TRAIN_HISTORY and list(result.steps.columns) == TRAIN_STEPS
    assert result.history["epoch"].tolist() == [1, 2, 3] and result.history["step"].tolist() == [2, 4, 6]
    assert result.steps["step"].tolist() == [1, 2, 3, 4, 5, 6] and result.steps["epoch"].tolist() == [1, 1, 2, 2, 3, 3]
    assert result.steps["lr"].iloc[0] < result.steps["lr"].max(), "linear warm-up, then decay (make_scheduler)"
    assert result.history["lr"].iloc[-1] == 0.0
    assert result.best["eval_accuracy"] == result.history["eval_accuracy"].max()
    assert result.config["alpha"] == 1.0 and result.config["schedule"] == "linear"
    fig = result.plot()
    assert fig.axes[0].lines and fig.axes[1].lines
    plt.close(fig)


def test_helpers_train_writes_the_columns_the_other_loops_copy(tokenizer):
    """The small loops (train_rnn, distill, train_pretraining, train_heads) are held to these columns: if train()
    changes them, this test says so, and the lists here and in test_rnn.py / test_pretraining.py follow."""
    result = helpers.train(
        tiny_bert_classifier(num_labels=2, hidden_size=32, num_layers=1),
        (TEXTS, [0, 1, 0, 1]),
        (TEXTS, [0, 1, 0, 1]),
        tokenizer=tokenizer,
        epochs=1,
        batch_size=2,
        progress=False,
        device="cpu",
    )
    assert list(result.history.columns) == TRAIN_HISTORY
    assert list(result.steps.columns) == TRAIN_STEPS
