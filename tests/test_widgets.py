"""helpers.widgets: the prediction box builds, its handler gives helpers.predict's answer, and it degrades
gracefully."""

import builtins
from types import SimpleNamespace

import numpy as np
import pytest
from tiny_models import tiny_bert
from transformers import BertConfig, BertForSequenceClassification

import helpers.widgets as hw
from helpers.evaluate import predict

TEXTS = ["an utterly charming, funny and touching film", "the worst thing i have seen this year", "meh"]


@pytest.fixture(scope="module")
def model():
    return tiny_bert(
        num_labels=3,
        id2label={0: "negative", 1: "neutral", 2: "positive"},
        label2id={"negative": 0, "neutral": 1, "positive": 2},
    )


def test_box_builds_with_text_button_and_answer(model, tokenizer):
    import ipywidgets as w

    box = hw.prediction_box(model, tokenizer, value="good film", quiet=True)
    assert isinstance(box.widget, w.VBox)
    assert list(box.widget.children) == [box.text, box.button, box.answer]
    assert isinstance(box.text, w.Textarea) and box.text.value == "good film"
    assert isinstance(box.button, w.Button) and box.button.description == "Classify"
    bundle = box._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert "live Jupyter kernel" in bundle["text/plain"]


@pytest.mark.parametrize("text", TEXTS)
def test_handler_matches_helpers_predict(model, tokenizer, text):
    box = hw.prediction_box(model, tokenizer, quiet=True)
    box.text.value = text
    box.button.click()  # the button's handler, as a click in the notebook runs it
    want = predict(model, tokenizer, [text])
    names = ["negative", "neutral", "positive"]
    assert box.last["label_id"] == int(want.labels[0])
    assert box.last["label"] == names[int(want.labels[0])]
    np.testing.assert_allclose([box.last["probs"][n] for n in names], want.probs[0], atol=1e-6)
    assert sum(box.last["probs"].values()) == pytest.approx(1.0, abs=1e-5)
    assert f"<b>{box.last['label']}</b>" in box.answer.value
    for n in names:
        assert f"{box.last['probs'][n]:.1%}" in box.answer.value


def test_classify_argument_overrides_the_box(model, tokenizer):
    box = hw.prediction_box(model, tokenizer, value=TEXTS[0], quiet=True)
    result = box.classify(TEXTS[1])
    assert result["text"] == TEXTS[1]
    np.testing.assert_allclose(list(result["probs"].values()), predict(model, tokenizer, TEXTS[1]).probs[0], atol=1e-6)


@pytest.mark.parametrize("empty", ["", "   \n "])
def test_empty_text_gives_a_clear_message(model, tokenizer, empty):
    box = hw.prediction_box(model, tokenizer, quiet=True)
    box.classify("good")
    assert box.classify(empty) is None
    assert box.last is None
    assert box.message == hw.EMPTY_MESSAGE and "nothing to classify" in box.answer.value


def test_bad_input_type(model, tokenizer):
    box = hw.prediction_box(model, tokenizer, quiet=True)
    with pytest.raises(TypeError, match="needs a string"):
        box.classify(3)


def test_without_live_kernel_prints_table(model, tokenizer, capsys):
    assert hw.in_jupyter_kernel() is False  # pytest is not a Jupyter kernel
    box = hw.prediction_box(model, tokenizer, examples=TEXTS[:2])
    out = capsys.readouterr().out
    assert "No live Jupyter kernel" in out
    table = hw.predictions_table(model, tokenizer, TEXTS[:2])
    for label in table["predicted"]:
        assert label in out
    assert box.classify(TEXTS[0])["label"] == table["predicted"][0]


@pytest.mark.parametrize(
    "shell, inside",
    [
        (None, False),
        (SimpleNamespace(), False),  # plain Python, terminal IPython
        (SimpleNamespace(kernel=SimpleNamespace(_allow_stdin=False)), True),
    ],
)
def test_in_jupyter_kernel_counts_any_kernel(monkeypatch, shell, inside):
    """A headless kernel (nbclient, nbval: no stdin) still counts: the question is whether a widget can be shown,
    not whether someone is at the keyboard (helpers.quiz.live_kernel)."""
    monkeypatch.setattr("IPython.get_ipython", lambda: shell)
    assert hw.in_jupyter_kernel() is inside


def test_without_ipywidgets(model, tokenizer, monkeypatch, capsys):
    real_import = builtins.__import__

    def no_widgets(name, *args, **kwargs):
        if name == "ipywidgets":
            raise ImportError("no ipywidgets")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_widgets)
    box = hw.prediction_box(model, tokenizer, examples=TEXTS[:1])
    assert box.widget is None
    assert "ipywidgets is not installed" in capsys.readouterr().out
    assert box.classify()["text"] == TEXTS[0]  # the example is the box's starting text
    assert box._repr_mimebundle_() == {"text/plain": box._repr_mimebundle_()["text/plain"]}


def test_predictions_table_matches_predict(model, tokenizer):
    table = hw.predictions_table(model, tokenizer, TEXTS)
    want = predict(model, tokenizer, TEXTS)
    assert list(table.columns) == ["text", "predicted", "P(negative)", "P(neutral)", "P(positive)"]
    np.testing.assert_allclose(table[["P(negative)", "P(neutral)", "P(positive)"]].to_numpy(), want.probs, atol=1e-6)
    assert list(table["predicted"]) == [hw.class_names(model)[i] for i in want.labels]


def test_class_names_default_labels(tokenizer):
    cfg = BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, num_labels=2)
    assert hw.class_names(BertForSequenceClassification(cfg)) == ["LABEL_0", "LABEL_1"]
