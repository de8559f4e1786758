"""helpers.prune: global magnitude pruning of the encoder's linear layers on a tiny BERT."""

import pytest
import torch
from tiny_models import tiny_bert

from helpers.prune import encoder_linears, encoder_sparsity, prune_encoder


def small_bert():
    return tiny_bert(hidden=16, vocab_size=50, max_positions=16, num_labels=2)


def test_the_encoder_linears_are_the_attention_and_feed_forward_layers():
    names = [name for name, _ in encoder_linears(small_bert())]
    assert len(names) == 2 * 6  # query, key, value, attention output, intermediate, output per layer
    assert all(".encoder." in f".{n}" for n in names)
    assert not any("pooler" in n or "classifier" in n for n in names)


@pytest.mark.parametrize("amount", [0.3, 0.5, 0.9])
def test_prune_encoder_reaches_the_sparsity_and_leaves_the_original(amount):
    model = small_bert()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    pruned = prune_encoder(model, amount)
    assert encoder_sparsity(pruned) == pytest.approx(amount, abs=1e-3)
    assert encoder_sparsity(model) == 0.0
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # the original is untouched
    assert set(pruned.state_dict()) == set(before)  # no masks or _orig copies left behind
    kept = torch.cat([m.weight.abs().flatten() for _, m in encoder_linears(pruned)])
    removed = torch.cat(
        [(o.weight.abs())[p.weight == 0] for (_, o), (_, p) in zip(encoder_linears(model), encoder_linears(pruned))]
    )
    assert removed.max() <= kept[kept > 0].min()  # the smallest weights went, across all layers at once
    assert torch.equal(pruned.classifier.weight, model.classifier.weight)
    x = torch.randint(1, 50, (2, 6))
    assert pruned(input_ids=x).logits.shape == (2, 2)


def test_prune_nothing_is_a_copy():
    model = small_bert()
    x = torch.randint(1, 50, (2, 6))
    assert torch.equal(prune_encoder(model, 0.0)(input_ids=x).logits, model(input_ids=x).logits)


def test_bad_input_is_explained():
    with pytest.raises(ValueError, match=r"\[0, 1\)"):
        prune_encoder(small_bert(), 1.0)
    with pytest.raises(ValueError, match="BERT-style"):
        encoder_linears(torch.nn.LSTM(4, 4))
