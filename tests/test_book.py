"""helpers.book: kept numbers (glued in the build, printed elsewhere), show_source, the clock, T4 estimates."""

import math

import numpy as np
import pytest
import torch

import helpers.book as book


@pytest.fixture
def no_myst(monkeypatch):
    """A live kernel on Colab: myst-nb is not installed."""
    monkeypatch.setattr(book, "myst_glue", lambda: None)


@pytest.fixture
def glued(monkeypatch):
    """The book build: myst-nb's glue is there; record what it receives."""
    calls = []
    monkeypatch.setattr(book, "myst_glue", lambda: lambda name, value, display: calls.append((name, value, display)))
    return calls


def test_kept_prints_each_number_without_myst_nb(no_myst, capsys):
    keep = book.Kept()
    assert keep("accuracy", np.float64(0.8125)) == 0.8125
    keep.update({"n_train": np.int64(128)}, model="bert-base-uncased")
    out = capsys.readouterr().out.splitlines()
    assert out == ["accuracy = 0.8125", "n_train = 128", "model = bert-base-uncased"]
    assert keep == {"accuracy": 0.8125, "n_train": 128, "model": "bert-base-uncased"}
    assert type(keep["n_train"]) is int and type(keep["accuracy"]) is float  # plain Python, as myst-nb needs


def test_kept_glues_silently_in_the_build(glued, capsys):
    keep = book.Kept()
    keep("loss", torch.tensor(0.25))
    assert glued == [("loss", 0.25, False)]
    assert capsys.readouterr().out == ""  # the page shows the number in the prose, not as a stray line


def test_plain_leaves_arrays_and_strings_alone():
    arr = np.arange(3)
    assert book.plain(arr) is arr
    assert book.plain("x") == "x"
    assert book.plain(torch.tensor(3)) == 3


def test_show_source_displays_the_function(monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    book.show_source(book.plain)
    assert "def plain(" in shown[0].data


def test_clock_counts_up():
    clock = book.Clock()
    assert 0 <= clock.seconds < 5 and math.isclose(clock.minutes * 60, clock.seconds, rel_tol=0.1, abs_tol=1e-3)


def test_work_estimate_is_flops_over_throughput_plus_step_overhead():
    w = book.Work("fine-tune", examples=3200, tokens=25, passes=2, batch=32)
    flops = 6 * 85.6e6 * 3200 * 25 * 2
    assert w.seconds() == pytest.approx(flops / book.T4_TRAIN_FLOPS + 200 * book.STEP_OVERHEAD_S)
    infer = book.Work("predict", examples=1000, tokens=512, train=False)
    assert infer.seconds() == pytest.approx(2 * 85.6e6 * 1000 * 512 / book.T4_INFER_FLOPS)


def test_chapter_cost_adds_gpu_and_cpu_minutes():
    cost = book.ChapterCost(work=(book.Work("a", 3200, 25), book.Work("b", 1000, 512, train=False)), cpu_minutes=2)
    assert cost.gpu_minutes == pytest.approx(sum(w.seconds() for w in cost.work) / 60)
    assert cost.minutes == pytest.approx(cost.gpu_minutes + 2)


def test_every_chapter_has_an_estimate_within_the_class_budget():
    """Issue 13: each chapter at most 15 minutes on a free T4, at most 5 of them CPU-only."""
    from test_book_structure import NOTEBOOKS

    assert set(book.T4_COSTS) == {p.stem for p in NOTEBOOKS}
    for chapter, cost in book.T4_COSTS.items():
        assert cost.minutes <= 15, (chapter, cost.minutes)
        assert cost.cpu_minutes <= 5, (chapter, cost.cpu_minutes)
        assert "estimate" in book.t4_estimate(chapter)


def test_readme_shows_the_estimate_table():
    from test_book_structure import ROOT

    assert book.t4_table() in (ROOT / "README.md").read_text(), (
        "README's T4 table is stale: paste the output of `python -c 'import helpers.book as b; print(b.t4_table())'`"
    )
