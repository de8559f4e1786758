"""helpers.env: profile choice, device and precision, seeding, and the block setup() prints."""

import re

import pytest
import torch

import helpers
from helpers import env as henv


def test_default_profile_is_offline(monkeypatch):
    monkeypatch.delenv("BOOK_PROFILE", raising=False)
    assert henv.requested_profile() == "offline"
    assert helpers.get_profile().name == "offline"
    assert helpers.get_profile().model == "all-MiniLM-L6-v2"


def test_profile_from_argument_beats_environment(monkeypatch):
    monkeypatch.setenv("BOOK_PROFILE", "full")
    assert henv.requested_profile() == "full"
    assert henv.requested_profile("offline") == "offline"


def test_unknown_profile_is_a_clear_error():
    with pytest.raises(helpers.ProfileError, match="offline, full"):
        henv.requested_profile("fast")


@pytest.fixture
def hub_online(monkeypatch):
    """No HF_HUB_OFFLINE (an earlier offline setup() may have set it), no strict mode."""
    for name in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "BOOK_PROFILE_STRICT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(henv, "hub_offline", lambda: False)


def _no_network(monkeypatch):
    """Make any network check fail the test: the offline-hub path must not open a connection."""

    def refuse(*args, **kwargs):
        raise AssertionError("setup() opened a network connection although HF_HUB_OFFLINE=1")

    monkeypatch.setattr(henv, "hub_reachable", refuse)
    monkeypatch.setattr(henv.socket, "create_connection", refuse)


def test_full_falls_back_to_offline_when_hub_unreachable(monkeypatch, capsys, hub_online):
    monkeypatch.setattr(henv, "hub_reachable", lambda timeout=2.0: False)
    env = helpers.setup(profile="full")
    assert env.profile.name == "offline"
    assert "hub is out of reach" in env.note
    assert "hub is out of reach" in capsys.readouterr().out


def test_full_profile_when_hub_reachable(monkeypatch, hub_online):
    monkeypatch.setattr(henv, "hub_reachable", lambda timeout=2.0: True)
    env = helpers.setup(profile="full", verbose=False)
    assert env.profile.name == "full" and env.profile.model == "bert-base-uncased"
    assert helpers.get_profile().sentiment == "sst2"
    assert (env.profile.topics, env.profile.long_texts) == ("ag_news", "imdb")


def test_strict_mode_refuses_the_fallback(monkeypatch, hub_online):
    monkeypatch.setattr(henv, "hub_reachable", lambda timeout=2.0: False)
    monkeypatch.setenv("BOOK_PROFILE_STRICT", "1")
    with pytest.raises(helpers.ProfileError, match="hub is out of reach.*BOOK_PROFILE_STRICT=1"):
        helpers.setup(profile="full", verbose=False)
    assert henv._current is None  # nothing was set up half-way
    # strict mode changes nothing when the full profile is available, or when offline is asked for
    monkeypatch.setattr(henv, "hub_reachable", lambda timeout=2.0: True)
    assert helpers.setup(profile="full", verbose=False).profile.name == "full"
    assert helpers.setup(profile="offline", verbose=False).profile.name == "offline"


def test_offline_hub_with_the_model_cached_is_trusted_without_network(monkeypatch, tmp_path):
    _no_network(monkeypatch)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("BOOK_PROFILE_STRICT", "1")
    asked = []
    monkeypatch.setattr(henv, "model_in_cache", lambda model: asked.append(model) or True)
    env = helpers.setup(profile="full", verbose=False)
    assert env.profile.name == "full" and env.note == ""
    assert asked == ["bert-base-uncased"]


def test_offline_hub_without_the_model_falls_back_or_fails_strictly(monkeypatch):
    _no_network(monkeypatch)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.delenv("BOOK_PROFILE_STRICT", raising=False)
    monkeypatch.setattr(henv, "model_in_cache", lambda model: False)
    env = helpers.setup(profile="full", verbose=False)
    assert env.profile.name == "offline" and "HF_HUB_OFFLINE=1" in env.note and "bert-base-uncased" in env.note
    assert "BOOK_PROFILE=full is set before the import" in env.note  # the usual cause: helpers switched it off
    monkeypatch.setenv("BOOK_PROFILE_STRICT", "1")
    with pytest.raises(helpers.ProfileError, match="has no bert-base-uncased.*BOOK_PROFILE_STRICT"):
        helpers.setup(profile="full", verbose=False)


def test_model_in_cache_reads_a_real_hub_cache_layout(monkeypatch, tmp_path):
    """model_in_cache asks huggingface_hub's cache lookup; a hand-made snapshot in the hub layout answers it."""
    import huggingface_hub

    repo = tmp_path / "models--bert-base-uncased"
    (repo / "snapshots" / ("a" * 40)).mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("a" * 40)
    (repo / "snapshots" / ("a" * 40) / "config.json").write_text("{}")
    real = huggingface_hub.try_to_load_from_cache
    monkeypatch.setattr(
        huggingface_hub,
        "try_to_load_from_cache",
        lambda repo_id, filename, **kw: real(repo_id, filename, cache_dir=tmp_path, **kw),
    )
    assert henv.model_in_cache("bert-base-uncased")
    assert not henv.model_in_cache("bert-large-uncased")


@pytest.mark.parametrize("value,expected", [("1", True), ("true", True), ("0", False), ("", False)])
def test_hub_offline_reads_the_environment(monkeypatch, value, expected):
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", value)
    assert henv.hub_offline() is expected
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    assert henv.hub_offline() is True


def test_setup_prints_one_short_block(capsys):
    env = helpers.setup(seed=3)
    out = capsys.readouterr().out
    first = out.splitlines()[0]
    assert first.startswith("last executed with torch ") and " / transformers " in first
    assert f"on {env.executed}, profile offline" in first and first.endswith(", cpu")
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", env.executed)
    assert "profile   : offline" in out
    assert "device    : cpu" in out and "precision=fp32" in out and "torch" in out
    assert len(out.strip().splitlines()) <= 5
    assert env.device == "cpu" and env.precision == "fp32" and env.seed == 3


def test_setup_seeds_everything():
    helpers.setup(seed=7, verbose=False)
    a = torch.rand(3)
    import random

    import numpy as np

    b, c = np.random.rand(), random.random()
    helpers.setup(seed=7, verbose=False)
    assert torch.equal(a, torch.rand(3)) and b == np.random.rand() and c == random.random()


def test_pick_by_profile_and_quick():
    offline = henv.make_profile("offline", quick=False)
    full = henv.make_profile("full", quick=False)
    quick = henv.make_profile("offline", quick=True)
    assert offline.pick(offline=2000, full=None, quick=200) == 2000
    assert full.pick(offline=2000, full=None, quick=200) is None
    assert quick.pick(offline=2000, full=None, quick=200) == 200
    assert quick.pick(offline=2000, full=None) == 2000


def test_quick_from_environment(monkeypatch):
    monkeypatch.setenv("BOOK_QUICK", "1")
    assert helpers.setup(verbose=False).profile.quick
    monkeypatch.setenv("BOOK_QUICK", "0")
    assert not helpers.setup(verbose=False).profile.quick


def test_precision_by_device(monkeypatch):
    assert henv.best_precision("cpu") == "fp32"
    assert henv.best_precision("mps") == "fp32"
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (9, 0))  # H100
    assert henv.best_precision("cuda") == "bf16"
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (7, 5))  # T4
    assert henv.best_precision("cuda") == "fp16"


def test_device_detection(monkeypatch):
    assert henv.detect_device() == "cpu"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert henv.detect_device() == "cuda"


def test_colab_without_gpu_says_how_to_get_one(monkeypatch):
    monkeypatch.setattr(henv, "in_colab", lambda: True)
    env = helpers.setup(verbose=False)
    assert env.colab and "Change runtime type" in env.note


def test_versions_are_reported():
    v = henv.library_versions()
    assert v["torch"] == torch.__version__.split("+")[0] or v["torch"].startswith(torch.__version__.split("+")[0])
    assert set(v) >= {"python", "torch", "transformers", "datasets", "scikit-learn"}


@pytest.mark.parametrize(
    "precision, dtype", [("fp32", torch.float32), ("bf16", torch.bfloat16), ("fp16", torch.float16)]
)
def test_autocast_for_runs_the_forward_in_the_chosen_precision(precision, dtype):
    """autocast_for lives beside best_precision, where the precision is chosen; on a CPU it autocasts only when
    asked."""
    a = torch.ones(4, 4)
    with helpers.env.autocast_for("cpu", precision):
        assert (a @ a).dtype == dtype
