"""What the exercise tests of every chapter share (tests/test_exercises_ch1.py ... ch6.py import it).

:func:`verdict` runs a checker and returns its verdict and its message as one line; :func:`assert_guarded` is the
test that the shared guards (helpers.exercises.guards) turn None, a non-function, the student stub and a crash into
a message, for one function exercise; :data:`REVIEWS` are short review texts for the tokenizer-based exercises.
"""

REVIEWS = [
    "A predictable plot, but fun.",
    "Predictable and dull; predictable again and again, sadly.",
    "A fine film with a fine cast.",
    "Nothing here is predictable! The ending surprised me completely.",
    "Dull, dull, dull.",
    "The acting was fine, the music was not.",
]

GUARD_CASES = ["none", "not_callable", "not_written", "raises"]
"""The non-answers every function exercise must report: None, a list, the stub, a function that raises."""


def verdict(capsys, fn, *args, **kwargs):
    ok = fn(*args, **kwargs)
    out = capsys.readouterr().out
    assert isinstance(ok, bool)
    assert out.startswith("✓" if ok else "✗"), out
    assert all(len(line) <= 110 for line in out.splitlines()), "messages are wrapped for the page"
    return ok, " ".join(out.split())  # one line, for matching the hints


def stub(*args):
    """The student notebooks' stub of a function exercise."""
    raise NotImplementedError("write it here")


def breaks(*args):
    raise ValueError("something broke")


BREAKS_LINE = breaks.__code__.co_firstlineno + 1


def assert_guarded(capsys, checker, exercise_id: str, name: str, case: str, **context) -> None:
    """The shared guard and the shared call: None, a non-function, the stub and a crash are messages, not errors."""
    answer = {"none": None, "not_callable": [1, 2], "not_written": stub, "raises": breaks}[case]
    ok, out = verdict(capsys, checker, answer, **context)
    assert ok is False
    expected = {
        "none": f"no answer yet. Replace the `None` in the cell above with your function (write `def {name}(",
        "not_callable": f"pass the function itself (`{name}`, without brackets), not a list.",
        "not_written": f"`{name}` is not written yet",
        "raises": f"your function raised ValueError: something broke (line {BREAKS_LINE}).",
    }[case]
    assert out.startswith(f"✗ Exercise {exercise_id}: ") and expected in out, out
    if case == "none":
        assert f"and pass `{name}`)" in out
    if case == "raises":
        assert out.startswith(f"✗ Exercise {exercise_id}: on "), "the message says on which input it broke"
