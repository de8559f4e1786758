"""helpers.augment: seeded word-level augmentation (deletion, swap, synonyms) and augmented oversampling."""

import numpy as np
import pytest
from datasets import ClassLabel, Dataset, Features, Value

from helpers.augment import SYNONYMS, augment_oversample, augment_text, random_deletion, random_swap, synonym_replace

WORDS = "the movie was a dull and tedious mess but the cast was good".split()


def rng(seed=0):
    return np.random.default_rng(seed)


def test_random_deletion_drops_words_in_order_and_keeps_one():
    out = random_deletion(WORDS, 0.5, rng())
    assert 0 < len(out) < len(WORDS)
    it = iter(WORDS)
    assert all(w in it for w in out)  # a subsequence: the order is kept
    assert random_deletion(WORDS, 0.0, rng()) == WORDS
    assert len(random_deletion(["a", "b"], 0.999999, rng())) == 1  # never empty
    assert random_deletion(WORDS, 0.5, rng(3)) == random_deletion(WORDS, 0.5, rng(3))  # seeded


def test_random_swap_permutes_the_words():
    out = random_swap(WORDS, 2, rng())
    assert sorted(out) == sorted(WORDS) and out != WORDS
    assert random_swap(["only"], 3, rng()) == ["only"]
    assert random_swap(WORDS, 0, rng()) == WORDS


def test_synonym_replace_uses_the_word_list_and_keeps_case_and_punctuation():
    out = synonym_replace("The movie was dull.".split(), 5, rng())
    assert out[0] == "The" and out[2] == "was"
    assert out[1] in SYNONYMS["movie"] and out[3].rstrip(".") in SYNONYMS["dull"] and out[3].endswith(".")
    assert synonym_replace(["Movie"], 1, rng())[0][0].isupper()
    assert synonym_replace(["zzz", "qqq"], 3, rng()) == ["zzz", "qqq"]  # nothing known: unchanged
    assert synonym_replace(["cat"], 1, rng(), synonyms={"cat": ["feline"]}) == ["feline"]
    one = synonym_replace(WORDS, 1, rng())
    assert sum(a != b for a, b in zip(one, WORDS)) == 1


def test_every_word_list_entry_is_lower_case_and_never_itself():
    for word, options in SYNONYMS.items():
        assert word == word.lower() and options and word not in options


def test_augment_text_changes_the_text_deterministically():
    text = " ".join(WORDS)
    a, b = augment_text(text, rng(1)), augment_text(text, rng(1))
    assert a == b and a != text
    assert augment_text("zzz", rng(), operations=["synonyms"]) == "zzz"  # nothing can change it


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: random_deletion(WORDS, 1.0, rng()), "probability"),
        (lambda: random_swap(WORDS, -1, rng()), "whole number"),
        (lambda: synonym_replace(WORDS, 1.5, rng()), "whole number"),
        (lambda: augment_text("a b", rng(), operations=["back-translation"]), "Unknown augmentation"),
        (lambda: augment_text("a b", rng(), operations=[]), "Unknown augmentation"),
    ],
)
def test_bad_input_is_explained(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def make_ds(counts):
    labels = np.repeat(np.arange(len(counts)), counts).tolist()
    features = Features(
        {
            "text": Value("string"),
            "label": ClassLabel(names=[f"c{i}" for i in range(len(counts))]),
            "idx": Value("int64"),
        }
    )
    texts = [f"the movie number {i} was good and funny" for i in range(len(labels))]
    return Dataset.from_dict({"text": texts, "label": labels, "idx": list(range(len(labels)))}, features=features)


def test_augment_oversample_balances_with_new_texts_of_the_same_class():
    ds = make_ds([12, 3])
    out = augment_oversample(ds, seed=0)
    assert np.bincount(out["label"]).tolist() == [12, 12]
    assert out.features == ds.features
    assert set(ds["text"]) <= set(out["text"])  # every original row stays
    added = [r for r in out if r["text"] not in set(ds["text"])]
    assert len(added) >= 8  # copies are altered (a rare one may equal another original by chance)
    for row in out:  # each copy keeps the label and idx of its source row
        assert ds[row["idx"]]["label"] == row["label"]
    assert augment_oversample(ds, seed=0)["text"] == out["text"]
    assert augment_oversample(ds, seed=1)["text"] != out["text"]


def test_augment_oversample_bad_input():
    with pytest.raises(ValueError, match="'text' and 'label'"):
        augment_oversample(Dataset.from_dict({"sentence": ["a"], "label": [0]}))
    with pytest.raises(ValueError, match="empty"):
        augment_oversample(make_ds([0, 0]))
