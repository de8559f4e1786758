"""helpers.long_text: what each truncation keeps, window boundaries token by token, aggregation and cost."""

import numpy as np
import pytest
import torch
from conftest import tiny_bert_classifier

from helpers.long_text import (
    aggregate_windows,
    chunk_ids,
    predict_truncated,
    predict_windows,
    tokenize_full,
    truncate_ids,
    truncated_inputs,
    window_inputs,
    window_starts,
)

LONG = (
    "The company reported record profits this quarter, driven by strong sales in Asia and a weaker dollar. "
    "Analysts had expected a smaller rise. Shares climbed four percent in early trading, while rivals fell. "
    "The chief executive said the outlook for next year remained uncertain because of rising costs."
)


@pytest.fixture(scope="module")
def model():
    return tiny_bert_classifier(num_labels=3)


def test_truncate_ids_keeps_head_tail_and_both():
    ids = list(range(100))
    assert truncate_ids(ids, 10, "head") == list(range(10))
    assert truncate_ids(ids, 10, "tail") == list(range(90, 100))
    assert truncate_ids(ids, 10, "head+tail", head_tokens=3) == [0, 1, 2] + list(range(93, 100))
    assert truncate_ids(ids, 12, "head+tail") == [0, 1, 2] + list(range(91, 100))  # default: a quarter from the head
    assert truncate_ids(ids[:5], 10, "tail") == ids[:5]  # a text that fits stays whole
    assert truncate_ids(ids, 10, "head+tail", head_tokens=0) == truncate_ids(ids, 10, "tail")
    assert truncate_ids(ids, 10, "head+tail", head_tokens=10) == truncate_ids(ids, 10, "head")


def test_truncate_ids_bad_input():
    with pytest.raises(ValueError, match="Unknown strategy"):
        truncate_ids([1, 2], 1, "middle")
    with pytest.raises(ValueError, match="budget"):
        truncate_ids([1, 2], 0)
    with pytest.raises(ValueError, match="head_tokens"):
        truncate_ids(list(range(20)), 10, "head+tail", head_tokens=11)


def test_truncated_inputs_match_the_tokenizer(tokenizer):
    (head,) = truncated_inputs(tokenizer, [LONG], 20, "head")
    assert head == tokenizer(LONG, truncation=True, max_length=20)["input_ids"]  # transformers' own truncation
    (tail,) = truncated_inputs(tokenizer, [LONG], 20, "tail")
    full = tokenizer(LONG)["input_ids"]
    assert tail == [tokenizer.cls_token_id] + full[-19:]  # the last 18 text tokens and [SEP]
    assert len(tail) == 20


@pytest.mark.parametrize("n,window,stride", [(0, 5, 5), (5, 5, 2), (6, 5, 5), (23, 6, 4), (40, 10, 10), (41, 10, 3)])
def test_windows_cover_every_token_with_the_right_overlap(n, window, stride):
    ids = list(range(n))
    chunks = chunk_ids(ids, window, stride)
    starts = window_starts(n, window, stride)
    assert all(len(c) <= window for c in chunks)
    assert sorted(set(t for c in chunks for t in c)) == ids  # every token covered
    assert chunks[-1][-1:] == ids[-1:]  # the last window reaches the end
    for a, b, s in zip(chunks, chunks[1:], starts[1:]):
        assert s - starts[starts.index(s) - 1] == stride
        assert a[stride:] == b[: len(a) - stride]  # consecutive windows share exactly window - stride tokens
        assert len(a) - stride == window - stride
    assert len(chunks) == (1 if n <= window else 1 + -(-(n - window) // stride))


def test_window_bad_input():
    with pytest.raises(ValueError, match="stride"):
        window_starts(10, 5, 6)
    with pytest.raises(ValueError, match="stride"):
        window_starts(10, 5, 0)
    with pytest.raises(ValueError, match="window"):
        window_starts(10, 0, 1)


def test_window_inputs_add_cls_and_sep_to_every_chunk(tokenizer):
    full = tokenizer(LONG, add_special_tokens=False)["input_ids"]
    rows = window_inputs(tokenizer, LONG, max_length=16, stride=10)
    assert all(r[0] == tokenizer.cls_token_id and r[-1] == tokenizer.sep_token_id for r in rows)
    assert all(len(r) <= 16 for r in rows)
    inner = [r[1:-1] for r in rows]
    assert inner == [full[s : s + 14] for s in range(0, len(full), 10)][: len(inner)]
    assert inner[-1][-1] == full[-1] and len(inner) == 1 + -(-(len(full) - 14) // 10)
    # one short window is exactly what the tokenizer makes of the text
    assert window_inputs(tokenizer, "a short text", 16, 8) == [tokenizer("a short text")["input_ids"]]


def test_tokenize_full_bad_input(tokenizer):
    with pytest.raises(TypeError, match="list of strings"):
        tokenize_full(tokenizer, "one text")
    with pytest.raises(TypeError, match="item 1"):
        tokenize_full(tokenizer, ["fine", 3])


def test_aggregate_windows():
    logits = torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    probs = torch.softmax(logits, dim=-1)
    assert torch.allclose(aggregate_windows(logits, "mean_probs"), probs.mean(0))
    assert torch.allclose(aggregate_windows(logits, "mean_logits"), torch.softmax(logits.mean(0), -1))
    top = probs.max(0).values
    assert torch.allclose(aggregate_windows(logits, "max_probs"), top / top.sum())
    with pytest.raises(ValueError, match="aggregate"):
        aggregate_windows(logits, "vote")
    with pytest.raises(ValueError, match="non-empty"):
        aggregate_windows(torch.zeros(0, 3))


def test_predictions_and_cost(model, tokenizer):
    texts = [LONG, "short one", LONG + " " + LONG]
    head = predict_truncated(model, tokenizer, texts, max_length=24, strategy="head")
    lengths = [len(x) for x in tokenizer(texts)["input_ids"]]
    assert head.tokens.tolist() == [min(n, 24) for n in lengths]
    with torch.no_grad():  # the first text, by hand
        ref = torch.softmax(
            model(torch.tensor([tokenizer(LONG, truncation=True, max_length=24)["input_ids"]])).logits, -1
        )
    assert np.allclose(head.probs[0], ref[0].numpy(), atol=1e-5)
    win = predict_windows(model, tokenizer, texts, max_length=24, stride=11)
    n_text = [n - 2 for n in lengths]
    expected_chunks = [1 if n <= 22 else 1 + -(-(n - 22) // 11) for n in n_text]
    assert win.chunks.tolist() == expected_chunks
    assert win.tokens.tolist() == [sum(len(c) + 2 for c in chunk_ids(range(n), 22, 11)) for n in n_text]
    assert win.total_tokens == int(win.tokens.sum())
    assert np.allclose(win.probs.sum(1), 1, atol=1e-5)
    assert np.allclose(
        win.probs[1], predict_truncated(model, tokenizer, ["short one"], max_length=24).probs[0], atol=1e-5
    )
    with torch.no_grad():  # the window mean of the first text, by hand
        rows = window_inputs(tokenizer, LONG, 24, 11)
        p = torch.stack([torch.softmax(model(torch.tensor([r])).logits[0], -1) for r in rows]).mean(0)
    assert np.allclose(win.probs[0], p.numpy(), atol=1e-5)
    by_logits = predict_windows(model, tokenizer, texts, max_length=24, stride=11, aggregate="mean_logits")
    assert np.allclose(win.reaggregate("mean_logits").probs, by_logits.probs, atol=1e-6)
    with pytest.raises(ValueError, match="predict_windows"):
        head.reaggregate("mean_logits")
