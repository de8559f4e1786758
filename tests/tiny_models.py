"""Tiny randomly initialised BERT classifiers for the unit tests: seconds on a CPU, and no download."""

import torch
from transformers import BertConfig, BertForSequenceClassification


def tiny_bert(*, hidden: int = 32, vocab_size: int = 30522, max_positions: int = 64, seed: int = 0, **config):
    """A 2-layer, 2-head BERT classifier in eval mode, with the feed-forward width twice ``hidden``.

    ``config`` goes to ``BertConfig`` (``num_labels``, ``id2label``, ``attn_implementation``, ...).
    """
    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=2 * hidden,
        max_position_embeddings=max_positions,
        **config,
    )
    return BertForSequenceClassification(cfg).eval()
