"""The training engine on a tiny randomly initialised BERT (CPU, seconds): batching, schedule, resume,
out-of-memory retry, input checks, early stopping, history and plot."""

import math
import warnings

import numpy as np
import pytest
import torch
from transformers import BertConfig, BertForSequenceClassification, BertModel

import helpers.training as train_module
from helpers.training import LengthBucketSampler, load_checkpoint, param_groups, plot_history, train

TEXTS = [
    "a gorgeous, witty film", "dull.", "the plot never comes together and the jokes fall flat",
    "one of the best films of the year", "i hated it", "a warm, funny and beautifully acted story",
    "too long", "a mess from start to finish, with nothing to recommend it", "wonderful", "bad acting, worse script",
    "an easy, charming watch", "it drags", "the cast is terrific and the ending earns its tears", "pointless",
    "smart and moving", "a tedious slog through familiar territory", "great fun", "forgettable",
    "a small miracle of a movie", "not worth the ticket", "funny", "the director has no idea what to do with the story",
    "a delight", "boring and predictable from the first scene to the last",
]
LABELS = [1, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0]
EVAL = (["a joy to watch", "awful", "brilliant and touching", "a waste of time", "lovely", "dreadful"],
        [1, 0, 1, 0, 1, 0])


def tiny_model(seed=0, dropout=0.1, num_labels=2, vocab_size=30522):
    torch.manual_seed(seed)
    cfg = BertConfig(vocab_size=vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=64, num_labels=num_labels,
                     hidden_dropout_prob=dropout, attention_probs_dropout_prob=dropout)
    return BertForSequenceClassification(cfg)


def quiet(**kw):
    return {"progress": False, "device": "cpu", "seed": 0, **kw}


def weights_of(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


# --- the bucketing sampler --------------------------------------------------------------------------

@pytest.mark.parametrize("pool_batches", [None, 3])
def test_sampler_yields_every_index_once_per_epoch(pool_batches):
    lengths = np.random.default_rng(1).integers(3, 60, size=203)
    sampler = LengthBucketSampler(lengths, batch_size=16, seed=0, pool_batches=pool_batches)
    for epoch in range(3):
        batches = sampler.batches(epoch)
        assert len(batches) == len(sampler) == math.ceil(203 / 16)
        flat = np.concatenate(batches)
        assert sorted(flat.tolist()) == list(range(203))
        assert all(1 <= len(b) <= 16 for b in batches)
    assert not np.array_equal(np.concatenate(sampler.batches(0)), np.concatenate(sampler.batches(1)))
    assert all(np.array_equal(a, b) for a, b in zip(sampler.batches(2), sampler.batches(2)))  # (seed, epoch) decides


def test_sampler_batches_are_length_homogeneous():
    lengths = np.random.default_rng(2).lognormal(np.log(16), 0.5, size=512).astype(int) + 2
    batches = LengthBucketSampler(lengths, batch_size=32, seed=0).batches(0)
    # one pool: the batches are consecutive runs of the sorted lengths, so their ranges do not overlap
    ranges = sorted((lengths[b].min(), lengths[b].max()) for b in batches)
    assert all(hi <= next_lo for (_, hi), (next_lo, _) in zip(ranges, ranges[1:]))

    def padding(batch_list):
        return 1 - lengths.sum() / sum(len(b) * lengths[b].max() for b in batch_list)

    random_batches = np.array_split(np.random.default_rng(0).permutation(512), 16)
    pooled = LengthBucketSampler(lengths, batch_size=32, seed=0, pool_batches=4).batches(0)
    assert padding(batches) < padding(pooled) < padding(random_batches)


# --- optimiser groups, history, schedule -------------------------------------------------------------

def test_no_weight_decay_on_biases_and_layernorm():
    model = tiny_model()
    decay, no_decay = param_groups(model, 0.01)
    names = {id(p): n for n, p in model.named_parameters()}
    assert decay["weight_decay"] == 0.01 and no_decay["weight_decay"] == 0.0
    assert all(names[id(p)].endswith("bias") or "LayerNorm" in names[id(p)] for p in no_decay["params"])
    assert all(names[id(p)].endswith("weight") and "LayerNorm" not in names[id(p)] for p in decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(model.parameters()))


def test_history_lengths_and_warmup_then_decay(tokenizer):
    result = train(tiny_model(), (TEXTS, LABELS), EVAL, tokenizer=tokenizer, epochs=3, batch_size=4, lr=1e-3,
                   warmup_ratio=0.2, **quiet())
    steps_per_epoch = math.ceil(len(TEXTS) / 4)
    assert len(result.steps) == 3 * steps_per_epoch
    assert result.steps["step"].tolist() == list(range(1, 3 * steps_per_epoch + 1))
    assert np.isfinite(result.steps["loss"]).all()
    assert len(result.history) == 3 and result.history["epoch"].tolist() == [1, 2, 3]
    for col in ("train_loss", "lr", "eval_loss", "eval_accuracy", "eval_f1", "seq_per_s", "tokens_per_s",
                "padding", "seconds"):
        assert col in result.history
    lrs = result.steps["lr"].to_numpy()
    warmup = math.ceil(0.2 * len(lrs))
    peak = int(np.argmax(lrs))
    assert peak == warmup and lrs[peak] == pytest.approx(1e-3)
    assert (np.diff(lrs[: peak + 1]) > 0).all() and (np.diff(lrs[peak:]) < 0).all()
    assert result.history["seq_per_s"].gt(0).all()
    assert result.best is not None and result.best["eval_accuracy"] == result.history["eval_accuracy"].max()


def test_eval_every_adds_rows_and_training_learns(tokenizer):
    result = train(tiny_model(dropout=0.0), (TEXTS, LABELS), (TEXTS, LABELS), tokenizer=tokenizer, epochs=4,
                   batch_size=8, lr=3e-3, eval_every=2, metric="loss", **quiet())
    # 3 steps per epoch: evaluations every 2 steps and at the 4 epoch ends (steps 6 and 12 are both)

    assert result.history["step"].tolist() == [2, 3, 4, 6, 8, 9, 10, 12]
    losses = result.history["eval_loss"]
    assert losses.iloc[-1] < losses.iloc[0]  # it fits its own training data


def test_dataset_input_sets_label_names(tokenizer):
    import datasets

    features = datasets.Features({"text": datasets.Value("string"),
                                  "label": datasets.ClassLabel(names=["negative", "positive"])})
    ds = datasets.Dataset.from_dict({"text": TEXTS, "label": LABELS}, features=features)
    model = tiny_model()
    result = train(model, ds, ds, tokenizer=tokenizer, epochs=1, batch_size=8, **quiet())
    assert result.model.config.id2label == {0: "negative", 1: "positive"}
    assert len(result.history) == 1


def test_early_stopping_and_best_model(tokenizer):
    model = tiny_model()
    before = weights_of(model)
    # lr 0: nothing changes, the validation loss never improves, so patience 1 stops after the 2nd evaluation
    result = train(model, (TEXTS, LABELS), EVAL, tokenizer=tokenizer, epochs=5, batch_size=8, lr=0.0,
                   metric="loss", early_stopping_patience=1, **quiet())
    assert len(result.history) == 2
    assert any("Early stopping" in n for n in result.notes)
    assert all(torch.equal(before[k], v) for k, v in result.model.state_dict().items())


def test_plot_history(tokenizer):
    result = train(tiny_model(), (TEXTS, LABELS), EVAL, tokenizer=tokenizer, epochs=2, batch_size=8, **quiet())
    fig = plot_history(result)
    assert fig._suptitle.get_text()
    for ax in fig.axes[:2]:
        assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()


# --- resume: an interrupted run ends exactly like an uninterrupted one ---------------------------------

def test_resume_after_interruption_gives_identical_weights_and_metrics(tokenizer, tmp_path):
    settings = dict(tokenizer=tokenizer, epochs=3, batch_size=4, lr=2e-3, **quiet())  # dropout on: RNG matters
    full = train(tiny_model(), (TEXTS, LABELS), EVAL, **settings)

    class Interrupted(Exception):
        pass

    def crash_at_step_11(step):
        if step == 11:  # mid-epoch 2; the last checkpoint was written after step 10
            raise Interrupted

    with pytest.raises(Interrupted):
        train(tiny_model(), (TEXTS, LABELS), EVAL, checkpoint_dir=tmp_path, checkpoint_every=5,
              on_step=crash_at_step_11, **settings)
    saved = load_checkpoint(tmp_path)
    assert saved["loop"]["step"] == 10 and saved["loop"]["epoch"] == 1 and saved["loop"]["batch"] == 4
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]  # no temporary file left behind

    resumed = train(tiny_model(seed=123), (TEXTS, LABELS), EVAL, checkpoint_dir=tmp_path, resume=True, **settings)
    assert any("Resumed" in n for n in resumed.notes)
    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    cols = ["epoch", "step", "train_loss", "eval_loss", "eval_accuracy", "eval_f1"]
    assert full.history[cols].equals(resumed.history[cols])
    assert full.steps.equals(resumed.steps)


def test_resume_refuses_other_settings(tokenizer, tmp_path):
    train(tiny_model(), (TEXTS, LABELS), tokenizer=tokenizer, epochs=1, batch_size=8, checkpoint_dir=tmp_path,
          **quiet())
    with pytest.raises(ValueError, match="other settings"):
        train(tiny_model(), (TEXTS, LABELS), tokenizer=tokenizer, epochs=1, batch_size=8, lr=5e-4,
              checkpoint_dir=tmp_path, resume=True, **quiet())


# --- out of memory: half the micro-batch, twice the accumulation, same result ---------------------------

def test_oom_retry_halves_micro_batch_and_keeps_the_result(tokenizer, monkeypatch):
    settings = dict(tokenizer=tokenizer, epochs=2, lr=2e-3, **quiet())
    reference = train(tiny_model(dropout=0.0), (TEXTS, LABELS), EVAL, batch_size=8, **settings)
    split = train(tiny_model(dropout=0.0), (TEXTS, LABELS), EVAL, batch_size=4, grad_accum=2, **settings)

    real = train_module.forward_backward
    sizes = []

    def fake_oom_for_big_batches(model, data, rows, *args, **kwargs):
        sizes.append(len(rows))
        if len(rows) > 4:
            raise torch.OutOfMemoryError("CUDA out of memory (simulated)")
        return real(model, data, rows, *args, **kwargs)

    monkeypatch.setattr(train_module, "forward_backward", fake_oom_for_big_batches)
    with pytest.warns(RuntimeWarning, match="micro-batch 4 and 2 accumulation"):
        retried = train(tiny_model(dropout=0.0), (TEXTS, LABELS), EVAL, batch_size=8, **settings)
    assert sizes[0] == 8 and set(sizes[1:]) == {4}  # one failure, then only halves
    assert retried.config["grad_accum"] == 2 and retried.config["effective_batch"] == 8
    a, b, c = (r.model.state_dict() for r in (split, retried, reference))
    assert all(torch.equal(a[k], b[k]) for k in a)  # exactly the run planned with accumulation
    assert all(torch.allclose(b[k], c[k], atol=1e-5) for k in a)  # and the unsplit run, up to rounding
    assert retried.history["eval_accuracy"].tolist() == reference.history["eval_accuracy"].tolist()


# --- bad input: clear errors before any training ---------------------------------------------------------

@pytest.fixture
def no_training(monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("training started")

    monkeypatch.setattr(train_module, "forward_backward", must_not_run)


@pytest.mark.parametrize("data, error, message", [
    (([], []), ValueError, "empty"),
    ((["good", "bad"], [0, 2]), ValueError, "label 1 is 2"),
    ((["good", "bad"], [0, -1]), ValueError, "label 1 is -1"),
    ((["good", "bad"], [0, 1.0]), ValueError, "label 1 is 1.0"),
    ((["good", None], [0, 1]), TypeError, "text 1 is NoneType"),
    ((["good", 3], [0, 1]), TypeError, "text 1 is int"),
    ((["good", "bad"], [0]), ValueError, "2 texts but 1 labels"),
    ("just a string", TypeError, "must be a datasets.Dataset"),
])
def test_bad_data_raises_before_training(tokenizer, no_training, data, error, message):
    with pytest.raises(error, match=message):
        train(tiny_model(), data, tokenizer=tokenizer, **quiet())


def test_model_without_head_raises(tokenizer, no_training):
    torch.manual_seed(0)
    encoder = BertModel(BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64))
    with pytest.raises(TypeError, match="no sequence-classification head"):
        train(encoder, (TEXTS, LABELS), tokenizer=tokenizer, **quiet())


def test_mismatched_tokenizer_raises(tokenizer, no_training):
    with pytest.raises(ValueError, match="do not belong together"):
        train(tiny_model(vocab_size=1000), (TEXTS, LABELS), tokenizer=tokenizer, **quiet())


def test_bad_eval_data_and_settings_raise(tokenizer, no_training):
    with pytest.raises(ValueError, match="eval_data: label 0 is 5"):
        train(tiny_model(), (TEXTS, LABELS), (["x"], [5]), tokenizer=tokenizer, **quiet())
    with pytest.raises(ValueError, match="metric"):
        train(tiny_model(), (TEXTS, LABELS), tokenizer=tokenizer, metric="auc", **quiet())
    with pytest.raises(ValueError, match="checkpoint_dir"):
        train(tiny_model(), (TEXTS, LABELS), tokenizer=tokenizer, resume=True, **quiet())
    with pytest.raises(ValueError, match="regression"):
        train(tiny_model(num_labels=1), (TEXTS, [0] * len(TEXTS)), tokenizer=tokenizer, **quiet())


def test_warnings_are_not_raised_in_a_normal_run(tokenizer):
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        train(tiny_model(), (TEXTS, LABELS), tokenizer=tokenizer, epochs=1, batch_size=8, **quiet())
