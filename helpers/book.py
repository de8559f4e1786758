"""Notebook plumbing shared by every chapter: measured numbers for the prose, the source of a helper, the
chapter's clock, and what a chapter should cost on a free Colab T4.

None of this is what the book teaches; it keeps the teaching cells short. It needs no build tool: the
website's build (myst-nb) picks the kept numbers up with ``glue``; in Jupyter or Colab, where myst-nb is
not installed, :class:`Kept` prints each number instead, so the reader sees every value the prose cites.
"""

from __future__ import annotations

import functools
import inspect
import math
import time
from dataclasses import dataclass
from typing import Any, Callable


@functools.cache
def myst_glue() -> Callable | None:
    """myst-nb's ``glue`` where the book build installed it (it puts numbers into the prose), else ``None``."""
    try:
        from myst_nb import glue
    except ImportError:  # Jupyter, JupyterLab, Colab: the numbers are printed instead
        return None
    return glue


def plain(value: Any) -> Any:
    """A NumPy or torch scalar as a plain Python number (myst-nb and JSON want those); anything else as it is."""
    return value.item() if hasattr(value, "item") and getattr(value, "ndim", 0) == 0 else value


class Kept(dict):
    """The numbers a chapter measured, by name, for the text of its page.

    ``keep = Kept()`` once per chapter, then ``keep("test_accuracy", acc)`` stores a value and returns it
    (so it can wrap an expression), and ``keep.update(a=1, b=2)`` stores several. In the book build each
    value is glued (``{glue:text}`key``` in the prose shows it); elsewhere it is printed as ``key = value``,
    because there the prose shows the role, not the number.
    """

    def __init__(self, *, echo: bool | None = None):
        super().__init__()
        self.echo = (myst_glue() is None) if echo is None else echo

    def __call__(self, name: str, value: Any) -> Any:
        value = plain(value)
        self[name] = value
        glue = myst_glue()
        if glue is not None:
            glue(name, value, display=False)
        if self.echo:
            print(f"{name} = {value:.4g}" if isinstance(value, float) else f"{name} = {value}")
        return value

    def update(self, values: dict | None = None, /, **more: Any) -> None:  # type: ignore[override]
        for name, value in {**(values or {}), **more}.items():
            self(name, value)


def show_source(fn: Callable) -> Any:
    """Show a helpers function's source with syntax colouring (chapter 2 shows the encoder this way)."""
    from IPython.display import Code, display

    return display(Code(inspect.getsource(fn), language="python"))


class Clock:
    """How long a chapter has run: ``clock = Clock()`` in its first cells, ``clock.minutes`` at the end."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    @property
    def seconds(self) -> float:
        return time.perf_counter() - self.start

    @property
    def minutes(self) -> float:
        return self.seconds / 60


# --- What a chapter should cost on a free Colab T4 (an estimate, until someone measures it) ----------------
#
# Assumptions, stated once (the README's table and every chapter's first cell use them):
# * A T4's fp16 tensor cores peak at 65 TFLOP/s; fine-tuning BERT-base in fp16 autocast reaches about a quarter
#   of that (16 TFLOP/s), inference about a third (22 TFLOP/s). These are assumptions, not measurements.
# * Training costs 6 FLOPs per parameter per token (forward + backward), inference 2; the embedding table is
#   a lookup and is not counted. BERT-base has 85.6M non-embedding parameters.
# * Every optimiser step also pays a fixed overhead (kernel launches, the optimiser, Python) of about 40 ms. That
#   figure is not from this book's code: it is the eager per-step overhead of BERT-base on one H100 in the
#   project's reference notes (a probe with bf16 autocast and fused AdamW on a fixed bucket of 24 tokens), where
#   short sentences are overhead-bound.
T4_TRAIN_FLOPS = 16e12
T4_INFER_FLOPS = 22e12
STEP_OVERHEAD_S = 0.040
NON_EMBEDDING_PARAMS = {
    "bert-base-uncased": 85.6e6,
    "bert-base-chinese": 85.6e6,
}  # the same encoder; only embeddings differ


@dataclass(frozen=True)
class Work:
    """One piece of a chapter's full-profile work: ``examples`` texts of ``tokens`` tokens (after padding),
    ``passes`` times, trained (``train=True``, in batches of ``batch``) or only predicted."""

    what: str
    examples: int
    tokens: float
    passes: float = 1
    train: bool = True
    batch: int = 32
    model: str = "bert-base-uncased"

    def seconds(self) -> float:
        """Estimated T4 seconds: FLOPs at the assumed throughput, plus the per-step overhead when training."""
        flops_per_token = (6 if self.train else 2) * NON_EMBEDDING_PARAMS[self.model]
        tokens = self.examples * self.tokens * self.passes
        rate = T4_TRAIN_FLOPS if self.train else T4_INFER_FLOPS
        steps = math.ceil(self.examples / self.batch) * self.passes if self.train else 0
        return tokens * flops_per_token / rate + steps * STEP_OVERHEAD_S


@dataclass(frozen=True)
class ChapterCost:
    """A chapter's estimated cost on a T4: its GPU work, plus the minutes it spends on the CPU alone."""

    work: tuple[Work, ...]
    cpu_minutes: float = 0.0

    @property
    def gpu_minutes(self) -> float:
        return sum(w.seconds() for w in self.work) / 60

    @property
    def minutes(self) -> float:
        return self.gpu_minutes + self.cpu_minutes


# Each chapter's full-profile work, kept in step with the chapter's own sizes (the chapters own their entries).
T4_COSTS: dict[str, ChapterCost] = {}

# Chapter 1 trains no BERT: TF-IDF, Naive Bayes, logistic regression and an SVM on the shipped Rotten Tomatoes
# and BBC News (every profile), and length counts with the profile's tokenizer. CPU only: the whole offline run
# took 45 s on a shared 2-core machine; 2 min allowed for a Colab CPU and the tokenizer download.
T4_COSTS["01_background"] = ChapterCost(work=(), cpu_minutes=2.0)

# Chapter 2: one short fine-tune of a copy (1,000 SST-2 sentences, 1 epoch, batch 16, at most 64 tokens, about 25
# after bucketing), predictions before and after on 200 test sentences, attention of the fine-tuned copy on the
# 48 sampled sentences. CPU (where the lesson is): loading bert-base and SST-2, the from-scratch encoder checks,
# the attention timings up to 2,048 tokens, and the pretrained model's attention on those 48 sentences.
T4_COSTS["02_attention"] = ChapterCost(
    work=(
        Work("fine-tune a copy, 1,000 sentences, 1 epoch", examples=1000, tokens=25, passes=1, batch=16),
        Work("test predictions before and after", examples=200, tokens=25, passes=2, train=False),
        Work("attention of the fine-tuned copy", examples=48, tokens=25, train=False),
    ),
    cpu_minutes=2.0,
)

# Chapter 3 (sizes in its SIZES cell): bert-base-uncased's encoder with new heads. train_pretraining and train_heads
# run in fp32 (no autocast), counted at 3x the tokens since a T4's fp32 rate is about a third of its fp16 rate.
# Head training works on cached vectors: 128 masked positions per step through the 768 x 30,522 output, about 36
# bert-base token-equivalents of FLOPs. The tiny BERT (4 layers, hidden 256) has about 4% of bert-base's FLOPs per
# token; its steps are counted with bert-base's per-step overhead, an upper bound. SST-2 sentences pad to about 25
# tokens when bucketed, to about 50 in the continued MLM's random batches (which also draw 64-token plot summaries).
# CPU: tokenising and masking all 67,349 SST-2 training sentences (twice; 23 s measured on the shared 2-core
# machine with 67,349 ten-word stand-in sentences), loading SST-2 twice and bert-base three times.
T4_COSTS["03_pretraining"] = ChapterCost(
    work=(
        Work(
            "encoder outputs for the new heads: 7,948 training and 1,619 held-out texts",
            examples=9567,
            tokens=50,
            train=False,
        ),
        Work("training the new heads: 1,500 steps on cached vectors (fp32)", examples=1500, tokens=3 * 36, batch=1),
        Work("continued MLM: 1,000 steps of 16 texts (fp32)", examples=16000, tokens=3 * 50, batch=16),
        Work("held-out MLM scores after continued MLM", examples=1619, tokens=50, train=False),
        Work(
            "six fine-tunes: 2 encoders x 3 seeds, 2,000 sentences, 3 epochs",
            examples=6 * 2000,
            tokens=25,
            passes=3,
            batch=16,
        ),
        Work("their test predictions: 6 x 872 sentences", examples=6 * 872, tokens=25, train=False),
        Work("tiny BERT pretraining: 5,000 steps of 32 (fp32)", examples=5000 * 32, tokens=3 * 0.04 * 60, batch=32),
        Work("tiny BERT fine-tunes: 2 x 3 seeds", examples=6 * 2000, tokens=0.04 * 25, passes=3, batch=16),
    ),
    cpu_minutes=2.0,
)


# Chapter 4 (sizes in its SIZES cell, full profile): three ways on 8,000 SST-2 sentences for 3 epochs at batch 32;
# the plain loop's random batches pad to about 50 tokens, the Trainer's length groups to about 30, helpers.train's
# buckets to about 25. CPU: loading bert-base five times, SST-2, the tokenising and padding measurements.
T4_COSTS["04_fine_tuning"] = ChapterCost(
    work=(
        Work("plain loop, random batches", examples=8000, tokens=50, passes=3),
        Work("Trainer, batches grouped by length", examples=8000, tokens=30, passes=3),
        Work("helpers.train, length buckets", examples=8000, tokens=25, passes=3),
        Work("validation after every epoch, three ways", examples=872, tokens=25, passes=9, train=False),
        Work("test predictions: three ways, saved and reloaded", examples=872, tokens=25, passes=5, train=False),
        Work("overfitting run, 1,000 sentences", examples=1000, tokens=25, passes=8),
        Work("schedules: constant, cosine, exponential", examples=8000, tokens=25, passes=9),
        Work("top two layers fine-tuned (counted as full)", examples=8000, tokens=25, passes=3),
        Work("frozen encoder: vectors of train and test", examples=8872, tokens=25, passes=1, train=False),
        Work("validation and test of the four new runs", examples=872, tokens=25, passes=16, train=False),
        Work("own data: 700 rows of a 1,000-row CSV", examples=700, tokens=25, passes=3),
    ),
    cpu_minutes=2.0,
)

# Chapter 5 (full profile): bert-base on 8,000 SST-2 sentences, 2 epochs, 3 seeds (helpers.train's GPU batch for
# 8,000 texts is 128); the imbalance arms on 5,000 texts (twice) and 9,000 oversampled ones; AG News topics on 6,000
# texts of about 50 tokens at batch 16. CPU: TF-IDF baselines (all of SST-2 once), AG News, loading bert-base 7 times.
T4_COSTS["05_evaluation"] = ChapterCost(
    work=(
        Work("sentiment: 3 seeds x 8,000 sentences x 2 epochs", examples=8000, tokens=25, passes=6, batch=128),
        Work("imbalance: no correction and class weights", examples=5000, tokens=25, passes=4, batch=64),
        Work("imbalance: random oversampling", examples=9000, tokens=25, passes=2, batch=128),
        Work("topics: AG News, 6,000 texts x 2 epochs", examples=6000, tokens=50, passes=2, batch=16),
        Work("predictions: validation and test, every model", examples=872, tokens=25, passes=12, train=False),
        Work("predictions: AG News test", examples=7600, tokens=50, train=False),
        Work(
            "cross-validation: 5 folds of 800 sentences and all 1,000, 3 epochs",
            examples=5000,
            tokens=25,
            passes=3,
            batch=32,
        ),
        Work("cross-validation: predictions on the folds and the test split", examples=1872, tokens=25, train=False),
    ),
    cpu_minutes=2.0,
)

# Chapter 6 (full profile): bert-base, 2,000 SST-2 sentences in batches of 8 (5 learning rates x 2 passes; 3
# overfitting runs on 500 x 6 epochs; a learning curve of 3 runs with about as many steps as one 2-pass run; 2
# distilled students x 4 passes, counted as if they had all 12 layers; LoRA at 3 rates x 2 passes, counted as full
# training); 800 IMDB reviews at 512 tokens x 2 passes, then 500 test reviews read 4 ways (about 4.5 inputs of 512
# each). The BiLSTM (20,000 sentences) is too small to count. CPU: int8 accuracy and latency on CPU copies, TF-IDF
# up to all of SST-2, IMDB, tokenising SST-2.
T4_COSTS["06_faq"] = ChapterCost(
    work=(
        Work("learning-rate sweep: 5 rates", examples=2000, tokens=25, passes=10, batch=8),
        Work("overfitting: 3 runs", examples=500, tokens=25, passes=18, batch=8),
        Work("learning curve: 3 smaller sets", examples=2000, tokens=25, passes=6, batch=8),
        Work("distillation: 2 students", examples=2000, tokens=25, passes=8, batch=8),
        Work("long texts: IMDB at 512 tokens", examples=800, tokens=512, passes=2, batch=16),
        Work("long texts: 4 ways to read the test reviews", examples=500, tokens=512, passes=4.5, train=False),
        Work("integrated gradients: 3 texts x 64 steps, and the step check", examples=280, tokens=25, batch=16),
        Work("predictions: validation during training, test, timing", examples=872, tokens=25, passes=40, train=False),
        Work("overfitting: a run with half the epochs", examples=500, tokens=25, passes=3, batch=8),
        Work("imbalance: 4 arms and 2 more seeds", examples=1240, tokens=25, passes=12, batch=8),
        Work("imbalance and pruning: predictions", examples=1000, tokens=25, passes=12, train=False),
        Work("LoRA: 3 learning rates", examples=2000, tokens=25, passes=6, batch=8),
    ),
    cpu_minutes=4.0,
)

# Chapter 7 (full profile): bert-base-chinese on 6,000 ChnSentiCorp reviews, 2 epochs, 3 seeds, max_length 256 (about
# 150 tokens after bucketing); bert-base-uncased once on the same data (one token per character too). CPU: baselines
# incl. jieba on 6,000 reviews, loading ChnSentiCorp and 4 models.
T4_COSTS["07_chinese"] = ChapterCost(
    work=(
        Work(
            "bert-base-chinese: 3 seeds x 6,000 reviews x 2 epochs",
            examples=6000,
            tokens=150,
            passes=6,
            model="bert-base-chinese",
        ),
        Work("bert-base-uncased on the same reviews", examples=6000, tokens=150, passes=2),
        Work("validation after every epoch, 4 runs", examples=1200, tokens=150, passes=8, train=False),
        Work("test predictions, 4 runs", examples=1200, tokens=150, passes=4, train=False),
    ),
    cpu_minutes=3.0,
)

# Appendix (distributed): no GPU work. Two CPU runs of the profile's model on 128 SST-2 sentences, 1 epoch:
# 2 torchrun processes and 1 in-notebook process (bert-base on a Colab CPU; estimated, not measured).
T4_COSTS["appendix_distributed"] = ChapterCost(work=(), cpu_minutes=3.0)


def t4_estimate(chapter: str) -> str:
    """The line a chapter's first cells print: its estimated time on a free Colab T4, labelled as an estimate."""
    cost = T4_COSTS[chapter]
    return (
        f"estimated on a free Colab T4 (full profile): about {cost.minutes:.0f} min "
        f"({cost.gpu_minutes:.1f} min of GPU work at an assumed {T4_TRAIN_FLOPS / 1e12:.0f} TFLOP/s, "
        f"{cost.cpu_minutes:.1f} min on the CPU); an estimate, not a measurement"
    )


def t4_table() -> str:
    """The README's table of estimated T4 minutes per chapter (markdown), from :data:`T4_COSTS`."""
    rows = ["| chapter | GPU work (min) | CPU only (min) | estimated total (min) |", "|---|---|---|---|"]
    for chapter, cost in T4_COSTS.items():
        rows.append(f"| {chapter} | {cost.gpu_minutes:.1f} | {cost.cpu_minutes:.1f} | {cost.minutes:.0f} |")
    return "\n".join(rows)
