"""helpers.rnn: the BiLSTM learns a tiny synthetic task, ignores padding, and rejects bad input; train_rnn returns
helpers.train's result, with its history and step columns, and its plot."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from result_columns import TRAIN_HISTORY, TRAIN_STEPS

from helpers.rnn import BiLSTMClassifier, encode, predict_rnn, train_rnn
from helpers.training import TrainResult


def synthetic(n: int, seed: int):
    """Random token sequences of length 3-12 over ids 5-29; label 1 when token 7 occurs."""
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(3, 13, (n,), generator=g)
    ids = torch.zeros(n, 12, dtype=torch.long)
    labels = torch.zeros(n, dtype=torch.long)
    for i in range(n):
        row = torch.randint(8, 30, (int(lengths[i]),), generator=g)
        if i % 2:
            row[torch.randint(0, int(lengths[i]), (1,), generator=g)] = 7
            labels[i] = 1
        ids[i, : len(row)] = row
    return ids, lengths, labels


@pytest.fixture(scope="module")
def learned():
    torch.manual_seed(0)
    model = BiLSTMClassifier(30, 2, embed_dim=16, hidden=16, dropout=0.0)
    return train_rnn(model, synthetic(400, 0), synthetic(200, 1), epochs=8, batch_size=32, lr=1e-2, progress=False)


def test_bilstm_learns_a_keyword_task(learned):
    result = learned
    assert result.history["eval_accuracy"].max() > 0.95
    assert result.history["train_loss"].iloc[-1] < result.history["train_loss"].iloc[0]
    ids, lengths, labels = synthetic(200, 1)
    acc = (predict_rnn(result.model, ids, lengths).argmax(-1) == labels).float().mean()
    assert float(acc) == pytest.approx(result.history["eval_accuracy"].max())  # the best epoch was kept
    assert result.best["eval_accuracy"] == result.history["eval_accuracy"].max()


def test_train_rnn_returns_what_helpers_train_returns(learned):
    result = learned
    assert isinstance(result, TrainResult)
    assert list(result.history.columns) == TRAIN_HISTORY and list(result.steps.columns) == TRAIN_STEPS
    assert result.history["epoch"].tolist() == list(range(1, 9)) and len(result.steps) == 8 * 13  # 400 / 32 -> 13
    assert result.history["step"].tolist() == [13 * e for e in range(1, 9)]
    assert set(result.steps["lr"]) == {1e-2}, "Adam at a constant rate, as before (schedule='constant')"
    assert result.history["padding"].between(0, 1).all() and (result.history["seq_per_s"] > 0).all()
    assert result.config["lr"] == 1e-2 and result.config["schedule"] == "constant" and result.seconds > 0
    fig = result.plot()
    assert fig.axes[0].lines and fig.axes[1].lines, "loss and learning rate on the left, accuracy and F1 on the right"
    plt.close(fig)


def test_padding_does_not_change_the_output():
    torch.manual_seed(0)
    model = BiLSTMClassifier(30, 3, embed_dim=8, hidden=8).eval()
    ids = torch.tensor([[5, 6, 7, 0, 0]])
    wider = torch.tensor([[5, 6, 7, 0, 0, 0, 0, 0]])
    with torch.no_grad():
        a, b = model(ids, torch.tensor([3])), model(wider, torch.tensor([3]))
        c = model(ids[:, :3], torch.tensor([3]))
    assert torch.allclose(a, b) and torch.allclose(a, c)


def test_encode_matches_the_bert_encoding(tokenizer):
    ids, lengths = encode(tokenizer, ["a fine film", "bad"], max_length=8)
    assert ids[0, : int(lengths[0])].tolist() == tokenizer("a fine film")["input_ids"]
    assert lengths.tolist() == [5, 3]


def test_bad_input():
    with pytest.raises(ValueError, match="vocabulary"):
        BiLSTMClassifier(1, 2)
    model = BiLSTMClassifier(30, 2, embed_dim=4, hidden=4)
    with pytest.raises(ValueError, match="at least one token"):
        model(torch.zeros(1, 3, dtype=torch.long), torch.tensor([0]))
    ids, lengths, labels = synthetic(10, 0)
    with pytest.raises(ValueError, match="equally many"):
        train_rnn(model, (ids, lengths, labels[:5]))
    with pytest.raises(ValueError, match="epochs"):
        train_rnn(model, (ids, lengths, labels), epochs=0)
    with pytest.raises(ValueError, match="schedule"):
        train_rnn(model, (ids, lengths, labels), schedule="sometimes", progress=False)
    assert np.isfinite(predict_rnn(model, ids, lengths).numpy()).all()
