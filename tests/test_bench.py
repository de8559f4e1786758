"""Smoke test of the training benchmark: the CPU-small run completes and writes its table (not a timed test)."""

import importlib.util
import json
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


def load_bench():
    spec = importlib.util.spec_from_file_location("bench_train", ROOT / "benchmarks" / "bench_train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cpu_small_benchmark_writes_the_table(tmp_path, tokenizer):
    bench = load_bench()
    table = bench.main(
        ["--device", "cpu", "--small", "--n-short", "40", "--n-fixed", "8", "--n-infer", "16", "--out", str(tmp_path)]
    )
    assert list(table.columns) == bench.COLUMNS
    arms = [f"{k}: {v}" for k, v in bench.ARMS.items()]
    for workload in ("short", "fixed128"):
        training = table[(table.workload == workload) & table.arm.str.match("[A-D]:")]
        assert training.arm.tolist() == arms
    assert table.arm.iloc[-1] == "predict (inference)"
    assert (table.seq_per_s > 0).all() and (table.tokens_per_s > 0).all()
    assert table.mfu.isna().all() and table.peak_mem_gb.isna().all()  # no GPU: n/a, never a made-up number
    short = table[table.workload == "short"].set_index("arm")
    assert short.loc["C: seeds' plain loop", "padding"] > short.loc["D: helpers.train", "padding"]
    (json_file,) = tmp_path.glob("*.json")
    (md_file,) = tmp_path.glob("*.md")
    saved = json.loads(json_file.read_text())
    assert saved["meta"]["device"] == "cpu" and len(saved["rows"]) == len(table)
    assert "| workload | arm |" in md_file.read_text()


def test_synthetic_texts_have_the_intended_token_counts(tokenizer):
    bench = load_bench()
    texts, labels, lengths = bench.make_texts(tokenizer, 50, "short")
    counted = [len(ids) for ids in tokenizer(texts)["input_ids"]]
    assert counted == lengths.tolist() and set(labels) <= {0, 1}
    assert 10 < np.mean(bench.make_texts(tokenizer, 2000, "short")[2]) < 22  # SST-2-like mean, about 16
    texts, _, lengths = bench.make_texts(tokenizer, 3, "fixed128")
    assert [len(ids) for ids in tokenizer(texts)["input_ids"]] == [128, 128, 128]


def test_flops_formula():
    bench = load_bench()
    model = bench.make_model(small=True)
    n = bench.non_embedding_params(model)
    cfg = model.config
    assert bench.flops(model, [10]) == 10 * (6 * n + 12 * cfg.num_hidden_layers * cfg.hidden_size * 10)
    assert bench.flops(model, [10], train=False) == 10 * (2 * n + 4 * cfg.num_hidden_layers * cfg.hidden_size * 10)


def test_data_parallel_arm_runs_one_and_two_cpu_processes(tmp_path):
    """The data-parallel arm (issue 16) on CPU processes: two rows and the scaling efficiency, not a timed test."""
    bench = load_bench()
    table = bench.main(
        [
            "--device",
            "cpu",
            "--small",
            "--workloads",
            "short",
            "--arms",
            "--no-inference",
            "--n-short",
            "48",
            "--data-parallel",
            "2",
            "--out",
            str(tmp_path),
        ]
    )
    assert table.arm.tolist() == ["DP: helpers.train x1 process", "DP: helpers.train x2 processes"]
    assert table.batch.tolist() == [32, 64]  # the same micro-batch per process: twice the effective batch
    assert (table.seq_per_s > 0).all() and table.scaling.isna().tolist() == [True, False]
    one, two = table.seq_per_s
    assert table.scaling.iloc[1] == two / (2 * one)
    assert "| short | DP: helpers.train x2 processes |" in next(tmp_path.glob("*.md")).read_text()
