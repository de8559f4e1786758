"""Every ``helpers`` entry point that trains or predicts runs on the device it is given (the book's device rule,
written in :mod:`helpers.evaluate`).

**The measure.** A :class:`DeviceSpy` puts a forward pre-hook on every submodule of the model that does the work;
each hook records the devices of that module's parameters and of every tensor it is called with. Each entry
point is then called with ``device="meta"``: a device with shapes but no data, so that a forward pass runs but no
number can ever be read back to the host. The test passes when

* at least one forward pass ran, and every one of them saw all its weights and all its tensor inputs on ``meta``
  (so the model was moved, and so was each batch: a forgotten batch shows up as a ``cpu`` input), and
* the call either finished or failed only because a result could not be read from a meta tensor (the error
  names ``meta``); a device-mismatch error, or a forward on the CPU, fails the test.

With ``device=None`` a *training* helper must use :func:`helpers.env.detect_device` (patched here to answer
``meta``), and a *prediction* helper must run where the model already is (here the CPU: it finishes, and
nothing moves). Where a GPU is present the same entry points also run on ``cuda`` and must return their
results on the CPU. :func:`helpers.compress.cpu_latency` and :func:`helpers.compress.quantize_dynamic` are the
opposite case, CPU on purpose: they must leave the caller's model where it is.
"""

from __future__ import annotations

import dataclasses

import datasets
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import tiny_bert_classifier

import helpers.env
import helpers.pretraining as pt
from helpers import compress, evaluate, explain, long_text, rnn, training

TEXTS = [
    "a charming, funny film",
    "dull and far too long",
    "not bad at all",
    "the plot makes no sense",
    "a delight from start to finish",
    "i want those two hours back",
]
LABELS = [1, 0, 1, 0, 1, 0]
DOCS = [
    "Dr. Smith arrives in a small town. He finds the mayor missing! Nobody will talk to him.",
    "A young chef opens a restaurant in Paris. Her first review is a disaster. She cooks for her critics.",
]
CUDA = torch.cuda.is_available()


class DeviceSpy:
    """Forward pre-hooks on every submodule: ``seen`` gets (module name, device types of its parameters, its
    submodules' included, and of the tensors it is called with) for each call."""

    def __init__(self):
        self.seen: list[tuple[str, set[str]]] = []

    def watch(self, model: torch.nn.Module) -> torch.nn.Module:
        for name, module in model.named_modules():
            label = f"{type(model).__name__}.{name}" if name else type(model).__name__

            def hook(mod, args, kwargs, label=label):  # a plain function: a deepcopy of the model shares it
                devices = {p.device.type for p in mod.parameters()}  # all its weights, its submodules' too
                devices |= {t.device.type for t in (*args, *kwargs.values()) if isinstance(t, torch.Tensor)}
                self.seen.append((label, devices))

            module.register_forward_pre_hook(hook, with_kwargs=True)
        return model

    def elsewhere(self, device_type: str) -> list[tuple[str, set[str]]]:
        """The calls that saw any device other than ``device_type``."""
        return [(name, d) for name, d in self.seen if d and d != {device_type}]


@pytest.fixture(autouse=True)
def bert_runs_through_on_meta(monkeypatch):
    """transformers' SDPA mask helper asks whether a mask has no padding (``mask.all()``, a read-back) to skip it;
    answering "no" always builds the mask (the same numbers), so a BERT forward pass runs to the end on meta."""
    try:
        import transformers.masking_utils as masking
    except ImportError:  # older transformers build the mask without asking
        return
    monkeypatch.setattr(masking, "_ignore_bidirectional_mask_sdpa", lambda *args, **kwargs: False, raising=False)


def tiny_pretraining_model(tokenizer):
    torch.manual_seed(0)
    model, _ = pt.add_pretraining_heads(pt.tiny_bert_config(len(tokenizer), hidden_size=32, num_layers=1, num_heads=2))
    return model


def rnn_data(tokenizer):
    ids, lengths = rnn.encode(tokenizer, TEXTS, max_length=16)
    return ids, lengths, torch.tensor(LABELS)


# Each entry: kind ("train" or "predict"), and a builder(tokenizer, spy, monkeypatch) -> call(**device_kwargs).
# The builder makes fresh models and has the spy watch every model that does the work.


def _train(tok, spy, mp):
    model = spy.watch(tiny_bert_classifier(num_labels=2))
    return lambda **kw: training.train(
        model, (TEXTS, LABELS), (TEXTS, LABELS), tokenizer=tok, epochs=1, batch_size=4, progress=False, **kw
    )


def _train_rnn(tok, spy, mp):
    torch.manual_seed(0)
    model = spy.watch(rnn.BiLSTMClassifier(len(tok), 2, embed_dim=8, hidden=8))
    data = rnn_data(tok)
    return lambda **kw: rnn.train_rnn(model, data, data, epochs=1, batch_size=4, **kw)


def _predict_rnn(tok, spy, mp):
    torch.manual_seed(0)
    model = spy.watch(rnn.BiLSTMClassifier(len(tok), 2, embed_dim=8, hidden=8))
    ids, lengths, _ = rnn_data(tok)
    return lambda **kw: rnn.predict_rnn(model, ids, lengths, batch_size=4, **kw)


def _distill(tok, spy, mp):
    teacher = spy.watch(tiny_bert_classifier(num_labels=2))
    student = spy.watch(compress.truncate_layers(tiny_bert_classifier(num_labels=2), 1))
    return lambda **kw: compress.distill(
        student,
        teacher,
        tok,
        TEXTS,
        LABELS,
        eval_texts=TEXTS,
        eval_labels=LABELS,
        epochs=1,
        batch_size=4,
        progress=False,
        **kw,
    )


def _train_pretraining(tok, spy, mp):
    model = spy.watch(tiny_pretraining_model(tok))
    examples = pt.make_nsp_pairs(DOCS, tok, seed=0)
    return lambda **kw: pt.train_pretraining(
        model, examples, tok, steps=2, batch_size=4, trainable="all", progress=False, **kw
    )


def _features(tok, model):
    return pt.encode_for_heads(model, pt.make_nsp_pairs(DOCS, tok, seed=0), tok, seed=0)


def _train_heads(tok, spy, mp):
    model = tiny_pretraining_model(tok)
    features = _features(tok, model)  # on the CPU, before the spy watches
    spy.watch(model)
    return lambda **kw: pt.train_heads(model, features, steps=2, batch_size=8, pairs_per_step=2, progress=False, **kw)


def _encode_for_heads(tok, spy, mp):
    model = spy.watch(tiny_pretraining_model(tok))
    examples = pt.make_nsp_pairs(DOCS, tok, seed=0)
    return lambda **kw: pt.encode_for_heads(model, examples, tok, seed=0, **kw)


def _evaluate_heads(tok, spy, mp):
    model = tiny_pretraining_model(tok)
    features = _features(tok, model)
    spy.watch(model)
    return lambda **kw: pt.evaluate_heads(model, features, **kw)


def _evaluate_pretraining(tok, spy, mp):
    model = spy.watch(tiny_pretraining_model(tok))
    examples = pt.make_nsp_pairs(DOCS, tok, seed=0)
    return lambda **kw: pt.evaluate_pretraining(model, examples, tok, seed=0, **kw)


def _fill_mask(tok, spy, mp):
    model = spy.watch(tiny_pretraining_model(tok))
    return lambda **kw: pt.fill_mask(model, tok, "the film was [MASK].", k=3, **kw)


def _nsp_probability(tok, spy, mp):
    model = spy.watch(tiny_pretraining_model(tok))
    return lambda **kw: pt.nsp_probability(model, tok, "He opened the door.", "The room was dark.", **kw)


def _fine_tune_classifier(tok, spy, mp):
    encoder = tiny_pretraining_model(tok).bert
    real = pt.classifier_from_encoder
    mp.setattr(pt, "classifier_from_encoder", lambda *a, **k: spy.watch(real(*a, **k)))  # watch the copy it trains
    data = datasets.Dataset.from_dict({"text": TEXTS, "label": LABELS})
    return lambda **kw: pt.fine_tune_classifier(
        encoder, tok, data, data, epochs=1, batch_size=4, max_length=16, progress=False, **kw
    )


def _integrated_gradients(tok, spy, mp):
    model = spy.watch(tiny_bert_classifier(num_labels=2))
    return lambda **kw: explain.integrated_gradients(model, tok, TEXTS[0], steps=4, batch_size=2, **kw)


def _predict_truncated(tok, spy, mp):
    model = spy.watch(tiny_bert_classifier(num_labels=2))
    return lambda **kw: long_text.predict_truncated(model, tok, TEXTS, max_length=8, **kw)


def _predict_windows(tok, spy, mp):
    model = spy.watch(tiny_bert_classifier(num_labels=2))
    return lambda **kw: long_text.predict_windows(model, tok, TEXTS, max_length=6, stride=2, **kw)


def _predict(tok, spy, mp):
    model = spy.watch(tiny_bert_classifier(num_labels=2))
    return lambda **kw: evaluate.predict(model, tok, TEXTS, **kw)


def _logits_for_texts(tok, spy, mp):
    model = spy.watch(tiny_bert_classifier(num_labels=2))
    return lambda **kw: evaluate.logits_for_texts(model, tok, TEXTS, **kw)


def _predict_logits(tok, spy, mp):
    model = spy.watch(tiny_bert_classifier(num_labels=2))
    ids, lengths = evaluate.encode_texts(tok, TEXTS, 16)
    return lambda **kw: evaluate.predict_logits(model, ids, lengths, batch_size=4, **kw)


ENTRY_POINTS = {
    "helpers.train": ("train", _train),
    "rnn.train_rnn": ("train", _train_rnn),
    "compress.distill": ("train", _distill),
    "pretraining.train_pretraining": ("train", _train_pretraining),
    "pretraining.train_heads": ("train", _train_heads),
    "pretraining.fine_tune_classifier": ("train", _fine_tune_classifier),
    "rnn.predict_rnn": ("predict", _predict_rnn),
    "pretraining.encode_for_heads": ("predict", _encode_for_heads),
    "pretraining.evaluate_heads": ("predict", _evaluate_heads),
    "pretraining.evaluate_pretraining": ("predict", _evaluate_pretraining),
    "pretraining.fill_mask": ("predict", _fill_mask),
    "pretraining.nsp_probability": ("predict", _nsp_probability),
    "explain.integrated_gradients": ("predict", _integrated_gradients),
    "long_text.predict_truncated": ("predict", _predict_truncated),
    "long_text.predict_windows": ("predict", _predict_windows),
    "evaluate.predict": ("predict", _predict),
    "evaluate.logits_for_texts": ("predict", _logits_for_texts),
    "evaluate.predict_logits": ("predict", _predict_logits),
}
TRAINING = [name for name, (kind, _) in ENTRY_POINTS.items() if kind == "train"]
PREDICTION = [name for name, (kind, _) in ENTRY_POINTS.items() if kind == "predict"]


def run_on_meta(call, **kwargs):
    """Call; a failure is allowed only when it comes from reading a meta tensor back (its message names meta)."""
    try:
        call(**kwargs)
    except Exception as error:  # noqa: BLE001 - the message decides
        message = f"{type(error).__name__}: {error}"
        assert "meta" in message.lower(), f"failed for another reason than meta tensors: {message[:500]}"
        assert "same device" not in message and "two devices" not in message, f"device mismatch: {message[:500]}"


def assert_spy_saw_only(spy: DeviceSpy, device_type: str):
    assert spy.seen, "no forward pass ran: the measure cannot tell where the work happened"
    wrong = spy.elsewhere(device_type)
    assert not wrong, f"forward passes off {device_type}: {wrong[:5]}"


@pytest.mark.parametrize("name", list(ENTRY_POINTS))
def test_entry_point_runs_on_the_device_it_is_given(name, tokenizer, monkeypatch):
    spy = DeviceSpy()
    call = ENTRY_POINTS[name][1](tokenizer, spy, monkeypatch)
    run_on_meta(call, device="meta")
    assert_spy_saw_only(spy, "meta")


@pytest.mark.parametrize("name", TRAINING)
def test_training_helpers_default_to_detect_device(name, tokenizer, monkeypatch):
    monkeypatch.setattr(helpers.env, "detect_device", lambda: "meta")  # what a GPU machine's answer stands for
    spy = DeviceSpy()
    call = ENTRY_POINTS[name][1](tokenizer, spy, monkeypatch)
    run_on_meta(call)
    assert_spy_saw_only(spy, "meta")


@pytest.mark.parametrize("name", PREDICTION)
def test_prediction_helpers_default_to_the_models_device(name, tokenizer, monkeypatch):
    monkeypatch.setattr(helpers.env, "detect_device", lambda: "meta")  # must not be consulted
    spy = DeviceSpy()
    call = ENTRY_POINTS[name][1](tokenizer, spy, monkeypatch)
    result = call()  # the model is on the CPU: everything runs and finishes there
    assert_spy_saw_only(spy, "cpu")
    assert_on_cpu(result)


def assert_on_cpu(value, path="result"):
    """Every tensor in a result (nested in tuples, lists, dicts, dataclasses) lives on the CPU."""
    if isinstance(value, torch.Tensor):
        assert value.device.type == "cpu", f"{path} is on {value.device}"
    elif isinstance(value, torch.nn.Module):
        return  # a trained model stays on the device it was trained on
    elif dataclasses.is_dataclass(value):
        for f in dataclasses.fields(value):
            assert_on_cpu(getattr(value, f.name), f"{path}.{f.name}")
    elif isinstance(value, dict):
        for k, v in value.items():
            assert_on_cpu(v, f"{path}[{k!r}]")
    elif isinstance(value, (tuple, list)):
        for i, v in enumerate(value):
            assert_on_cpu(v, f"{path}[{i}]")
    else:
        assert isinstance(value, (int, float, str, np.ndarray, np.generic, pd.DataFrame, type(None))), (
            f"{path} is a {type(value).__name__}"
        )


@pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU")
@pytest.mark.parametrize("name", list(ENTRY_POINTS))
def test_entry_point_runs_on_cuda_and_returns_cpu_results(name, tokenizer, monkeypatch):
    spy = DeviceSpy()
    call = ENTRY_POINTS[name][1](tokenizer, spy, monkeypatch)
    result = call(device="cuda")
    assert_spy_saw_only(spy, "cuda")
    assert_on_cpu(result)


# --- CPU on purpose: int8 quantisation and CPU latency copy the model, never move it ----------------------------


def test_distill_moves_the_student_and_puts_the_teacher_back(tokenizer, monkeypatch):
    teacher, student = tiny_bert_classifier(num_labels=2), tiny_bert_classifier(num_labels=2)
    moves = []
    real_to = torch.nn.Module.to

    def spy_to(self, *args, **kwargs):
        if self is teacher:
            moves.append(torch.device(args[0] if args else kwargs["device"]).type)
        return real_to(self, *args, **kwargs)

    monkeypatch.setattr(torch.nn.Module, "to", spy_to)
    run_on_meta(
        lambda: compress.distill(
            student, teacher, tokenizer, TEXTS, LABELS, epochs=1, batch_size=4, progress=False, device="meta"
        )
    )
    assert {p.device.type for p in student.parameters()} == {"meta"}  # the student moved, in place
    # the teacher went to meta for its logits and was then sent back to the CPU (which a meta model cannot
    # do: no data; that is the error run_on_meta accepted; on a GPU it comes back, see the cuda test below)
    assert moves == ["meta", "cpu"]


@pytest.mark.skipif(not CUDA, reason="needs a CUDA GPU")
def test_cpu_results_leave_a_gpu_model_on_the_gpu(tokenizer):
    model = tiny_bert_classifier(num_labels=2).to("cuda")
    q = compress.quantize_dynamic(model)
    assert next(model.parameters()).device.type == "cuda" and not any(p.is_cuda for p in q.parameters())
    assert compress.cpu_latency(model, tokenizer, TEXTS, max_length=16, repeats=1).median > 0
    assert next(model.parameters()).device.type == "cuda"
    teacher = tiny_bert_classifier(num_labels=2).to("cuda")
    compress.distill(
        tiny_bert_classifier(num_labels=2),
        teacher,
        tokenizer,
        TEXTS,
        LABELS,
        epochs=1,
        batch_size=4,
        progress=False,
        device="cpu",
    )
    assert next(teacher.parameters()).device.type == "cuda"  # run on the CPU for its logits, then put back


def test_cpu_copy_and_cpu_latency_never_move_the_callers_model(tokenizer, monkeypatch):
    model = tiny_bert_classifier(num_labels=2)
    moved = []
    real_to = torch.nn.Module.to

    def spy_to(self, *args, **kwargs):
        if self is model:
            moved.append(args or kwargs)
        return real_to(self, *args, **kwargs)

    monkeypatch.setattr(torch.nn.Module, "to", spy_to)
    copy = compress.cpu_copy(model)
    assert copy is not model and not copy.training
    assert all(p.device.type == "cpu" for p in copy.parameters())
    assert all(a is not b for a, b in zip(copy.parameters(), model.parameters()))
    compress.quantize_dynamic(model)
    compress.cpu_latency(model, tokenizer, TEXTS, max_length=16, repeats=1)
    assert moved == [], "the caller's model was moved"
    with pytest.raises(TypeError, match="nn.Module"):
        compress.cpu_copy("bert")


def test_a_torch_device_object_works_as_well_as_a_string(tokenizer):
    spy = DeviceSpy()
    model = spy.watch(tiny_bert_classifier(num_labels=2))
    assert evaluate.predict(model, tokenizer, TEXTS, device=torch.device("cpu")).probs.shape == (len(TEXTS), 2)
    run_on_meta(
        lambda: training.train(
            model,
            (TEXTS, LABELS),
            tokenizer=tokenizer,
            epochs=1,
            batch_size=4,
            progress=False,
            device=torch.device("meta"),
        )
    )
    assert {p.device.type for p in model.parameters()} == {"meta"}
    assert {d for _, ds in spy.seen for d in ds} == {"cpu", "meta"}  # first the prediction, then the training
