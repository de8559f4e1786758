"""Try a fine-tuned classifier on your own sentences: a text box for a live notebook, a table everywhere else.

:func:`prediction_box` builds an ipywidgets text box with a *Classify* button. Clicking it runs
:func:`helpers.predict` on the text and shows the predicted class and every class's probability.
Widgets need a live Jupyter kernel (Jupyter, VS Code, Colab); on the book's static website they do
not run, so chapters show :func:`predictions_table` (the same predictions as a pandas table) next to
the box. Without a live kernel, or without ipywidgets installed, :func:`prediction_box` says so,
prints that table for the example sentences, and still returns an object whose
:meth:`PredictionBox.classify` works.
"""

from __future__ import annotations

import html
from typing import Sequence

import pandas as pd

from .evaluate import predict

EMPTY_MESSAGE = "Type a sentence first: there is nothing to classify."


def in_jupyter_kernel() -> bool:
    """True inside a running Jupyter (IPython) kernel, where a widget can be displayed; False in scripts and plain
    Python.

    A headless executor (nbclient in the book build, nbval) runs a kernel too, so this is True there; whether a
    person is at the keyboard is a different question, answered by :func:`helpers.quiz.live_kernel`.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def class_names(model) -> list[str]:
    """The model's class names in id order (``config.id2label``), e.g. ``['negative', 'positive']``."""
    id2label = getattr(model.config, "id2label", None) or {}
    return [str(id2label.get(i, id2label.get(str(i), f"LABEL_{i}"))) for i in range(model.config.num_labels)]


def predictions_table(model, tokenizer, texts: Sequence[str], *, max_length: int | None = None) -> pd.DataFrame:
    """One row per text: the text, the predicted class and the probability of every class (``P(name)``)."""
    texts = [texts] if isinstance(texts, str) else list(texts)
    names = class_names(model)
    out = predict(model, tokenizer, texts, max_length=max_length)
    frame = pd.DataFrame({"text": texts, "predicted": [names[int(i)] for i in out.labels]})
    for j, name in enumerate(names):
        frame[f"P({name})"] = out.probs[:, j].astype(float)
    return frame


class PredictionBox:
    """A text area, a *Classify* button and an HTML answer; :meth:`classify` is the button's handler.

    ``widget`` is the ipywidgets ``VBox`` (``None`` when ipywidgets is not installed). Displaying a
    ``PredictionBox`` in a notebook displays the widget.
    """

    def __init__(
        self,
        model,
        tokenizer,
        *,
        value: str = "",
        max_length: int | None = None,
        placeholder: str = "Type a sentence, e.g. a line from a film review",
    ):
        self.model = model
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.names = class_names(model)
        self.last: dict | None = None
        self.message = ""
        try:
            import ipywidgets as w
        except ImportError:
            self.widget = self.text = self.button = self.answer = None
            self._value = value
            return
        self.text = w.Textarea(value=value, placeholder=placeholder, layout=w.Layout(width="100%", height="4em"))
        self.button = w.Button(description="Classify", button_style="primary", icon="check")
        self.answer = w.HTML(value="")
        self.widget = w.VBox([self.text, self.button, self.answer])
        self.button.on_click(lambda _button: self.classify())

    # ------------------------------------------------------------------------------------------------
    def classify(self, text: str | None = None) -> dict | None:
        """Classify ``text`` (default: what is in the box) and show the answer.

        Returns ``{"text", "label", "label_id", "probs": {class: probability}}``, or ``None`` for an empty
        text, in which case the answer area (and :attr:`message`) asks for a sentence.
        """
        if text is None:
            text = self.text.value if self.text is not None else self._value
        if not isinstance(text, str):
            raise TypeError(f"classify needs a string, got {type(text).__name__}.")
        if not text.strip():
            self.last, self.message = None, EMPTY_MESSAGE
            self._show(f"<i>{html.escape(EMPTY_MESSAGE)}</i>")
            return None
        out = predict(self.model, self.tokenizer, [text], max_length=self.max_length)
        label_id = int(out.labels[0])
        probs = {name: float(p) for name, p in zip(self.names, out.probs[0])}
        self.last = {"text": text, "label": self.names[label_id], "label_id": label_id, "probs": probs}
        self.message = f"{self.names[label_id]} ({probs[self.names[label_id]]:.1%})"
        self._show(self.render(self.last))
        return self.last

    @staticmethod
    def render(result: dict) -> str:
        """The answer as HTML: the predicted class in bold, then one bar per class with its probability."""
        rows = []
        for name, p in result["probs"].items():
            bold = "font-weight:bold;" if name == result["label"] else ""
            rows.append(
                f'<div style="{bold}"><span style="display:inline-block;width:9em">{html.escape(name)}</span>'
                f'<span style="display:inline-block;background:#4c72b0;height:0.8em;width:{200 * p:.0f}px">'
                f"</span> {p:.1%}</div>"
            )
        return f"<div>Predicted: <b>{html.escape(result['label'])}</b></div>" + "".join(rows)

    def _show(self, markup: str) -> None:
        if self.answer is not None:
            self.answer.value = markup

    # ------------------------------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        text = (
            "Prediction box (an interactive widget: it responds only in a live Jupyter kernel). "
            "Call .classify(text) to classify a sentence."
        )
        if self.widget is None:
            return {"text/plain": text}
        bundle = self.widget._repr_mimebundle_(**kwargs)
        if isinstance(bundle, tuple):  # (data, metadata)
            bundle = bundle[0]
        bundle = dict(bundle or {})
        bundle["text/plain"] = text
        return bundle

    def __repr__(self) -> str:
        return f"PredictionBox(classes={self.names}, last={self.message!r})"


def prediction_box(
    model,
    tokenizer,
    *,
    examples: Sequence[str] = (),
    value: str = "",
    max_length: int | None = None,
    quiet: bool = False,
) -> PredictionBox:
    """A text box + *Classify* button that shows the predicted class and class probabilities of a sentence.

    In a live Jupyter kernel display the returned object (make it the last line of a cell). Elsewhere
    (a script, plain Python, or without ipywidgets) the box cannot respond, so this prints a note and the
    predictions for ``examples`` as a table (unless ``quiet``); ``box.classify(text)`` works everywhere.
    """
    box = PredictionBox(model, tokenizer, value=value or (examples[0] if len(examples) else ""), max_length=max_length)
    if quiet:
        return box
    if box.widget is None:
        print(
            "ipywidgets is not installed, so there is no text box (pip install ipywidgets). "
            "Use box.classify(text) instead."
        )
    elif not in_jupyter_kernel():
        print("No live Jupyter kernel: the text box cannot respond here. Use box.classify(text) instead.")
    else:
        return box
    if len(examples):
        with pd.option_context("display.max_colwidth", 80, "display.precision", 3):
            print(predictions_table(model, tokenizer, examples, max_length=max_length).to_string(index=False))
    return box
