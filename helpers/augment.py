"""Text data augmentation that needs no model: random deletion, random swap, synonym replacement.

Chapter 6, §6.5, uses it against class imbalance: instead of repeating the rare class's rows word for word (random
oversampling), :func:`augment_oversample` tops the rare class up with *altered* copies of its rows. The three
operations are those of "easy data augmentation" (Wei and Zou, 2019), on words split at white space:

* :func:`random_deletion` drops each word with a probability ``p`` (at least one word stays);
* :func:`random_swap` swaps two random words, ``n`` times;
* :func:`synonym_replace` replaces up to ``n`` words found in a small word list (:data:`SYNONYMS`, written for
  film reviews) by one of their listed synonyms.

Everything is seeded: the same seed gives the same texts. Back-translation (translate to another language and back)
makes more natural paraphrases, but it needs a translation model, which the offline profile does not have.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

# A small hand-written word list for film reviews: each word maps to words that can replace it without changing
# the review's polarity. Lower-case; a capitalised word keeps its capital when replaced.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "movie": ("film", "picture"),
    "film": ("movie", "picture"),
    "films": ("movies", "pictures"),
    "movies": ("films", "pictures"),
    "story": ("plot", "tale"),
    "plot": ("story", "storyline"),
    "actors": ("performers", "cast"),
    "cast": ("actors", "ensemble"),
    "director": ("filmmaker",),
    "performance": ("turn", "portrayal"),
    "performances": ("turns", "portrayals"),
    "script": ("screenplay",),
    "characters": ("protagonists", "roles"),
    "audience": ("viewers",),
    "viewers": ("audience",),
    "funny": ("amusing", "comic"),
    "hilarious": ("very funny", "uproarious"),
    "boring": ("dull", "tedious"),
    "dull": ("boring", "tedious"),
    "tedious": ("boring", "dull"),
    "great": ("excellent", "terrific"),
    "excellent": ("great", "superb"),
    "good": ("fine", "solid"),
    "bad": ("poor", "weak"),
    "poor": ("bad", "weak"),
    "weak": ("poor", "feeble"),
    "beautiful": ("lovely", "gorgeous"),
    "interesting": ("intriguing", "engaging"),
    "smart": ("clever", "intelligent"),
    "clever": ("smart", "witty"),
    "stupid": ("dumb", "silly"),
    "silly": ("stupid", "foolish"),
    "mess": ("muddle", "shambles"),
    "enjoyable": ("entertaining", "pleasant"),
    "entertaining": ("enjoyable", "diverting"),
    "predictable": ("formulaic", "foreseeable"),
    "strong": ("powerful", "forceful"),
    "powerful": ("strong", "potent"),
    "charming": ("delightful", "winning"),
    "awful": ("terrible", "dreadful"),
    "terrible": ("awful", "dreadful"),
    "worst": ("poorest", "lousiest"),
    "best": ("finest", "greatest"),
    "fun": ("enjoyable", "entertaining"),
    "moving": ("touching", "affecting"),
    "slow": ("sluggish", "plodding"),
    "long": ("lengthy", "overlong"),
    "little": ("small", "slight"),
    "big": ("large", "huge"),
    "often": ("frequently",),
    "very": ("really", "truly"),
    "really": ("truly", "very"),
}


def _check_probability(p: float, name: str) -> None:
    if not 0 <= p < 1:
        raise ValueError(f"{name} must be a probability in [0, 1), got {p}.")


def _check_count(n: int, name: str) -> None:
    if not isinstance(n, (int, np.integer)) or n < 0:
        raise ValueError(f"{name} must be a whole number of 0 or more, got {n!r}.")


def random_deletion(words: Sequence[str], p: float, rng: np.random.Generator) -> list[str]:
    """Each word dropped with probability ``p``; if all would go, one random word stays."""
    _check_probability(p, "p")
    words = list(words)
    if len(words) <= 1:
        return words
    kept = [w for w in words if rng.random() >= p]
    return kept if kept else [words[int(rng.integers(len(words)))]]


def random_swap(words: Sequence[str], n: int, rng: np.random.Generator) -> list[str]:
    """Two random positions swapped, ``n`` times (a text of fewer than two words stays as it is)."""
    _check_count(n, "n")
    words = list(words)
    if len(words) < 2:
        return words
    for _ in range(n):
        i, j = rng.choice(len(words), size=2, replace=False)
        words[i], words[j] = words[j], words[i]
    return words


def _replacement(word: str, synonyms: dict[str, Sequence[str]], rng: np.random.Generator) -> str | None:
    core = word.strip(".,;:!?\"'()")
    options = synonyms.get(core.lower())
    if not core or not options:
        return None
    new = options[int(rng.integers(len(options)))]
    if core[0].isupper():
        new = new[0].upper() + new[1:]
    return word.replace(core, new, 1)


def synonym_replace(
    words: Sequence[str], n: int, rng: np.random.Generator, synonyms: dict[str, Sequence[str]] | None = None
) -> list[str]:
    """Up to ``n`` words that the word list knows replaced by one of their synonyms (punctuation kept)."""
    _check_count(n, "n")
    synonyms = SYNONYMS if synonyms is None else synonyms
    words = list(words)
    candidates = [i for i, w in enumerate(words) if _replacement(w, synonyms, np.random.default_rng(0)) is not None]
    for i in rng.permutation(candidates)[:n]:
        words[int(i)] = _replacement(words[int(i)], synonyms, rng)
    return words


OPERATIONS: dict[str, Callable[[list[str], np.random.Generator], list[str]]] = {
    "deletion": lambda words, rng: random_deletion(words, 0.1, rng),
    "swap": lambda words, rng: random_swap(words, max(1, len(words) // 10), rng),
    "synonyms": lambda words, rng: synonym_replace(words, max(1, len(words) // 10), rng),
}


def augment_text(text: str, rng: np.random.Generator, operations: Sequence[str] = tuple(OPERATIONS)) -> str:
    """One altered copy of ``text``: one of ``operations`` (chosen at random) applied to its words.

    The strengths are those Wei and Zou suggest for short texts: 10% of the words deleted, or swapped, or
    replaced (at least one). If the chosen operation changes nothing (no word of the list, say), the others are
    tried in turn.
    """
    unknown = [op for op in operations if op not in OPERATIONS]
    if unknown or not operations:
        raise ValueError(f"Unknown augmentation(s) {unknown or '(none given)'}; choose from {list(OPERATIONS)}.")
    words = text.split()
    first = int(rng.integers(len(operations)))
    for k in range(len(operations)):
        new = OPERATIONS[operations[(first + k) % len(operations)]](words, rng)
        if new != words:
            return " ".join(new)
    return text


def augment_oversample(ds, seed: int = 0, operations: Sequence[str] = tuple(OPERATIONS)):
    """Every class topped up to the size of the largest with augmented copies of its own rows.

    Like :func:`helpers.imbalance.random_oversample`, but each added row is :func:`augment_text` of a randomly
    drawn row of the same class instead of an exact duplicate. All original rows stay, the other columns of a copy
    are those of its source row, and the result is shuffled. Returns a ``datasets.Dataset`` with the same features.
    """
    from datasets import Dataset

    if "label" not in getattr(ds, "column_names", []) or "text" not in ds.column_names:
        raise ValueError("The data needs 'text' and 'label' columns (a datasets.Dataset from helpers.load_dataset).")
    labels = np.asarray(ds["label"], dtype=int)
    if len(labels) == 0:
        raise ValueError("The data is empty: there is nothing to augment.")
    rng = np.random.default_rng(seed)
    columns = ds.to_dict()
    classes, counts = np.unique(labels, return_counts=True)
    for c, count in zip(classes, counts):
        for row in rng.choice(np.flatnonzero(labels == c), size=counts.max() - count, replace=True):
            source = ds[int(row)]
            for name in columns:
                columns[name].append(source[name])
            columns["text"][-1] = augment_text(columns["text"][-1], rng, operations)
    order = rng.permutation(len(columns["label"])).tolist()
    return Dataset.from_dict({k: [v[i] for i in order] for k, v in columns.items()}, features=ds.features)
