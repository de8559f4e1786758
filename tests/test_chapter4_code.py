"""Chapter 4's plain PyTorch loop and its Trainer arguments, run from the notebook's own cells on the CPU.

The cells tagged ``plain-loop`` and ``trainer-args`` in book/04_fine_tuning.ipynb are executed here as they
stand, on a tiny BERT and a toy task (a review is positive when it says "good"), so that the precision paths a
GPU takes (fp16 autocast with a GradScaler on a T4, bf16 autocast on newer GPUs) run in every test run too.
"""

import inspect
import json
import math
from pathlib import Path

import datasets
import numpy as np
import pandas as pd
import pytest
import torch
from conftest import tiny_bert_classifier
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm
from transformers import DataCollatorWithPadding, Trainer, TrainingArguments, get_linear_schedule_with_warmup

NOTEBOOK = Path(__file__).resolve().parent.parent / "book" / "04_fine_tuning.ipynb"


def tagged_source(tag: str) -> str:
    """The source of every cell of chapter 4 that carries ``tag``, in notebook order."""
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    found = ["".join(c["source"]) for c in cells if tag in c.get("metadata", {}).get("tags", [])]
    assert found, f"no cell of {NOTEBOOK.name} is tagged {tag!r}"
    return "\n\n".join(found)


def run_cells(tag: str) -> dict:
    """Execute the tagged cells with the names the chapter imported before them; return their namespace."""
    namespace = {
        "math": math,
        "inspect": inspect,
        "np": np,
        "pd": pd,
        "torch": torch,
        "tqdm": tqdm,
        "DataLoader": DataLoader,
        "Dataset": Dataset,
        "TrainingArguments": TrainingArguments,
        "get_linear_schedule_with_warmup": get_linear_schedule_with_warmup,
    }
    exec(compile(tagged_source(tag), f"{NOTEBOOK.name}[{tag}]", "exec"), namespace)
    return namespace


def toy_split(n: int, seed: int) -> datasets.Dataset:
    """Short reviews whose label is 1 when they say "good" and 0 when they say "bad"."""
    rng = np.random.default_rng(seed)
    subjects = ["the film", "this movie", "the plot", "the acting", "the story", "the cast"]
    labels = rng.integers(0, 2, size=n).tolist()
    texts = [f"{rng.choice(subjects)} was {'good' if y else 'bad'}" for y in labels]
    return datasets.Dataset.from_dict({"text": texts, "label": labels})


@pytest.fixture(scope="module")
def toy():
    return toy_split(64, seed=0), toy_split(32, seed=1)


SETTINGS = {
    "epochs": 6,
    "batch_size": 8,
    "lr": 5e-3,
    "weight_decay": 0.01,
    "warmup_ratio": 0.1,
    "max_grad_norm": 1.0,
    "max_length": 16,
    "seed": 0,
}


def test_the_cells_are_tagged_and_take_the_precision():
    plain = tagged_source("plain-loop")
    assert "def plain_loop(" in plain and "GradScaler" in plain and "torch.autocast" in plain
    assert "env." not in plain, "the plain loop must take its device and precision as arguments"
    assert "def trainer_settings(" in tagged_source("trainer-args")


@pytest.mark.parametrize("precision", ["fp32", "fp16", "bf16"])
def test_plain_loop_learns_a_toy_task_in_every_precision(precision, tokenizer, toy, monkeypatch):
    cells = run_cells("plain-loop")
    train, val = toy
    scalers = []

    class RecordingScaler(torch.amp.GradScaler):  # the loop must scale the loss in fp16, and only then
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            scalers.append(self.is_enabled())

    monkeypatch.setattr(torch.amp, "GradScaler", RecordingScaler)
    model, history, lrs = cells["plain_loop"](
        tiny_bert_classifier(num_labels=2),
        train,
        val,
        tokenizer=tokenizer,
        device="cpu",
        precision=precision,
        **SETTINGS,
    )
    assert scalers == [precision == "fp16"]
    assert isinstance(history, pd.DataFrame) and len(history) == SETTINGS["epochs"]
    assert history["eval_accuracy"].max() >= 0.9, history
    assert history["eval_loss"].iloc[-1] < history["eval_loss"].iloc[0]
    total = SETTINGS["epochs"] * math.ceil(len(train) / SETTINGS["batch_size"])
    assert len(lrs) == total and max(lrs) == pytest.approx(SETTINGS["lr"], rel=0.05) and lrs[0] == 0.0
    assert not model.training and all(p.dtype == torch.float32 for p in model.parameters())


def test_trainer_settings_ask_for_fp16_only_on_cuda(tmp_path):
    settings = run_cells("trainer-args")["trainer_settings"]
    common = dict(n_train=100, **SETTINGS)
    with pytest.raises(ValueError, match="fp16 only on a CUDA GPU"):
        settings(str(tmp_path), device="cpu", precision="fp16", **common)
    on_gpu = settings(str(tmp_path), device="cuda", precision="fp16", **common)  # only a dict: no GPU needed
    assert on_gpu["fp16"] is True and on_gpu["bf16"] is False and on_gpu["use_cpu"] is False
    on_cpu = settings(str(tmp_path), device="cpu", precision="fp32", **common)
    assert on_cpu["fp16"] is False and on_cpu["bf16"] is False and on_cpu["use_cpu"] is True
    # the warm-up is a whole number of steps (transformers 4.x reads a float there as an error), the plain loop's
    assert on_cpu["warmup_steps"] == math.ceil(0.1 * SETTINGS["epochs"] * math.ceil(100 / SETTINGS["batch_size"]))
    accepted = inspect.signature(TrainingArguments).parameters
    grouping = "train_sampling_strategy" if "train_sampling_strategy" in accepted else "group_by_length"
    assert grouping in on_cpu and all(name in accepted for name in on_cpu)


def test_trainer_arm_learns_a_toy_task_in_bf16_on_the_cpu(tmp_path, tokenizer, toy):
    settings = run_cells("trainer-args")["trainer_settings"]
    train, val = toy
    args = TrainingArguments(**settings(str(tmp_path), n_train=len(train), device="cpu", precision="bf16", **SETTINGS))
    assert args.bf16 and not args.fp16

    def tokenize(batch):
        return tokenizer(batch["text"], truncation=True, max_length=SETTINGS["max_length"])

    def compute_metrics(eval_pred):
        logits, labels = eval_pred
        return {"accuracy": float(np.mean(np.argmax(logits, axis=-1) == labels))}

    trainer = Trainer(
        model=tiny_bert_classifier(num_labels=2),
        args=args,
        train_dataset=train.map(tokenize, batched=True, remove_columns=["text"]),
        eval_dataset=val.map(tokenize, batched=True, remove_columns=["text"]),
        processing_class=tokenizer,
        data_collator=DataCollatorWithPadding(tokenizer),
        compute_metrics=compute_metrics,
    )
    trainer.train()
    scores = [r["eval_accuracy"] for r in trainer.state.log_history if "eval_accuracy" in r]
    assert len(scores) == SETTINGS["epochs"] and max(scores) >= 0.9, scores


def test_a_pretraining_checkpoint_loses_both_heads_and_gains_a_new_classifier(tmp_path):
    # §4.2's claim, on every transformers version CI tests: loading a BertForPreTraining checkpoint into
    # BertForSequenceClassification drops the MLM and NSP heads, keeps encoder and pooler, adds only the classifier.
    from transformers import BertConfig, BertForPreTraining, BertForSequenceClassification

    cfg = BertConfig(
        hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, max_position_embeddings=64
    )
    BertForPreTraining(cfg).save_pretrained(tmp_path)
    _, info = BertForSequenceClassification.from_pretrained(tmp_path, num_labels=3, output_loading_info=True)
    assert sorted(info["missing_keys"]) == ["classifier.bias", "classifier.weight"]
    dropped = info["unexpected_keys"]
    assert all(k.startswith("cls.") for k in dropped), dropped
    assert any(k.startswith("cls.predictions.") for k in dropped), "the masked-LM head must be dropped"
    assert {"cls.seq_relationship.weight", "cls.seq_relationship.bias"} <= set(dropped), "the NSP head must be dropped"
