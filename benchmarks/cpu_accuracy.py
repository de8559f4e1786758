"""Real accuracy of helpers.train against a plain PyTorch loop, on the offline profile's real model and data.

Default (the CPU check of the book's claim): all-MiniLM-L6-v2, Rotten Tomatoes with 2,000 stratified training
examples, 500 validation examples for helpers.train's best-epoch choice, scored on the full test split (1,276).

    .venv/bin/python benchmarks/cpu_accuracy.py                      # both arms, seed 0 (about 8 min on 2 CPU cores)
    .venv/bin/python benchmarks/cpu_accuracy.py --train-limit 0 --seeds 0 1 2 --arms helpers   # GPU: full train split
    .venv/bin/python benchmarks/cpu_accuracy.py --batch-size 256 --lr 4e-4 --arms helpers      # a GPU batch/lr point

The plain loop is the seeds' loop made reasonable (the book's chapter 4 baseline): AdamW, linear warm-up (6%) and
decay, batch 32, lr 1e-4, texts padded per batch to at most 64 tokens, fp32, 3 epochs, no model selection.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time

os.environ.setdefault("BOOK_PROFILE", "offline")

import numpy as np  # noqa: E402
import torch  # noqa: E402

import helpers  # noqa: E402
from helpers.env import detect_device, seed_everything  # noqa: E402
from helpers.evaluate import accuracy_and_f1, predict  # noqa: E402
from helpers.training import train  # noqa: E402


def plain_loop(
    model, tokenizer, texts, labels, *, epochs=3, batch_size=32, lr=1e-4, max_length=64, seed=0, device="cpu"
):
    """The baseline: shuffled batches padded to their longest text (cap 64), AdamW with warm-up and decay."""
    from transformers import get_linear_schedule_with_warmup

    model.to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    steps = epochs * math.ceil(len(texts) / batch_size)
    scheduler = get_linear_schedule_with_warmup(optimizer, int(0.06 * steps), steps)
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        order = rng.permutation(len(texts))
        for start in range(0, len(order), batch_size):
            rows = order[start : start + batch_size]
            batch = tokenizer(
                [texts[i] for i in rows], padding=True, truncation=True, max_length=max_length, return_tensors="pt"
            ).to(device)
            out = model(**batch, labels=torch.tensor([labels[i] for i in rows], device=device))
            out.loss.backward()
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad()
    return model.eval()


def run(arm, seed, data, args, device):
    names = helpers.label_names(data)
    tokenizer = helpers.load_tokenizer()
    seed_everything(seed)
    model = helpers.load_model(labels=names)
    train_split, test = data["train"], data["test"]
    t0 = time.perf_counter()
    extra = {}
    if arm == "helpers":
        result = train(
            model,
            train_split,
            data["validation"],
            tokenizer=tokenizer,
            epochs=args.epochs,
            batch_size=args.batch_size,
            lr=args.lr,
            seed=seed,
            progress=not args.quiet,
            device=device,
        )
        model = result.model
        extra = {
            "train_seconds": float(result.history["seconds"].sum()),
            "config": result.config,
            "history": result.history.to_dict(orient="records"),
        }
    else:
        plain_loop(
            model,
            tokenizer,
            train_split["text"],
            train_split["label"],
            epochs=args.epochs,
            batch_size=args.batch_size or 32,
            lr=args.lr or 1e-4,
            seed=seed,
            device=device,
        )
    wall = time.perf_counter() - t0
    preds = predict(model, tokenizer, test["text"]).labels
    scores = accuracy_and_f1(test["label"], preds)
    row = {
        "arm": arm,
        "seed": seed,
        "n_train": len(train_split),
        "n_test": len(test),
        "wall_seconds": wall,
        "test_accuracy": scores["accuracy"],
        "test_f1": scores["f1"],
        **extra,
    }
    if arm == "plain":
        row["train_seconds"] = wall
    print(
        f"{arm:8s} seed {seed}: test accuracy {row['test_accuracy']:.4f}  macro-F1 {row['test_f1']:.4f}  "
        f"training {row['train_seconds']:.1f} s  whole call {wall:.1f} s",
        flush=True,
    )
    return row


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train-limit", type=int, default=2000, help="training examples (0: the whole split)")
    parser.add_argument("--val-limit", type=int, default=500)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--arms", nargs="+", default=["helpers", "plain"], choices=["helpers", "plain"])
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=None, help="default: helpers.train's own; plain: 32")
    parser.add_argument("--lr", type=float, default=None, help="default: helpers.train's own; plain: 1e-4")
    parser.add_argument("--device", default=None)
    parser.add_argument("--json", default=None, help="write the rows to this JSON file")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    helpers.setup(seed=0, verbose=not args.quiet)
    device = args.device or detect_device()
    data = helpers.load_dataset("sentiment", limit={"train": args.train_limit or None, "validation": args.val_limit})
    rows = [run(arm, seed, data, args, device) for seed in args.seeds for arm in args.arms]
    print("\narm       mean test accuracy  mean training s  mean whole call s")
    for arm in args.arms:
        sel = [r for r in rows if r["arm"] == arm]
        print(
            f"{arm:8s}  {np.mean([r['test_accuracy'] for r in sel]):.4f}              "
            f"{np.mean([r['train_seconds'] for r in sel]):8.1f}         "
            f"{np.mean([r['wall_seconds'] for r in sel]):8.1f}"
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"device": device, "torch": torch.__version__, "rows": rows}, fh, indent=1, default=str)
    return rows


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
