"""helpers.train under torchrun (issue 16): two CPU processes with gloo, started the way a reader starts them.

Two launches of ``torchrun --standalone --nproc_per_node=2 tests/fixtures/ddp_train.py`` serve every test here:

1. an uninterrupted run, and the same run interrupted after step 5 (its checkpoint, written at step 4, stays);
2. the interrupted run resumed by two new processes, then a run whose rank 1 runs out of memory (simulated).

Tolerance: two processes with micro-batch 4 and one process with batch 8 compute the same gradients in another
order of additions; after 6 AdamW steps their weights agreed to 1.2e-7 when this was written. The tests allow 1e-5.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from helpers.distributed import World, choose_backend, start
from helpers.training import EpochBatches, LengthBucketSampler, train

ROOT = Path(__file__).resolve().parent.parent
WORKER = ROOT / "tests" / "fixtures" / "ddp_train.py"
sys.path.insert(0, str(WORKER.parent))
import ddp_train as worker  # noqa: E402

TOLERANCE = 1e-5
PRINTED = "Data parallel: 2 processes (gloo) x micro-batch 4 x 1 accumulation step(s) = effective batch 8."


def torchrun(jobs: list[dict], folder: Path, name: str) -> subprocess.CompletedProcess:
    """Start two CPU processes on ``jobs``, as a reader would (``torchrun`` beside the venv's python)."""
    spec = folder / f"{name}.json"
    spec.write_text(json.dumps(jobs))
    launcher = Path(sys.executable).with_name("torchrun")
    command = [str(launcher)] if launcher.exists() else [sys.executable, "-m", "torch.distributed.run"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [*command, "--standalone", "--nproc_per_node=2", str(WORKER), str(spec)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )


@pytest.fixture(scope="module")
def launches(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ddp")
    first = torchrun(
        [
            {"out": str(folder / "full.pt"), "batch_size": 4},
            {
                "out": str(folder / "never.pt"),
                "batch_size": 4,
                "checkpoint_dir": str(folder / "cut"),
                "checkpoint_every": 2,
                "interrupt_at": 5,
            },
        ],
        folder,
        "first",
    )
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    shutil.copytree(folder / "cut", folder / "cut_for_one")  # the interrupted state, for a one-process resume
    second = torchrun(
        [
            {
                "out": str(folder / "resumed.pt"),
                "batch_size": 4,
                "checkpoint_dir": str(folder / "cut"),
                "checkpoint_every": 2,
                "resume": True,
            },
            {"out": str(folder / "oom.pt"), "batch_size": 4, "oom_rank": 1},
        ],
        folder,
        "second",
    )
    return {
        "folder": folder,
        "first": first,
        "second": second,
        "full": torch.load(folder / "full.pt", weights_only=False),
    }


@pytest.fixture(scope="module")
def tokenizer():
    import helpers

    return helpers.load_tokenizer()


def max_difference(a: dict, b: dict) -> float:
    return max((a[k].float() - b[k].float()).abs().max().item() for k in a)


# --- the sharded sampler: every example once per epoch across ranks, the same number of steps on each ---------------


@pytest.mark.parametrize("n, batch, world", [(24, 8, 2), (203, 16, 3), (52, 12, 4)])
def test_shards_cover_every_example_once_with_equal_steps(n, batch, world):
    lengths = np.random.default_rng(0).integers(3, 60, size=n)
    sampler = LengthBucketSampler(lengths, batch_size=batch, seed=0, pool_batches=2)
    for epoch in range(2):
        ranks = [EpochBatches(sampler, epoch, torch.device("cpu"), World(rank, world)) for rank in range(world)]
        assert {len(r.batches) for r in ranks} == {len(sampler)}  # the same number of steps everywhere
        seen = np.concatenate([b for r in ranks for b in r.batches])
        assert sorted(seen.tolist()) == list(range(n))  # every example once
        for b in range(len(sampler)):
            shards = [r[b] for r in ranks]
            assert all(len(rows) >= 1 for rows, _, _ in shards)
            assert {len(rows) for rows, _, _ in shards} <= {len(shards[0][0]), len(shards[0][0]) - 1}  # balanced
            assert torch.equal(
                torch.sort(torch.cat([rows for rows, _, _ in shards])).values, torch.sort(shards[0][2]).values
            )  # the shards make up the whole batch


def test_a_batch_some_process_would_miss_is_refused():
    assert World(0, 2, backend="gloo").plan(24, 4, 1) == 8
    assert World(0, 2, backend="gloo").plan(25, 4, 2) == 16  # last batch of 9: enough for both
    with pytest.raises(ValueError, match="last batch of 1, fewer than the 2 processes"):
        World(1, 2).plan(17, 4, 2)
    with pytest.raises(ValueError, match="last batch of 3, fewer than the 4 processes"):
        World(2, 4).plan(3, 1, 1)
    assert World().plan(17, 4, 2) == 8  # one process: any size


# --- bad setups: clear errors ------------------------------------------------------------------------------------


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_asked_for_where_there_is_none():
    with pytest.raises(RuntimeError, match="device='cuda' was asked for, but this torch sees no CUDA GPU"):
        start("cuda")


def test_an_unavailable_backend_is_named(monkeypatch):
    import torch.distributed as dist

    monkeypatch.setattr(dist, "is_gloo_available", lambda: False)
    with pytest.raises(RuntimeError, match="backend 'gloo' is not available"):
        choose_backend(torch.device("cpu"))
    monkeypatch.setenv("BOOK_DDP_BACKEND", "nccl")
    monkeypatch.setattr(dist, "is_nccl_available", lambda: False)
    for name, value in {"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "0"}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(RuntimeError, match="backend 'nccl' is not available.*use gloo for CPU processes"):
        start("cpu")  # fails before joining any process group
    assert not dist.is_initialized()


# --- two processes against one --------------------------------------------------------------------------------


def test_two_processes_match_one_with_the_same_effective_batch(launches, tokenizer):
    one = train(
        worker.tiny_model(), (worker.TEXTS, worker.LABELS), worker.EVAL, **worker.settings({"batch_size": 8}, tokenizer)
    )
    two = launches["full"]
    assert max_difference(one.model.state_dict(), two["weights"]) < TOLERANCE
    assert two["config"]["effective_batch"] == one.config["effective_batch"] == 8
    assert (two["config"]["world_size"], two["config"]["micro_batch"], one.config["world_size"]) == (2, 4, 1)
    history = pd.DataFrame(two["history"])  # evaluation gathered from both processes: one process's metrics
    assert history["eval_accuracy"].tolist() == one.history["eval_accuracy"].tolist()
    assert np.allclose(history["eval_loss"], one.history["eval_loss"], atol=TOLERANCE)
    assert history["step"].tolist() == one.history["step"].tolist() == [3, 6]
    assert launches["first"].stdout.count(PRINTED) == 2  # once per run (two runs), by rank 0 only


def test_an_interrupted_two_process_run_resumes_to_the_same_weights(launches):
    second = launches["second"]
    resumed = torch.load(launches["folder"] / "resumed.pt", weights_only=False)
    assert second.stdout.count("Resumed from") == 1 and "at step 4 (epoch 2, batch 1)" in second.stdout
    assert all(torch.equal(v, resumed["weights"][k]) for k, v in launches["full"]["weights"].items())  # bitwise
    assert resumed["history"] == launches["full"]["history"] | {
        k: resumed["history"][k] for k in ("seq_per_s", "tokens_per_s", "seconds")
    }


def test_one_process_resumes_a_two_process_checkpoint(launches, tokenizer):
    job = {
        "batch_size": 8,
        "checkpoint_dir": str(launches["folder"] / "cut_for_one"),
        "checkpoint_every": 2,
        "resume": True,
    }
    one = train(worker.tiny_model(), (worker.TEXTS, worker.LABELS), worker.EVAL, **worker.settings(job, tokenizer))
    assert any("written by 2 process(es) and continues in 1" in note for note in one.notes)
    assert max_difference(one.model.state_dict(), launches["full"]["weights"]) < TOLERANCE


def test_out_of_memory_on_one_process_stops_all_with_a_clear_message(launches):
    second = launches["second"]  # it returned (no hang), after the resumed run had finished
    assert second.returncode != 0
    assert "Out of GPU memory in process 1 at micro-batch 4: stopping every process" in second.stdout + second.stderr
    assert not (launches["folder"] / "oom.pt").exists()
