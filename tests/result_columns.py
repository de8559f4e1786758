"""The columns of a training result, shared by the tests of every loop that writes one.

``helpers.train`` writes these (``history`` with evaluation data, and ``steps``); ``train_rnn``, ``distill`` and the
pretraining loops write the same, so that chapter code and ``plot_history`` read every result alike.
"""

TRAIN_HISTORY = [
    "epoch",
    "step",
    "train_loss",
    "lr",
    "eval_loss",
    "eval_accuracy",
    "eval_f1",
    "seq_per_s",
    "tokens_per_s",
    "padding",
    "seconds",
]
TRAIN_STEPS = ["step", "epoch", "loss", "lr"]
