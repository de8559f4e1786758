"""helpers.finetune: the loss by hand equals PyTorch's, max_length from lengths, padding shares, AdamW timing."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from transformers import BertConfig, BertForSequenceClassification

from helpers import finetune as ft
from helpers.training import LengthBucketSampler


def test_cross_entropy_matches_torch_and_the_model():
    torch.manual_seed(0)
    logits = torch.randn(7, 3) * 4
    labels = torch.tensor([0, 2, 1, 1, 0, 2, 2])
    assert ft.cross_entropy_by_hand(logits, labels).item() == pytest.approx(
        F.cross_entropy(logits, labels).item(), abs=1e-6
    )
    cfg = BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, num_labels=3)
    model = BertForSequenceClassification(cfg).eval()
    ids = torch.randint(5, 100, (4, 6))
    with torch.no_grad():
        out = model(input_ids=ids, labels=labels[:4])
    assert ft.cross_entropy_by_hand(out.logits, labels[:4]).item() == pytest.approx(out.loss.item(), abs=1e-6)


def test_cross_entropy_known_values_and_no_overflow():
    # two equal logits: -log(1/2); lists are accepted
    assert ft.cross_entropy_by_hand([[0.0, 0.0]], [1]).item() == pytest.approx(np.log(2))
    big = torch.tensor([[1000.0, 0.0], [0.0, 1000.0]])
    assert ft.cross_entropy_by_hand(big, torch.tensor([0, 0])).item() == pytest.approx(500.0)


@pytest.mark.parametrize(
    "logits, labels, match",
    [
        (torch.zeros(3), torch.tensor([0, 1, 0]), "shape"),
        (torch.zeros(3, 2), torch.tensor([0, 1]), "one class id per row"),
        (torch.zeros(2, 2), torch.tensor([0, 2]), "0..1"),
        (torch.zeros(2, 2), torch.tensor([0.0, 1.0]), "integer"),
        (torch.zeros(0, 2), torch.zeros(0, dtype=torch.long), "no examples"),
    ],
)
def test_cross_entropy_bad_input(logits, labels, match):
    with pytest.raises(ValueError, match=match):
        ft.cross_entropy_by_hand(logits, labels)


def test_choose_max_length():
    lengths = list(range(1, 101))  # 1..100
    assert ft.choose_max_length(lengths, quantile=1.0) == 104  # 100 rounded up to a multiple of 8
    assert ft.choose_max_length(lengths, quantile=0.5, multiple=1) == 51
    assert ft.choose_max_length(lengths, quantile=0.99, limit=64) == 64
    assert ft.choose_max_length([3, 3, 3]) == 8
    with pytest.raises(ValueError, match="No lengths"):
        ft.choose_max_length([])
    with pytest.raises(ValueError, match="quantile"):
        ft.choose_max_length([5], quantile=0)


def test_padding_fraction_by_hand():
    lengths = [2, 4, 6, 8]
    # batches {2,4} and {6,8}: padded to 4 and 8 -> 24 positions, 20 real
    assert ft.padding_fraction(lengths, [[0, 1], [2, 3]]) == pytest.approx(1 - 20 / 24)
    # one batch of all: padded to 8 -> 32 positions
    assert ft.padding_fraction(lengths, [[0, 1, 2, 3]]) == pytest.approx(1 - 20 / 32)
    # fixed width 6: 2+4+6+6 real of 24 (8 is truncated to 6)
    assert ft.padding_fraction(lengths, [[0, 1, 2, 3]], width=6) == pytest.approx(1 - 18 / 24)
    with pytest.raises(ValueError, match="no examples"):
        ft.padding_fraction(lengths, [[]])


def test_random_batches_cover_everything_once_and_bucketing_pads_less():
    batches = ft.random_batches(103, 10, seed=1)
    assert [len(b) for b in batches] == [10] * 10 + [3]
    assert sorted(np.concatenate(batches).tolist()) == list(range(103))
    assert all((a == b).all() for a, b in zip(batches, ft.random_batches(103, 10, seed=1)))
    lengths = np.random.default_rng(0).integers(5, 60, 500)
    bucketed = LengthBucketSampler(lengths, 16, seed=0).batches(0)
    assert ft.padding_fraction(lengths, bucketed) < ft.padding_fraction(lengths, ft.random_batches(500, 16))
    with pytest.raises(ValueError, match="batch_size"):
        ft.random_batches(5, 0)


def test_adamw_step_seconds_fused_equals_unfused():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(20, 30), torch.nn.LayerNorm(30), torch.nn.Linear(30, 2))
    before = [p.detach().clone() for p in model.parameters()]
    t_fused, fused = ft.adamw_step_seconds(model, fused=True, steps=2, return_model=True)
    t_plain, plain = ft.adamw_step_seconds(model, fused=False, steps=2, return_model=True)
    assert t_fused > 0 and t_plain > 0
    for a, b, orig in zip(fused.parameters(), plain.parameters(), before):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
        assert not torch.equal(a, orig)  # the copy moved...
    for p, orig in zip(model.parameters(), before):
        assert torch.equal(p, orig)  # ...the model did not
    with pytest.raises(ValueError, match="steps"):
        ft.adamw_step_seconds(model, fused=True, steps=0)


def test_adamw_step_seconds_times_a_copy_on_the_device_given():
    model = torch.nn.Linear(4, 2)
    seconds, work = ft.adamw_step_seconds(model, fused=False, steps=1, return_model=True, device="meta")
    assert seconds >= 0 and {p.device.type for p in work.parameters()} == {"meta"}
    assert {p.device.type for p in model.parameters()} == {"cpu"}  # only the copy moved


def test_stopwatch():
    import time

    with ft.stopwatch() as clock:
        time.sleep(0.02)
    assert 0.015 < clock.seconds < 1.0
