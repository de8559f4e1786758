"""helpers.tables.from_table: your own CSV / TSV / DataFrame as the book's DatasetDict (issue 15, §4)."""

import numpy as np
import pandas as pd
import pytest

from helpers.tables import from_table


def _frame(n_pos: int = 60, n_neg: int = 40, n_mix: int = 0) -> pd.DataFrame:
    labels = ["positive"] * n_pos + ["negative"] * n_neg + ["mixed"] * n_mix
    return pd.DataFrame(
        {"text": [f"review number {i}" for i in range(len(labels))], "label": labels, "stars": range(len(labels))}
    )


def test_string_labels_become_class_names_and_splits_have_the_asked_sizes():
    dsd = from_table(_frame())
    assert list(dsd) == ["train", "validation", "test"]
    assert dsd["train"].features["label"].names == ["negative", "positive"]
    assert dsd["train"].column_names == ["text", "label"]
    sizes = {s: len(dsd[s]) for s in dsd}
    assert sizes == {"train": 70, "validation": 10, "test": 20}
    texts = [t for s in dsd for t in dsd[s]["text"]]
    assert sorted(texts) == sorted(_frame()["text"]), "every row lands in exactly one split"


def test_the_splits_are_stratified():
    frame = _frame(n_pos=300, n_neg=150, n_mix=50)  # shares 0.6 / 0.3 / 0.1
    dsd = from_table(frame, seed=3)
    names = dsd["train"].features["label"].names
    expected = frame["label"].value_counts(normalize=True)
    for split in dsd:
        counts = np.bincount(dsd[split]["label"], minlength=len(names))
        shares = counts / counts.sum()
        for i, name in enumerate(names):
            # stratified: within one row of the table's share in every split (random splits miss by several rows)
            assert abs(shares[i] - expected[name]) * counts.sum() <= 1.0, (split, name, shares[i], expected[name])


def test_the_same_seed_gives_the_same_rows_and_another_seed_others():
    a, b, c = from_table(_frame(), seed=0), from_table(_frame(), seed=0), from_table(_frame(), seed=1)
    assert list(a["test"]["text"]) == list(b["test"]["text"])
    assert list(a["test"]["text"]) != list(c["test"]["text"])


def test_csv_and_tsv_files_read_like_the_frame(tmp_path):
    frame = _frame()
    frame.to_csv(tmp_path / "reviews.csv", index=False)
    frame.to_csv(tmp_path / "reviews.tsv", sep="\t", index=False)
    want = from_table(frame)
    for name in ("reviews.csv", "reviews.tsv"):
        got = from_table(tmp_path / name)
        assert list(got["test"]["text"]) == list(want["test"]["text"])
        assert list(got["test"]["label"]) == list(want["test"]["label"])
    got = from_table(str(tmp_path / "reviews.csv"))
    assert len(got["train"]) == 70


def test_other_column_names():
    frame = _frame().rename(columns={"text": "review", "label": "sentiment"})
    dsd = from_table(frame, text="review", label="sentiment")
    assert dsd["train"].features["label"].names == ["negative", "positive"]
    with pytest.raises(KeyError, match=r"no text column 'text'.*'review'.*text=<column name>"):
        from_table(frame)


def test_a_categorical_keeps_its_order_and_integers_their_ids():
    frame = _frame()
    frame["label"] = pd.Categorical(frame["label"], categories=["positive", "negative"])
    dsd = from_table(frame)
    assert dsd["train"].features["label"].names == ["positive", "negative"]
    assert set(np.array(dsd["test"]["label"])) == {0, 1}
    frame["label"] = (frame["label"] == "negative").astype(int)
    dsd = from_table(frame)
    assert dsd["train"].features["label"].names == ["0", "1"]
    assert sum(dsd["train"]["label"]) + sum(dsd["validation"]["label"]) + sum(dsd["test"]["label"]) == 40


def test_integers_that_are_not_0_to_k_are_numbered_in_order_and_named_by_value():
    frame = pd.DataFrame({"text": [f"t{i}" for i in range(100)], "label": [1, 3, 5, 3] * 25})
    dsd = from_table(frame)
    assert dsd["train"].features["label"].names == ["1", "3", "5"]
    row = dsd["train"][0]
    assert frame.set_index("text").loc[row["text"], "label"] == int(dsd["train"].features["label"].names[row["label"]])


def test_a_split_column_is_used_and_missing_splits_are_carved_from_train():
    frame = _frame()
    frame["split"] = ["train"] * 80 + ["Test"] * 20
    frame.loc[40:79, "label"] = "negative"  # both classes in train and test
    frame.loc[80:89, "label"] = "positive"
    dsd = from_table(frame)
    assert sorted(dsd["test"]["text"]) == sorted(frame["text"][80:])
    assert len(dsd["validation"]) == 10 and len(dsd["train"]) == 70
    frame["split"] = ["train"] * 80 + ["holdout"] * 20
    with pytest.raises(ValueError, match="split column holds.*holdout"):
        from_table(frame)


def test_whole_number_floats_ask_for_astype_int():
    frame = _frame()
    frame["label"] = (frame["label"] == "positive").astype(float)  # what pandas makes after a NaN
    with pytest.raises(ValueError, match=r"whole numbers.*astype\(int\)"):
        from_table(frame)
    frame["label"] = np.linspace(0, 1, len(frame))
    with pytest.raises(ValueError, match="fractional"):
        from_table(frame)


def test_missing_values_and_empty_tables_give_clear_errors(tmp_path):
    frame = _frame()
    frame.loc[[3, 7], "label"] = None
    with pytest.raises(ValueError, match=r"2 row\(s\) have no value in 'label' \(rows \[3, 7\]\).*dropna"):
        from_table(frame)
    frame = _frame()
    frame.loc[5, "text"] = np.nan
    with pytest.raises(ValueError, match="no value in 'text'"):
        from_table(frame)
    with pytest.raises(ValueError, match="empty"):
        from_table(_frame().iloc[:0])
    with pytest.raises(FileNotFoundError, match="No file at"):
        from_table(tmp_path / "nothing.csv")
    with pytest.raises(TypeError, match="DataFrame or the path"):
        from_table([("a", 1)])


def test_too_few_rows_per_class_and_bad_sizes_say_what_to_do():
    with pytest.raises(ValueError, match="Every class needs a few rows"):
        from_table(_frame(n_pos=30, n_neg=30, n_mix=1))
    with pytest.raises(ValueError, match="leave rows for training"):
        from_table(_frame(), test_size=0.6, validation_size=0.5)


def test_limit_caps_each_split_stratified():
    dsd = from_table(_frame(n_pos=300, n_neg=200), limit=50)
    assert all(len(dsd[s]) == 50 for s in dsd)
    assert abs(np.mean(dsd["train"]["label"]) - 0.6) <= 0.02
    dsd = from_table(_frame(), limit={"train": 20})
    assert len(dsd["train"]) == 20 and len(dsd["test"]) == 20
    with pytest.raises(ValueError, match="unknown splits"):
        from_table(_frame(), limit={"dev": 5})


def test_load_dataset_sends_tables_here():
    import helpers

    dsd = helpers.load_dataset(_frame())
    assert dsd["train"].features["label"].names == ["negative", "positive"]
