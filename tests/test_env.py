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


def test_full_falls_back_to_offline_when_hub_unreachable(monkeypatch, capsys):
    monkeypatch.setattr(henv, "hub_reachable", lambda timeout=2.0: False)
    env = helpers.setup(profile="full")
    assert env.profile.name == "offline"
    assert "hub is out of reach" in env.note
    assert "hub is out of reach" in capsys.readouterr().out


def test_full_profile_when_hub_reachable(monkeypatch):
    monkeypatch.setattr(henv, "hub_reachable", lambda timeout=2.0: True)
    env = helpers.setup(profile="full", verbose=False)
    assert env.profile.name == "full" and env.profile.model == "bert-base-uncased"
    assert helpers.get_profile().sentiment == "sst2"


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
    import numpy as np
    import random
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
