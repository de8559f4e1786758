"""The training engine on a tiny randomly initialised BERT (CPU, seconds): batching, schedule, resume,
out-of-memory retry, input checks, early stopping, history and plot."""

import dataclasses
import math
import warnings

import numpy as np
import pytest
import torch
from fixtures.toy_reviews import LABELS, TEXTS
from result_columns import TRAIN_HISTORY
from transformers import BertConfig, BertForSequenceClassification, BertModel

import helpers.training as train_module
from helpers.training import LengthBucketSampler, load_checkpoint, param_groups, plot_history, train

EVAL = (
    ["a joy to watch", "awful", "brilliant and touching", "a waste of time", "lovely", "dreadful"],
    [1, 0, 1, 0, 1, 0],
)


def tiny_model(seed=0, dropout=0.1, num_labels=2, vocab_size=30522):
    torch.manual_seed(seed)
    cfg = BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
        num_labels=num_labels,
        hidden_dropout_prob=dropout,
        attention_probs_dropout_prob=dropout,
    )
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
    result = train(
        tiny_model(),
        (TEXTS, LABELS),
        EVAL,
        tokenizer=tokenizer,
        epochs=3,
        batch_size=4,
        lr=1e-3,
        warmup_ratio=0.2,
        **quiet(),
    )
    steps_per_epoch = math.ceil(len(TEXTS) / 4)
    assert len(result.steps) == 3 * steps_per_epoch
    assert result.steps["step"].tolist() == list(range(1, 3 * steps_per_epoch + 1))
    assert np.isfinite(result.steps["loss"]).all()
    assert len(result.history) == 3 and result.history["epoch"].tolist() == [1, 2, 3]
    assert list(result.history.columns) == TRAIN_HISTORY
    lrs = result.steps["lr"].to_numpy()
    warmup = math.ceil(0.2 * len(lrs))
    peak = int(np.argmax(lrs))
    assert peak == warmup and lrs[peak] == pytest.approx(1e-3)
    assert (np.diff(lrs[: peak + 1]) > 0).all() and (np.diff(lrs[peak:]) < 0).all()
    assert result.history["seq_per_s"].gt(0).all()
    assert result.best is not None and result.best["eval_accuracy"] == result.history["eval_accuracy"].max()


def test_eval_every_adds_rows_and_training_learns(tokenizer):
    result = train(
        tiny_model(dropout=0.0),
        (TEXTS, LABELS),
        (TEXTS, LABELS),
        tokenizer=tokenizer,
        epochs=4,
        batch_size=8,
        lr=3e-3,
        eval_every=2,
        metric="loss",
        **quiet(),
    )
    # 3 steps per epoch: evaluations every 2 steps and at the 4 epoch ends (steps 6 and 12 are both)

    assert result.history["step"].tolist() == [2, 3, 4, 6, 8, 9, 10, 12]
    losses = result.history["eval_loss"]
    assert losses.iloc[-1] < losses.iloc[0]  # it fits its own training data


def test_dataset_input_sets_label_names(tokenizer):
    import datasets

    features = datasets.Features(
        {"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["negative", "positive"])}
    )
    ds = datasets.Dataset.from_dict({"text": TEXTS, "label": LABELS}, features=features)
    model = tiny_model()
    result = train(model, ds, ds, tokenizer=tokenizer, epochs=1, batch_size=8, **quiet())
    assert result.model.config.id2label == {0: "negative", 1: "positive"}
    assert len(result.history) == 1


def test_early_stopping_and_best_model(tokenizer):
    model = tiny_model()
    before = weights_of(model)
    # lr 0: nothing changes, the validation loss never improves, so patience 1 stops after the 2nd evaluation
    result = train(
        model,
        (TEXTS, LABELS),
        EVAL,
        tokenizer=tokenizer,
        epochs=5,
        batch_size=8,
        lr=0.0,
        metric="loss",
        early_stopping_patience=1,
        **quiet(),
    )
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


class Interrupted(Exception):
    """Raised from on_step to stop a run the way a crash or a killed job would."""


def train_until_crash(checkpoint_dir, *, crash_at: int, checkpoint_every: int, **settings) -> None:
    """Start a checkpointed run of tiny_model() that crashes after step ``crash_at`` (its checkpoints stay)."""

    def crash(step):
        if step == crash_at:
            raise Interrupted

    with pytest.raises(Interrupted):
        train(
            tiny_model(),
            (TEXTS, LABELS),
            EVAL,
            checkpoint_dir=checkpoint_dir,
            checkpoint_every=checkpoint_every,
            on_step=crash,
            **settings,
        )


def test_resume_after_interruption_gives_identical_weights_and_metrics(tokenizer, tmp_path):
    settings = dict(tokenizer=tokenizer, epochs=3, batch_size=4, lr=2e-3, **quiet())  # dropout on: RNG matters
    full = train(tiny_model(), (TEXTS, LABELS), EVAL, **settings)

    train_until_crash(tmp_path, crash_at=11, checkpoint_every=5, **settings)  # mid-epoch 2; last checkpoint: step 10
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
    train(
        tiny_model(), (TEXTS, LABELS), tokenizer=tokenizer, epochs=1, batch_size=8, checkpoint_dir=tmp_path, **quiet()
    )
    with pytest.raises(ValueError, match="other settings"):
        train(
            tiny_model(),
            (TEXTS, LABELS),
            tokenizer=tokenizer,
            epochs=1,
            batch_size=8,
            lr=5e-4,
            checkpoint_dir=tmp_path,
            resume=True,
            **quiet(),
        )


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


@pytest.mark.parametrize(
    "data, error, message",
    [
        (([], []), ValueError, "empty"),
        ((["good", "bad"], [0, 2]), ValueError, "label 1 is 2"),
        ((["good", "bad"], [0, -1]), ValueError, "label 1 is -1"),
        ((["good", "bad"], [0, 1.0]), ValueError, "label 1 is 1.0"),
        ((["good", None], [0, 1]), TypeError, "text 1 is NoneType"),
        ((["good", 3], [0, 1]), TypeError, "text 1 is int"),
        ((["good", "bad"], [0]), ValueError, "2 texts but 1 labels"),
        ("just a string", TypeError, "must be a datasets.Dataset"),
    ],
)
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


# --- the GPU precision paths, run on the CPU: fp16 autocast with a loss scaler, bf16 autocast ---------------------

FILLERS = ["the film", "this movie", "the story", "the cast", "our evening", "the ending", "the script", "that show"]


def toy_task(words, seed):
    """A trivially separable task: class 1 when the text says 'great', class 0 when it says 'awful'."""
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(len(words) * 4):
        label = i % 2
        texts.append(f"{words[rng.integers(len(words))]} was {'great' if label else 'awful'}")
        labels.append(label)
    return texts, labels


class CountingScaler(torch.amp.GradScaler):
    """The real GradScaler, remembering that it was made (and for which device)."""

    made: list = []

    def __init__(self, device="cuda", *args, **kwargs):
        super().__init__(device, *args, **kwargs)
        CountingScaler.made.append(device)


@pytest.mark.parametrize(
    "precision, dtype", [("fp16", torch.float16), ("bf16", torch.bfloat16), ("auto", torch.float32)]
)
def test_precision_paths_learn_a_toy_task_on_the_cpu(tokenizer, monkeypatch, precision, dtype):
    monkeypatch.setattr(torch.amp, "GradScaler", CountingScaler)
    CountingScaler.made = []
    model = tiny_model(dropout=0.0)
    seen = []
    model.classifier.register_forward_hook(lambda m, i, out: seen.append(out.dtype))
    result = train(
        model,
        toy_task(FILLERS[:6], 0),
        toy_task(FILLERS[6:], 1),
        tokenizer=tokenizer,
        epochs=10,
        batch_size=4,
        lr=3e-3,
        precision=precision,
        **quiet(),
    )
    assert result.config["precision"] == ("fp32" if precision == "auto" else precision)  # auto: fp32 on a CPU
    assert set(seen) == {dtype}, "the forward ran in another precision than asked"
    assert CountingScaler.made == (["cpu"] if precision == "fp16" else [])  # loss scaling for fp16 only
    assert result.history["eval_accuracy"].iloc[-1] >= 0.95, result.history  # held-out fillers
    assert (
        result.history["train_loss"].iloc[-1] < 0.4 < result.history["train_loss"].iloc[0]
    )  # it learned (ln 2 = 0.69)
    assert np.isfinite(result.steps["loss"]).all()


def test_fp16_skipped_step_leaves_weights_and_schedule_alone():
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 2)
    optimizer = train_module.make_optimizer(model, 1e-2, 0.0, torch.device("cpu"))
    scheduler = train_module.make_scheduler(optimizer, total_steps=10, warmup_ratio=0.0)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
    x, y = torch.randn(8, 4), torch.randint(0, 2, (8,))

    def backward():
        with torch.autocast("cpu", dtype=torch.float16):
            loss = torch.nn.functional.cross_entropy(model(x).float(), y)
        scaler.scale(loss).backward()

    before = weights_of(model)
    backward()
    model.weight.grad[0, 0] = float("inf")  # what an fp16 overflow leaves behind
    assert train_module.optimizer_step(model, optimizer, scheduler, scaler, max_grad_norm=1.0) is False
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # no update
    assert scheduler.last_epoch == 0 and scheduler.get_last_lr()[0] == pytest.approx(1e-2)  # schedule did not move
    assert scaler.get_scale() == 2.0**9 and model.weight.grad is None  # scale halved, gradients cleared
    backward()
    assert train_module.optimizer_step(model, optimizer, scheduler, scaler, max_grad_norm=1.0) is True
    assert not torch.equal(before["weight"], model.weight) and scheduler.last_epoch == 1


def big_first_scale(monkeypatch, scale=2.0**24):
    """Start the loss scale so high that the first fp16 steps overflow and are skipped, as happens on a GPU."""
    real = torch.amp.GradScaler

    def scaler(device="cuda", *args, **kwargs):
        return real(device, init_scale=scale)

    monkeypatch.setattr(torch.amp, "GradScaler", scaler)


def test_fp16_run_with_skipped_steps_still_learns(tokenizer, monkeypatch):
    big_first_scale(monkeypatch)
    result = train(
        tiny_model(dropout=0.0),
        toy_task(FILLERS[:6], 0),
        toy_task(FILLERS[6:], 1),
        tokenizer=tokenizer,
        epochs=10,
        batch_size=4,
        lr=3e-3,
        precision="fp16",
        warmup_ratio=0.2,
        **quiet(),
    )
    skipped = result.config["skipped_steps"]
    assert skipped >= 1 and any("skipped" in n for n in result.notes)
    # a linear warm-up and decay never gives two consecutive steps the same rate, unless the schedule waited:
    # after every skipped step (but the last step) the next step repeats its rate
    lrs = result.steps["lr"].tolist()
    repeats = sum(a == b for a, b in zip(lrs, lrs[1:]))
    assert skipped - 1 <= repeats <= skipped
    assert result.history["eval_accuracy"].iloc[-1] >= 0.95


def test_fp16_resume_is_bitwise_identical(tokenizer, tmp_path, monkeypatch):
    big_first_scale(monkeypatch)  # the scaler's state (scale, skipped steps) must survive the interruption too
    settings = dict(tokenizer=tokenizer, epochs=2, batch_size=4, lr=2e-3, precision="fp16", **quiet())
    full = train(tiny_model(), (TEXTS, LABELS), EVAL, **settings)

    train_until_crash(tmp_path, crash_at=9, checkpoint_every=4, **settings)
    assert load_checkpoint(tmp_path)["loop"]["step"] == 8
    resumed = train(tiny_model(seed=5), (TEXTS, LABELS), EVAL, checkpoint_dir=tmp_path, resume=True, **settings)
    a, b = full.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert full.steps.equals(resumed.steps) and full.config["skipped_steps"] == resumed.config["skipped_steps"] >= 1


# --- the default learning rate: a published or measured rate at batch 32, a square root, a cap ---------------------


def model_with_hidden(hidden):
    return BertForSequenceClassification(
        BertConfig(
            vocab_size=100, hidden_size=hidden, num_hidden_layers=1, num_attention_heads=2, intermediate_size=2 * hidden
        )
    )


@pytest.mark.parametrize(
    "hidden, expected",
    [
        (384, {8: 5e-5, 32: 1e-4, 128: 2e-4, 256: 2e-4, 1024: 2e-4}),  # MiniLM: capped at the measured 2e-4
        (768, {8: 1.5e-5, 32: 3e-5, 128: 5e-5, 256: 5e-5, 1024: 5e-5}),  # BERT-base: Devlin et al.'s range
        (1024, {8: 1.5e-5, 32: 3e-5, 128: 5e-5, 256: 5e-5, 1024: 5e-5}),  # larger: the same rule
    ],
)
def test_default_lr_rule_and_caps(hidden, expected):
    model = model_with_hidden(hidden)
    got = {batch: train_module.default_lr(model, batch) for batch in expected}
    assert got == pytest.approx(expected)
    cap = 2e-4 if hidden < 768 else 5e-5
    rates = [train_module.default_lr(model, b) for b in range(1, 4097)]
    assert max(rates) <= cap and all(a <= b for a, b in zip(rates, rates[1:]))  # never above the cap, never down
    if hidden >= 768:
        assert 2e-5 <= train_module.default_lr(model, 32) <= 5e-5  # inside the published range at batch 32
        assert train_module.default_lr(model, 16) >= 2e-5  # ... and at batch 16, Devlin et al.'s other size


def test_the_rate_used_is_recorded(tokenizer):
    result = train(tiny_model(), (TEXTS, LABELS), tokenizer=tokenizer, epochs=1, batch_size=8, **quiet())
    assert result.config["lr"] == pytest.approx(train_module.default_lr(result.model, 8)) == pytest.approx(5e-5)
    assert result.steps["lr"].max() == pytest.approx(5e-5)


# --- the shape of the code: train() is a short spine of named parts -----------------------------------------------


def test_a_checkpoint_saves_the_loop_state_as_a_plain_dict(tokenizer, tmp_path):
    train(
        tiny_model(),
        (TEXTS, LABELS),
        EVAL,
        tokenizer=tokenizer,
        epochs=1,
        batch_size=8,
        checkpoint_dir=tmp_path,
        **quiet(),
    )
    saved = load_checkpoint(tmp_path)
    assert set(saved) == {"config", "model", "optimizer", "scheduler", "scaler", "rng", "loop"}
    loop = saved["loop"]
    keys = {
        "epoch",
        "batch",
        "step",
        "history",
        "steps",
        "best_score",
        "best_row",
        "best_weights",
        "bad_evals",
        "stopped",
        "grad_accum",
        "skipped_steps",
        "interval",
    }  # the keys checkpoints have always had
    assert type(loop) is dict and set(loop) == keys == {f.name for f in dataclasses.fields(train_module.LoopState)}
    assert loop["interval"] == {"losses": [], "examples": 0, "tokens": 0, "padded": 0}  # closed by the evaluation
    assert (loop["step"], loop["epoch"], loop["batch"], len(loop["history"]), len(loop["steps"])) == (3, 1, 0, 1, 3)
    assert train_module.LoopState.from_checkpoint(loop).to_checkpoint() == loop


# The length of train() and of every other function is held by tests/test_code_shape.py.


# --- learning-rate schedules (issue 15): the same warm-up, then linear, constant, cosine or exponential ------------


def rates(schedule, total=20, warmup_ratio=0.2, **kw):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = train_module.make_scheduler(optimizer, total, warmup_ratio, schedule, **kw)
    out = []
    for _ in range(total):
        out.append(scheduler.get_last_lr()[0])
        optimizer.step()
        scheduler.step()
    return np.array(out)


def test_schedules_share_the_warmup_and_then_differ():
    curves = {name: rates(name) for name in train_module.SCHEDULES}
    for name, lrs in curves.items():  # warm-up over 4 of 20 steps: 0, 0.25, 0.5, 0.75, then the peak
        assert lrs[:5].tolist() == pytest.approx([0, 0.25, 0.5, 0.75, 1.0]), name
    assert curves["constant"][4:].tolist() == pytest.approx([1.0] * 16)
    assert (np.diff(curves["linear"][4:]) < 0).all() and curves["linear"][-1] == pytest.approx(1 / 16)
    assert curves["cosine"][12] == pytest.approx(0.5) and curves["cosine"][-1] < 0.01
    decay = curves["exponential"][4:]
    assert decay[-1] == pytest.approx(0.01) and np.allclose(decay[1:] / decay[:-1], 0.01 ** (1 / 15))
    assert rates("exponential", final_fraction=0.1)[-1] == pytest.approx(0.1)


def test_train_records_the_schedule_and_follows_it(tokenizer):
    result = train(
        tiny_model(),
        (TEXTS, LABELS),
        tokenizer=tokenizer,
        epochs=2,
        batch_size=4,
        lr=1e-3,
        warmup_ratio=0.25,
        schedule="cosine",
        **quiet(),
    )
    assert result.config["schedule"] == "cosine"
    assert result.steps["lr"].tolist() == pytest.approx((rates("cosine", total=12, warmup_ratio=0.25) * 1e-3).tolist())
    assert (
        train(tiny_model(), (TEXTS, LABELS), tokenizer=tokenizer, epochs=1, batch_size=8, **quiet()).config["schedule"]
        == "linear"
    )  # the default, as before


def test_unknown_schedule_names_the_choices(tokenizer, no_training):
    with pytest.raises(ValueError, match="schedule must be one of linear, constant, cosine, exponential; got 'step'"):
        train(tiny_model(), (TEXTS, LABELS), tokenizer=tokenizer, schedule="step", **quiet())


# --- frozen weights (issue 15): only requires_grad=True parameters are optimised and counted -----------------------


def test_frozen_parameters_stay_bitwise_equal_and_are_not_counted(tokenizer):
    model = tiny_model(dropout=0.0)
    for p in model.bert.parameters():
        p.requires_grad = False
    for p in model.bert.encoder.layer[-1].parameters():  # unfreeze the top layer only (with the head)
        p.requires_grad = True
    before = weights_of(model)
    frozen = {n for n, p in model.named_parameters() if not p.requires_grad}
    decay, no_decay = param_groups(model, 0.01)
    assert sum(len(g["params"]) for g in (decay, no_decay)) == len(list(model.parameters())) - len(frozen)
    result = train(model, (TEXTS, LABELS), tokenizer=tokenizer, epochs=1, batch_size=8, lr=1e-2, **quiet())
    after = result.model.state_dict()
    assert frozen and all(torch.equal(before[n], after[n]) for n in frozen)
    assert all(not torch.equal(before[n], after[n]) for n, p in model.named_parameters() if p.requires_grad)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert result.config["trainable_parameters"] == trainable < result.config["parameters"]


def test_a_fully_frozen_model_is_refused(tokenizer, no_training):
    model = tiny_model()
    for p in model.parameters():
        p.requires_grad = False
    with pytest.raises(ValueError, match="nothing to train"):
        train(model, (TEXTS, LABELS), tokenizer=tokenizer, **quiet())


# --- a pandas DataFrame as data (issue 15): text and label columns; label names become class names -----------------


def test_dataframe_with_string_labels_names_the_classes(tokenizer):
    import pandas as pd

    names = np.array(["negative", "positive"])
    frame = pd.DataFrame({"text": TEXTS, "label": names[LABELS], "other": 0})
    eval_frame = pd.DataFrame({"text": EVAL[0][:2], "label": ["positive", "positive"]})  # one class only: same ids
    result = train(tiny_model(), frame, eval_frame, tokenizer=tokenizer, epochs=1, batch_size=8, **quiet())
    assert result.model.config.id2label == {0: "negative", 1: "positive"}
    pairs = train_module.as_texts_and_labels(eval_frame, "eval_data", ["negative", "positive"])
    assert pairs[1] == [1, 1]
    frame["label"] = pd.Categorical(frame["label"], categories=["positive", "negative"])  # the categories' order
    assert train_module.as_texts_and_labels(frame)[1:] == ([1 - y for y in LABELS], ["positive", "negative"])
    int_frame = pd.DataFrame({"text": TEXTS, "label": LABELS})
    assert train_module.as_texts_and_labels(int_frame) == (TEXTS, LABELS, None)


def test_dataframe_follows_the_models_own_class_names(tokenizer):
    import pandas as pd

    model = tiny_model()
    model.config.id2label, model.config.label2id = {0: "pos", 1: "neg"}, {"pos": 0, "neg": 1}
    frame = pd.DataFrame({"text": TEXTS, "label": np.array(["neg", "pos"])[LABELS]})  # sorted order would differ
    _, (texts, labels, names), _ = train_module.read_inputs(model, frame, None, tokenizer)
    assert labels == [1 - y for y in LABELS] and names == ["pos", "neg"]


@pytest.mark.parametrize(
    "labels, message",
    [
        ([0, None] + [1] * 22, r"label 1 is nan, a float: .* drop the rows without a label"),
        ([0, 2.0] + [1] * 22, r"label 1 is 2.0, a float: .*df\['label'\] = df\['label'\].astype\(int\)"),
    ],
)
def test_float_labels_say_how_to_fix_them(tokenizer, no_training, labels, message):
    with pytest.raises(ValueError, match=message):  # the list form: no "num_labels" advice for a float
        train(tiny_model(), (TEXTS, [float("nan") if y is None else y for y in labels]), tokenizer=tokenizer, **quiet())


def test_dataframe_label_errors_are_clear(tokenizer, no_training):
    import pandas as pd

    cases = [
        (pd.DataFrame({"text": TEXTS, "label": [np.nan] + LABELS[1:]}), "train_data: 1 row.*no value in 'label'"),
        (pd.DataFrame({"text": TEXTS, "label": np.array(LABELS, dtype=float)}), r"astype\(int\)"),
        (pd.DataFrame({"text": TEXTS, "label": [0.5] + LABELS[1:]}), "fractional"),
        (pd.DataFrame({"text": TEXTS, "label": [5] + LABELS[1:]}), "label 0 is 5, but the model's head has 2"),
        (pd.DataFrame({"text": TEXTS, "label": ["a", "b", "c"] * 8}), "3 texts|not among|num_labels|head has 2"),
        (pd.DataFrame({"sentence": TEXTS, "label": LABELS}), "train_data: The table has no text column"),
    ]
    for frame, message in cases[:4] + cases[5:]:
        with pytest.raises((ValueError, KeyError), match=message):
            train(tiny_model(), frame, tokenizer=tokenizer, **quiet())
    with pytest.raises(ValueError, match="label 2 is 2"):  # three string classes for a 2-class head
        train(tiny_model(), cases[4][0], tokenizer=tokenizer, **quiet())
    good = pd.DataFrame({"text": TEXTS, "label": np.array(["neg", "pos"])[LABELS]})
    with pytest.raises(ValueError, match=r"eval_data has labels \['meh'\] that are not among"):
        train(tiny_model(), good, pd.DataFrame({"text": ["ok"], "label": ["meh"]}), tokenizer=tokenizer, **quiet())
