"""Training and inference throughput: HF Trainer vs the seeds' loop vs helpers.train, same device, same data.

Arms (each trains 2 epochs over the same synthetic data; epoch 1 is warm-up, epoch 2 is the steady state):
  A  HF Trainer with its defaults (batch 8, fp32, checkpoints every 500 steps, dynamic padding)
  B  HF Trainer tuned (bf16 where the GPU has it, TF32, batch 64, 2 loader workers, no checkpoints)
  C  the seeds' plain loop (tokenised per example in __getitem__, padded to a fixed 128, Adam, batch 16, fp32)
  D  helpers.train with its defaults (no evaluation, no progress bar)
plus the inference throughput of helpers.evaluate.predict at a fixed 128 tokens, and, with --data-parallel N,
  DP helpers.train under torchrun with 1 and N processes (the same micro-batch per process, so N times the effective
     batch): seq/s of each and the scaling efficiency, seq/s(N) / (N x seq/s(1)). On a GPU machine each process
     gets one GPU (NCCL); on a CPU, CPU processes (gloo) that share the cores, each with cores / N threads.

Workloads: "short" (SST-2-like: log-normal lengths, mean about 16 real tokens with [CLS]/[SEP]) and "fixed128".
Texts are made of words that are one WordPiece each, so every text has exactly the intended number of tokens.
Labels are random: this measures speed, not accuracy (see cpu_accuracy.py for accuracy).

    .venv/bin/python benchmarks/bench_train.py --device cpu --small          # CPU smoke run, under 2 minutes
    python benchmarks/bench_train.py --workloads short --arms --no-inference --data-parallel 8   # DP arm only
    python benchmarks/bench_train.py --out benchmarks/results                # GPU: BERT-base shape, full sizes

Columns: seq_per_s and tokens_per_s (real tokens) in the steady epoch; padding (fraction of the processed tokens
that are padding; for the Trainer arms it is computed for random batches of their size, as its sampler makes);
mfu (training FLOPs on real tokens, 6 x non-embedding params + 12 L d s per token, over the GPU's peak;
n/a on a CPU); peak_mem_gb (GPU); warmup_s (epoch 1 minus epoch 2, i.e. start-up and compile cost);
wall_s (the whole call, set-up included); scaling (the DP arm's efficiency, on its N-process row).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("BOOK_PROFILE", "offline")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import torch  # noqa: E402

COLUMNS = [
    "workload",
    "arm",
    "batch",
    "precision",
    "seq_per_s",
    "tokens_per_s",
    "padding",
    "mfu",
    "peak_mem_gb",
    "warmup_s",
    "wall_s",
    "scaling",
]
PEAK_FLOPS = {"H100": 989e12, "H200": 989e12, "A100": 312e12, "T4": 65e12}  # dense bf16 (T4: fp16) tensor FLOP/s
ARMS = {"A": "HF Trainer defaults", "B": "HF Trainer tuned", "C": "seeds' plain loop", "D": "helpers.train"}


# --- data and model ------------------------------------------------------------------------------------


def one_token_words(tokenizer, count=3000):
    """Lower-case words that the tokenizer keeps whole (one WordPiece each, never merged with a neighbour)."""
    words = [w for w in tokenizer.get_vocab() if w.isalpha() and w.isascii() and len(w) > 2]
    words = sorted(words)[: count * 2]
    keep = [w for w in words if len(tokenizer.tokenize(w)) == 1]
    return keep[:count]


def make_texts(tokenizer, n, workload, seed=0):
    """``n`` texts whose token counts (with [CLS] and [SEP]) follow the workload, and random labels."""
    rng = np.random.default_rng(seed)
    words = np.array(one_token_words(tokenizer))
    if workload == "short":  # log-normal like SST-2 sentences: median ~13, mean ~16 tokens
        lengths = np.clip(np.round(rng.lognormal(np.log(13), 0.6, size=n)), 3, 128).astype(int)
    else:
        lengths = np.full(n, 128)
    texts = [" ".join(rng.choice(words, size=k - 2)) for k in lengths]
    return texts, rng.integers(0, 2, size=n).tolist(), lengths


def make_model(small, seed=0):
    from transformers import BertConfig, BertForSequenceClassification

    torch.manual_seed(seed)
    if small:
        cfg = BertConfig(
            hidden_size=64, num_hidden_layers=2, num_attention_heads=2, intermediate_size=256, num_labels=2
        )
    else:
        cfg = BertConfig(num_labels=2)  # bert-base-uncased's shape, random weights: the same FLOPs
    return BertForSequenceClassification(cfg)


def non_embedding_params(model):
    emb = sum(p.numel() for n, p in model.named_parameters() if "embeddings" in n)
    return sum(p.numel() for p in model.parameters()) - emb


def flops(model, lengths, train=True):
    """FLOPs of one pass over sequences of these real lengths: (6 or 2) x params + (12 or 4) L d s per token."""
    cfg = model.config
    n = non_embedding_params(model)
    lengths = np.asarray(lengths, dtype=np.float64)
    k, a = (6, 12) if train else (2, 4)
    return float(np.sum(lengths * (k * n + a * cfg.num_hidden_layers * cfg.hidden_size * lengths)))


def peak_flops(device):
    if device != "cuda":
        return None
    name = torch.cuda.get_device_name()
    return next((v for k, v in PEAK_FLOPS.items() if k in name), None)


def random_batch_padding(lengths, batch, seed=0):
    """Padding fraction of random batches of ``batch`` texts each padded to its longest (what the Trainer does)."""
    order = np.random.default_rng(seed).permutation(len(lengths))
    padded = sum(len(b) * lengths[b].max() for b in np.array_split(order, math.ceil(len(order) / batch)))
    return 1 - lengths.sum() / padded


def sync(device):
    if device == "cuda":
        torch.cuda.synchronize()


def reset_memory(device):
    if device == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def peak_memory(device):
    return torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else None


# --- the arms -----------------------------------------------------------------------------------------


def arm_trainer(tuned, model, tokenizer, texts, labels, device, tmp):
    import datasets
    from transformers import DataCollatorWithPadding, Trainer, TrainerCallback, TrainingArguments

    ds = datasets.Dataset.from_dict({"text": texts, "label": labels})
    ds = ds.map(lambda b: tokenizer(b["text"], truncation=True, max_length=128), batched=True, remove_columns=["text"])
    times = []

    class EpochClock(TrainerCallback):
        def on_epoch_begin(self, args, state, control, **kw):
            sync(device)
            times.append([time.perf_counter()])

        def on_epoch_end(self, args, state, control, **kw):
            sync(device)
            times[-1].append(time.perf_counter())

    kwargs = dict(output_dir=tmp, num_train_epochs=2, report_to="none", use_cpu=device == "cpu", disable_tqdm=True)
    precision = "fp32"
    if tuned:
        bf16 = device == "cuda" and torch.cuda.is_bf16_supported()
        precision = "bf16" if bf16 else "fp32"
        kwargs.update(
            per_device_train_batch_size=64,
            bf16=bf16,
            tf32=device == "cuda" or None,
            dataloader_num_workers=2 if device == "cuda" else 0,
            save_strategy="no",
            logging_strategy="no",
        )
    args = TrainingArguments(**kwargs)
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=ds,
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        callbacks=[EpochClock()],
    )
    t0 = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - t0
    (a0, a1), (b0, b1) = times[0], times[1]
    return {
        "batch": args.per_device_train_batch_size,
        "precision": precision,
        "t1": a1 - a0,
        "t2": b1 - b0,
        "wall": wall,
        "padding": None,
    }


def arm_seed_loop(model, tokenizer, texts, labels, device):
    """The seeds' code shape: per-example tokenisation padded to a fixed length, Adam, no schedule, fp32."""
    from torch.utils.data import DataLoader, Dataset

    class SeedDataset(Dataset):
        def __len__(self):
            return len(texts)

        def __getitem__(self, i):
            enc = tokenizer(texts[i], padding="max_length", truncation=True, max_length=128, return_tensors="pt")
            return {
                "input_ids": enc["input_ids"].squeeze(0),
                "attention_mask": enc["attention_mask"].squeeze(0),
                "labels": torch.tensor(labels[i]),
            }

    loader = DataLoader(SeedDataset(), batch_size=16, shuffle=True)
    model.to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=5e-5)
    t0 = time.perf_counter()
    epoch_times = []
    for _ in range(2):
        sync(device)
        start = time.perf_counter()
        for batch in loader:
            batch = {k: v.to(device) for k, v in batch.items()}
            optimizer.zero_grad()
            loss = model(**batch)[0]
            loss.backward()
            optimizer.step()
        sync(device)
        epoch_times.append(time.perf_counter() - start)
    return {
        "batch": 16,
        "precision": "fp32",
        "t1": epoch_times[0],
        "t2": epoch_times[1],
        "wall": time.perf_counter() - t0,
        "padding": None,
    }


def arm_helpers(model, tokenizer, texts, labels, device):
    from helpers.training import train

    result = train(model, (texts, labels), tokenizer=tokenizer, epochs=2, progress=False, device=device)
    h = result.history
    return {
        "batch": result.config["effective_batch"],
        "precision": result.config["precision"],
        "t1": float(h["seconds"].iloc[0]),
        "t2": float(h["seconds"].iloc[1]),
        "wall": result.seconds,
        "padding": float(h["padding"].iloc[1]),
    }


def measure_inference(model, tokenizer, texts, lengths, device, peak):
    from helpers.env import best_precision
    from helpers.evaluate import predict

    model.to(device).eval()
    reset_memory(device)
    times = []
    for _ in range(2):
        sync(device)
        t = time.perf_counter()
        predict(model, tokenizer, texts)
        sync(device)
        times.append(time.perf_counter() - t)
    n, real = len(texts), float(np.sum(lengths))
    return {
        "workload": "fixed128",
        "arm": "predict (inference)",
        "batch": 256 if device == "cuda" else 64,
        "precision": best_precision(device),
        "seq_per_s": n / times[1],
        "tokens_per_s": real / times[1],
        "padding": 0.0,
        "mfu": flops(model, lengths, train=False) / times[1] / peak if peak else None,
        "peak_mem_gb": peak_memory(device),
        "warmup_s": times[0] - times[1],
        "wall_s": sum(times),
    }


def data_parallel_worker(spec: dict) -> None:
    """Run inside torchrun: helpers.train on the short workload; rank 0 writes the steady epoch's numbers."""
    import helpers
    from helpers.distributed import end, is_main
    from helpers.env import quiet_libraries
    from helpers.training import train

    quiet_libraries()
    tokenizer = helpers.load_tokenizer()
    texts, labels, lengths = make_texts(tokenizer, spec["n"], "short")
    model = make_model(spec["small"])
    result = train(
        model,
        (texts, labels),
        tokenizer=tokenizer,
        epochs=2,
        batch_size=spec["micro"],
        progress=False,
        device=spec["device"],
    )
    steady = result.history.iloc[1]
    if is_main():
        row = {
            "batch": result.config["effective_batch"],
            "precision": result.config["precision"],
            "seq_per_s": float(steady["seq_per_s"]),
            "tokens_per_s": float(steady["tokens_per_s"]),
            "padding": float(steady["padding"]),
            "peak_mem_gb": peak_memory(spec["device"]),
            "warmup_s": float(result.history["seconds"].iloc[0] - steady["seconds"]),
            "wall_s": result.seconds,
            "mfu": None,
        }
        Path(spec["out"]).write_text(json.dumps(row))
    end()


def arm_data_parallel(args, device: str, processes: int) -> list[dict]:
    """helpers.train under ``torchrun --nproc_per_node=1`` and ``=N``: two rows, the second with the efficiency."""
    launcher = Path(sys.executable).with_name("torchrun")
    command = [str(launcher)] if launcher.exists() else [sys.executable, "-m", "torch.distributed.run"]
    micro = 32 if device == "cpu" else 64
    rows = []
    for n in (1, processes):
        with tempfile.TemporaryDirectory() as tmp:
            spec = {
                "n": args.n_short,
                "small": args.small,
                "micro": micro,
                "device": device,
                "out": str(Path(tmp) / "row.json"),
            }
            threads = str(max(1, (os.cpu_count() or 1) // n)) if device == "cpu" else "1"
            env = {
                **os.environ,
                "OMP_NUM_THREADS": threads,
                "PYTHONPATH": os.pathsep.join(
                    [str(Path(__file__).resolve().parent.parent), os.environ.get("PYTHONPATH", "")]
                ),
            }
            subprocess.run(
                [
                    *command,
                    "--standalone",
                    f"--nproc_per_node={n}",
                    str(Path(__file__).resolve()),
                    "--data-parallel-worker",
                    json.dumps(spec),
                ],
                check=True,
                env=env,
            )
            row = json.loads(Path(spec["out"]).read_text())
        rows.append(
            {
                "workload": "short",
                "arm": f"DP: helpers.train x{n} process{'es' if n > 1 else ''}",
                **row,
                "scaling": None,
            }
        )
        print(format_row(rows[-1]), flush=True)
    rows[-1]["scaling"] = rows[-1]["seq_per_s"] / (processes * rows[0]["seq_per_s"])
    print(f"scaling efficiency with {processes} processes: {rows[-1]['scaling']:.0%}", flush=True)
    return rows


# --- driver --------------------------------------------------------------------------------------------


def run(args) -> pd.DataFrame:
    import helpers
    from helpers.env import quiet_libraries

    quiet_libraries()
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda":
        torch.backends.cuda.matmul.allow_tf32 = True
    tokenizer = helpers.load_tokenizer()
    peak = peak_flops(device)
    sizes = {"short": args.n_short, "fixed128": args.n_fixed}
    rows = []
    for workload in args.workloads:
        texts, labels, lengths = make_texts(tokenizer, sizes[workload], workload)
        for arm in args.arms:
            model = make_model(args.small)
            reset_memory(device)
            with tempfile.TemporaryDirectory() as tmp:
                if arm in ("A", "B"):
                    out = arm_trainer(arm == "B", model, tokenizer, texts, labels, device, tmp)
                    out["padding"] = random_batch_padding(lengths, out["batch"])
                elif arm == "C":
                    out = arm_seed_loop(model, tokenizer, texts, labels, device)
                    out["padding"] = 1 - lengths.sum() / (128 * len(lengths))
                else:
                    out = arm_helpers(model, tokenizer, texts, labels, device)
            t2 = out["t2"]
            rows.append(
                {
                    "workload": workload,
                    "arm": f"{arm}: {ARMS[arm]}",
                    "batch": out["batch"],
                    "precision": out["precision"],
                    "seq_per_s": len(texts) / t2,
                    "tokens_per_s": float(lengths.sum()) / t2,
                    "padding": out["padding"],
                    "mfu": flops(model, lengths) / t2 / peak if peak else None,
                    "peak_mem_gb": peak_memory(device),
                    "warmup_s": out["t1"] - t2,
                    "wall_s": out["wall"],
                }
            )
            print(format_row(rows[-1]), flush=True)
            del model
    if args.inference:
        texts, _, lengths = make_texts(tokenizer, args.n_infer, "fixed128", seed=1)
        rows.append(measure_inference(make_model(args.small), tokenizer, texts, lengths, device, peak))
        print(format_row(rows[-1]), flush=True)
    if args.data_parallel:
        rows += arm_data_parallel(args, device, args.data_parallel)
    return pd.DataFrame(rows, columns=COLUMNS)


def format_row(row):
    def fmt(v, spec):
        return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)

    return (
        f"{row['workload']:9s} {row['arm']:24s} batch {row['batch']:>4} {row['precision']:5s} "
        f"{fmt(row['seq_per_s'], ',.0f'):>8} seq/s {fmt(row['tokens_per_s'], ',.0f'):>10} tok/s "
        f"pad {fmt(row['padding'], '.2f')} mfu {fmt(row['mfu'], '.3%')} mem {fmt(row['peak_mem_gb'], '.2f')} GB "
        f"warm-up {fmt(row['warmup_s'], '.1f')} s wall {fmt(row['wall_s'], '.1f')} s"
    )


def to_markdown(table: pd.DataFrame, meta: dict) -> str:
    lines = [
        f"# Training benchmark: {meta['device_name']} ({meta['date']})",
        "",
        f"Model: {meta['model']}. torch {meta['torch']}, transformers {meta['transformers']}. Sizes: {meta['sizes']}.",
        "",
        "| " + " | ".join(COLUMNS) + " |",
        "|" + "---|" * len(COLUMNS),
    ]
    for row in table.to_dict(orient="records"):
        cells = []
        for c in COLUMNS:
            v = row[c]
            if v is None or (isinstance(v, float) and math.isnan(v)):
                cells.append("n/a")
            elif c in ("mfu", "scaling"):
                cells.append(f"{v:.2%}")
            elif isinstance(v, float):
                cells.append(f"{v:,.0f}" if c in ("seq_per_s", "tokens_per_s") else f"{v:.2f}")
            else:
                cells.append(str(v))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def parse(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", choices=["cpu", "cuda"], default=None)
    p.add_argument("--small", action="store_true", help="a tiny BERT and small data (CPU smoke run)")
    p.add_argument("--arms", nargs="*", default=list(ARMS), choices=list(ARMS))
    p.add_argument("--workloads", nargs="+", default=["short", "fixed128"], choices=["short", "fixed128"])
    p.add_argument("--n-short", type=int, default=None)
    p.add_argument("--n-fixed", type=int, default=None)
    p.add_argument("--n-infer", type=int, default=None)
    p.add_argument("--no-inference", dest="inference", action="store_false")
    p.add_argument("--out", default=None, help="write <device>-<date>.json and .md into this folder")
    p.add_argument(
        "--data-parallel",
        type=int,
        default=0,
        metavar="N",
        help="add the data-parallel arm: helpers.train under torchrun with 1 and N processes",
    )
    p.add_argument("--data-parallel-worker", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    defaults = (384, 64, 256) if args.small else (8192, 4096, 16384)
    args.n_short = args.n_short or defaults[0]
    args.n_fixed = args.n_fixed or defaults[1]
    args.n_infer = args.n_infer or defaults[2]
    return args


def main(argv=None) -> pd.DataFrame | None:
    args = parse(argv)
    if args.data_parallel_worker:  # one of torchrun's processes
        data_parallel_worker(json.loads(args.data_parallel_worker))
        return None
    table = run(args)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.out:
        import transformers

        name = torch.cuda.get_device_name() if device == "cuda" else "cpu"
        meta = {
            "device": device,
            "device_name": name,
            "date": dt.date.today().isoformat(),
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "model": "tiny BERT (2 layers, hidden 64)" if args.small else "BERT-base shape, random init",
            "sizes": {"short": args.n_short, "fixed128": args.n_fixed, "inference": args.n_infer},
            "small": args.small,
        }
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        stem = f"{name.replace(' ', '_')}-{meta['date']}{'-small' if args.small else ''}"
        (out / f"{stem}.json").write_text(json.dumps({"meta": meta, "rows": table.to_dict(orient="records")}, indent=1))
        (out / f"{stem}.md").write_text(to_markdown(table, meta))
        print(f"wrote {out / stem}.json and .md")
    return table


if __name__ == "__main__":
    main()
    sys.exit(0)
