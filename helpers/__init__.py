"""helpers: the small library behind the book *Fine-tuning BERT for text classification*.

One module per concern, in the order the chapters use them:

* :mod:`helpers.env` - :func:`setup`, the profile (offline / full), device, precision, seeds;
* :mod:`helpers.data` - the shipped datasets, hub datasets, stratified slices, length statistics;
* :mod:`helpers.models` - models and tokenizers by profile, saving and loading;
* :mod:`helpers.baselines` - the traditional bag-of-words pipelines that later chapters must beat;
* :mod:`helpers.plots` - the book's figures, so that every chapter's plots look alike;
* :mod:`helpers.attention` - the encoder from scratch; :mod:`helpers.attention_views` - attention weights,
  bertviz views and heatmaps (also reachable as ``helpers.attention.<name>``);
* :mod:`helpers.pretraining` - masking, MLM and NSP losses and heads;
* :mod:`helpers.training` - :func:`helpers.train`, the fast fine-tuning loop (checkpoints, resume, out-of-memory retry);
* :mod:`helpers.finetune` - chapter 4's pieces: the loss by hand, ``max_length`` from lengths, padding shares;
* :mod:`helpers.widgets` - try a classifier on your own sentences (a text box live, a table on the website);
* :mod:`helpers.evaluate` - batched predictions, metrics, calibration and the most confident mistakes;
* :mod:`helpers.imbalance` - imbalance on purpose, class weights, oversampling, threshold moving;
* :mod:`helpers.long_text`, :mod:`helpers.compress`, :mod:`helpers.explain`, :mod:`helpers.rnn` - chapter 6's
  experiments: long documents, quantisation and distillation, integrated gradients, a BiLSTM baseline;
* :mod:`helpers.check`, :mod:`helpers.quiz` - the exercises' checks (one module per chapter in
  :mod:`helpers.exercises`) and the end-of-chapter quizzes (one data file per chapter in ``helpers/quizzes``);
* :mod:`helpers.book` - notebook plumbing: measured numbers for the prose, a helper's source, the chapter's
  clock and its estimated cost on a Colab T4.

The most used functions are available as ``helpers.<name>``; the rest live in their modules
(``import helpers.attention as attn``).
"""

import os as _os

# The offline profile must never wait on the network: tell the Hugging Face libraries before they load.
if (_os.environ.get("BOOK_PROFILE") or "offline").strip().lower() == "offline":
    _os.environ.setdefault("HF_HUB_OFFLINE", "1")
    _os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
_os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from . import (  # noqa: E402,F401  # noqa: E402,F401
    attention,
    baselines,
    book,
    check,
    compress,
    evaluate,
    explain,
    finetune,
    imbalance,
    long_text,
    plots,
    pretraining,
    quiz,
    rnn,
    widgets,
)
from .baselines import fit_baselines, make_baseline  # noqa: E402
from .data import (  # noqa: E402
    available_datasets,
    class_balance,
    label_names,
    length_stats,
    load_dataset,
    load_unlabelled_text,
    stratified_subset,
)
from .env import Environment, Profile, ProfileError, get_profile, setup  # noqa: E402
from .evaluate import accuracy_and_f1, predict  # noqa: E402
from .models import available_models, count_parameters, load_model, load_tokenizer, save_model  # noqa: E402
from .training import TrainResult, plot_history, train  # noqa: E402

__version__ = "0.1.0"
__all__ = [
    "Environment",
    "Profile",
    "ProfileError",
    "TrainResult",
    "accuracy_and_f1",
    "available_datasets",
    "available_models",
    "class_balance",
    "count_parameters",
    "fit_baselines",
    "get_profile",
    "label_names",
    "length_stats",
    "load_dataset",
    "load_model",
    "load_tokenizer",
    "load_unlabelled_text",
    "make_baseline",
    "plot_history",
    "predict",
    "save_model",
    "setup",
    "stratified_subset",
    "train",
]
