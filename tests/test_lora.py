"""helpers.lora: LoRA adapters through peft, and a clear message when peft is missing."""

import sys

import pytest
import torch
from tiny_models import tiny_bert

import helpers.lora as lora


def small_bert():
    return tiny_bert(hidden=16, vocab_size=50, max_positions=16, num_labels=2).train()


def test_without_peft_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "peft", None)  # import peft now raises ImportError
    assert not lora.peft_available()
    with pytest.raises(ImportError, match="pip install peft"):
        lora.require_peft()
    with pytest.raises(ImportError, match="pip install peft"):
        lora.add_lora(small_bert())


def test_trainable_parameters_counts_what_requires_grad():
    model = small_bert()
    total = sum(p.numel() for p in model.parameters())
    assert lora.trainable_parameters(model) == (total, total)
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    assert lora.trainable_parameters(model) == (total - 50 * 16, total)


def test_bad_settings_are_explained():
    with pytest.raises(ValueError, match="positive whole number"):
        lora.add_lora(small_bert(), r=0)
    with pytest.raises(ValueError, match="no module named"):
        lora.add_lora(small_bert(), target_modules=("q_proj",))


def test_add_lora_trains_only_the_adapters_and_the_head():
    pytest.importorskip("peft")
    model = small_bert().eval()
    x = torch.randint(1, 50, (2, 6))
    plain_logits = model(input_ids=x).logits.detach()
    wrapped = lora.add_lora(model, r=2).eval()
    trainable, total = lora.trainable_parameters(wrapped)
    names = [n for n, p in wrapped.named_parameters() if p.requires_grad]
    assert all("lora_" in n or "classifier" in n for n in names) and any("lora_A" in n for n in names)
    # 2 layers x (query, value) x (A: 2 x 16, B: 16 x 2), plus the head (16 x 2 + 2)
    assert trainable == 2 * 2 * (2 * 16 + 16 * 2) + 16 * 2 + 2 and total > trainable
    assert torch.allclose(wrapped(input_ids=x).logits, plain_logits)  # B starts at zero: the same function at first
    wrapped.train()
    loss = wrapped(input_ids=x, labels=torch.tensor([0, 1])).loss
    loss.backward()
    assert all(p.grad is None for n, p in wrapped.named_parameters() if not p.requires_grad)
