"""Data parallelism for :func:`helpers.train`: the same loop in N processes, one shard of every batch each.

The appendix "More than one GPU" uses it. Launch a script that calls ``helpers.train`` with PyTorch's own launcher::

    torchrun --standalone --nproc_per_node=4 my_training.py

and every process runs the same ``train()`` call. Under ``torchrun`` (the ``WORLD_SIZE``, ``RANK`` and ``LOCAL_RANK``
variables are set) :func:`start` joins the process group, and ``train`` then:

* wraps the model in ``torch.nn.parallel.DistributedDataParallel`` (DDP), which averages the gradients of all
  processes with an all-reduce during the backward pass, so every process takes the same optimiser step;
* cuts every length-bucketed batch into one shard per process (:func:`shard`): every example is seen once per epoch
  across all processes, and all take the same number of steps;
* counts the effective batch as micro-batch x gradient accumulation x processes, prints it once and records it;
* evaluates each process's share of the validation set and gathers the logits (:func:`gather_rows`), so the metrics
  are those of one process;
* lets only rank 0 write checkpoints, print and draw progress bars. A checkpoint holds no trace of the process count
  but the random generators of every rank, so N processes or one can resume it.

The engine is ``torch.distributed`` (gloo on CPUs, NCCL on GPUs), launched by ``torchrun``: it ships with torch, needs
no configuration file, and is what ``accelerate launch`` and the Trainer call underneath.

``torchrun --standalone --nproc_per_node=N -m helpers.distributed --epochs 3 --out model/`` runs chapter 4's
``helpers.train`` arm on N processes from the command line (:func:`main`).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import torch

TIMEOUT = timedelta(minutes=10)  # a collective that waits longer than this fails instead of hanging


@dataclass
class World:
    """Which process this is: ``rank`` of ``size`` (``size == 1``: the ordinary single process)."""

    rank: int = 0
    size: int = 1
    local_rank: int = 0
    backend: str | None = None
    started_here: bool = False  # whether start() created the process group (it stays for later train() calls)

    @property
    def is_main(self) -> bool:
        """Rank 0: the process that prints, draws progress bars and writes checkpoints."""
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.size > 1

    def plan(self, n_train: int, micro: int, grad_accum: int) -> int:
        """The effective batch (micro x accumulation x processes); checks that every process gets examples in every
        step, and prints the arithmetic once (rank 0) when there is more than one process."""
        effective = micro * grad_accum * self.size
        last = n_train % effective
        if self.active and (n_train < self.size or 0 < last < self.size):
            raise ValueError(
                f"{n_train} training examples in batches of {effective} leave a last batch of "
                f"{last or n_train}, fewer than the {self.size} processes: some process would have no "
                "example in that step. Change batch_size or grad_accum so that the last batch is empty "
                f"or holds at least {self.size} examples, or drop {last} examples."
            )
        if self.active and self.is_main:
            print(
                f"Data parallel: {self.size} processes ({self.backend}) x micro-batch {micro} x {grad_accum} "
                f"accumulation step(s) = effective batch {effective}."
            )
        return effective

    def config(self) -> dict:
        """What a result's config records about the processes."""
        return {"world_size": self.size, "backend": self.backend}


def end() -> None:
    """End this process's part in the process group, at the end of a script (every rank calls it).

    :func:`helpers.train` leaves the group open, so that a script can train several times in the same processes
    (creating a group again after ending one can wait forever under ``torchrun``)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


def launched_size() -> int:
    """How many processes ``torchrun`` started (1 without it)."""
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_main() -> bool:
    """Whether this is rank 0 (or the only process): a script's own printing and saving go here."""
    return int(os.environ.get("RANK", "0")) == 0


def choose_backend(device: torch.device) -> str:
    """gloo for CPU processes, NCCL for GPUs (``BOOK_DDP_BACKEND`` overrides); a clear error when it is missing."""
    import torch.distributed as dist

    backend = os.environ.get("BOOK_DDP_BACKEND") or ("nccl" if device.type == "cuda" else "gloo")
    available = {
        "gloo": dist.is_gloo_available(),
        "nccl": dist.is_nccl_available(),
        "mpi": dist.is_mpi_available(),
    }.get(backend, False)
    if not available:
        hint = (
            "NCCL needs Linux and a CUDA build of torch; use gloo for CPU processes"
            if backend == "nccl"
            else "install a torch build that has it, or choose another with BOOK_DDP_BACKEND"
        )
        raise RuntimeError(
            f"The torch.distributed backend {backend!r} is not available in this torch ({torch.__version__}): {hint}."
        )
    return backend


def start(device: str | torch.device | None) -> tuple[World, torch.device]:
    """This process's :class:`World` and device: under ``torchrun``, join (or create) the process group, with
    ``cuda:LOCAL_RANK`` as the device when training on GPUs; otherwise one process and ``device`` as given."""
    from .evaluate import training_device

    device = training_device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError(
            f"device={str(device)!r} was asked for, but this torch sees no CUDA GPU "
            f"(torch {torch.__version__}, CUDA build: {torch.version.cuda}). Train on device='cpu', "
            "or run where a GPU is visible."
        )
    size = launched_size()
    if size <= 1:
        return World(), device
    import torch.distributed as dist

    if not dist.is_available():
        raise RuntimeError("This torch was built without torch.distributed: it cannot train in several processes.")
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise RuntimeError(
                f"Process {rank} has LOCAL_RANK {local_rank}, but this machine has "
                f"{torch.cuda.device_count()} GPU(s): start at most that many processes per node "
                "(torchrun --nproc_per_node)."
            )
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    backend = choose_backend(device)
    started = not dist.is_initialized()
    if started:
        dist.init_process_group(backend, timeout=TIMEOUT)
    return World(rank, dist.get_world_size(), local_rank, dist.get_backend(), started), device


def shard(batches: list[np.ndarray], rank: int, size: int) -> list[np.ndarray]:
    """Every batch cut into ``size`` interleaved shards; this rank's. Rows ``rank, rank + size, ...`` of a
    length-sorted batch give every process texts of the same lengths, so none waits for the others."""
    return [b[rank::size] for b in batches]


def gather_rows(local: torch.Tensor, n: int, world: World) -> torch.Tensor:
    """The rows ``rank, rank + size, ...`` of an ``n``-row result, from every rank, back in their order (CPU)."""
    if not world.active:
        return local
    import torch.distributed as dist

    per_rank = -(-n // world.size)
    device = torch.device("cuda", world.local_rank) if world.backend == "nccl" else torch.device("cpu")
    padded = torch.zeros((per_rank, *local.shape[1:]), dtype=local.dtype, device=device)
    padded[: len(local)] = local.to(device)
    pieces = [torch.empty_like(padded) for _ in range(world.size)]
    dist.all_gather(pieces, padded)
    out = torch.empty((n, *local.shape[1:]), dtype=local.dtype)
    for r, piece in enumerate(pieces):
        count = len(range(r, n, world.size))
        out[r :: world.size] = piece[:count].cpu()
    return out


def gather_objects(obj, world: World) -> list | None:
    """``obj`` from every rank, on rank 0 (``None`` elsewhere); ``[obj]`` in one process."""
    if not world.active:
        return [obj]
    import torch.distributed as dist

    out = [None] * world.size if world.is_main else None
    dist.gather_object(obj, out, dst=0)
    return out


def parse_command(argv: list[str] | None = None):
    """The options of ``python -m helpers.distributed`` (see :func:`main`)."""
    import argparse

    p = argparse.ArgumentParser(
        prog="torchrun --standalone --nproc_per_node=N -m helpers.distributed",
        description="Chapter 4's helpers.train run on N processes (one per GPU, or CPU "
        "processes): the profile's model fine-tuned on a data set of the book.",
    )
    p.add_argument("--data", default="sentiment", help="a data set or role of helpers.load_dataset, or a CSV path")
    p.add_argument("--model", default=None, help="a model name or folder (default: the profile's model)")
    p.add_argument("--limit", type=int, default=None, help="a stratified slice of every split (default: all)")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=None, help="the micro-batch of each process")
    p.add_argument("--grad-accum", type=int, default=1)
    p.add_argument("--lr", type=float, default=None, help="default: helpers.training.default_lr of the effective batch")
    p.add_argument("--device", default=None, help="cuda or cpu (default: a GPU when there is one)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-dropout", action="store_true", help="switch dropout off (to compare with one process)")
    p.add_argument("--checkpoint-dir", default=None)
    p.add_argument("--resume", action="store_true")
    p.add_argument("--out", default=None, help="folder for the model, tokenizer and history (written by rank 0)")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    """``torchrun --standalone --nproc_per_node=N -m helpers.distributed --epochs 3 --out model/``: load the data and
    the model as chapter 4 does, fine-tune with :func:`helpers.train` in every process, and let rank 0 save the model
    (:func:`helpers.save_model`), ``history.csv`` and ``train_config.json``. The appendix launches it from its
    notebook."""
    import json
    from pathlib import Path

    from .data import label_names, load_dataset
    from .env import quiet_libraries, seed_everything
    from .models import load_model, load_tokenizer, save_model
    from .training import train

    args = parse_command(argv)
    quiet_libraries()
    data = load_dataset(args.data, limit=args.limit, seed=args.seed)
    seed_everything(args.seed)  # the same new head in every process (DDP also copies rank 0's weights)
    no_dropout = {"hidden_dropout_prob": 0.0, "attention_probs_dropout_prob": 0.0} if args.no_dropout else {}
    model, tokenizer = load_model(args.model, labels=label_names(data), **no_dropout), load_tokenizer(args.model)
    validation = data["validation"] if len(data["validation"]) else None
    result = train(
        model,
        data["train"],
        validation,
        tokenizer=tokenizer,
        epochs=args.epochs,
        batch_size=args.batch_size,
        grad_accum=args.grad_accum,
        lr=args.lr,
        device=args.device,
        seed=args.seed,
        checkpoint_dir=args.checkpoint_dir,
        resume=args.resume,
        progress=is_main(),
    )
    if is_main():
        print(result.history.round(4).to_string(index=False))
        if args.out:
            save_model(result.model, tokenizer, args.out)
            result.history.to_csv(Path(args.out) / "history.csv", index=False)
            (Path(args.out) / "train_config.json").write_text(json.dumps(result.config, indent=1, default=str))
            print(f"saved the model, history.csv and train_config.json in {args.out}")
    end()


if __name__ == "__main__":
    main()
