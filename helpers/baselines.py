"""The traditional text classifiers that the fine-tuned models of later chapters must beat.

Chapter 1 builds them and reads what they learned; chapters 4 and 5 refit them on the same splits to put
a fine-tuned model's scores beside theirs. Every baseline is one scikit-learn :class:`~sklearn.pipeline.Pipeline`
of two steps, named by a *kind* ``"<vectorizer>_<classifier>"``:

* vectorizer ``bow``: word and word-pair counts (:class:`~sklearn.feature_extraction.text.CountVectorizer`);
* vectorizer ``tfidf``: the same n-grams, weighted by TF-IDF
  (:class:`~sklearn.feature_extraction.text.TfidfVectorizer`);
* classifier ``nb``: multinomial Naive Bayes; ``lr``: logistic regression; ``svm``: a linear support vector machine.

``"majority"`` is the trivial baseline that always answers the most frequent training class. The
settings (unigrams and bigrams seen in at least two training texts, sublinear term frequency, ``C``) were
chosen once on the *validation* split of Rotten Tomatoes, never on test, and are the same for every dataset.

What a feature is (``tokens``, see :data:`TOKENS`): scikit-learn's default *words* (runs of two or more letters
or digits) suit English, but Chinese is written without spaces, so the default turns a whole clause such as
'这部电影不好看' into one "word". For Chinese text (:func:`helpers.data.is_chinese`) :func:`fit_baselines` therefore
uses character 1- to 3-grams by default; ``tokens="jieba"`` uses jieba's words instead, when jieba is installed.
Chapter 7 measures all three: on the validation split of the shipped Chinese reviews, character n-grams with
logistic regression scored highest and are fitted in a fraction of jieba's time.
"""

from __future__ import annotations

import copy
import importlib.util
import logging
import time
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from sklearn.dummy import DummyClassifier
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.naive_bayes import MultinomialNB
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from .data import is_chinese

VECTORIZERS = {"bow": "bag of words (counts)", "tfidf": "TF-IDF"}
CLASSIFIERS = {"nb": "Naive Bayes", "lr": "logistic regression", "svm": "linear SVM"}
KINDS = ("majority",) + tuple(f"{v}_{c}" for v in VECTORIZERS for c in CLASSIFIERS)
DEFAULT_KINDS = ("majority", "bow_nb", "tfidf_lr", "tfidf_svm")
TOKENS = {
    "words": "words (scikit-learn's default: runs of two or more letters or digits)",
    "chars": "character n-grams (1 to 3 characters)",
    "jieba": "jieba words",
}
JIEBA_PIN = "jieba==0.42.1"
RESULT_COLUMNS = (
    "model",
    "n_features",
    "fit_seconds",
    "validation_accuracy",
    "validation_macro_f1",
    "test_accuracy",
    "test_macro_f1",
)


def describe_kind(kind: str) -> str:
    """A readable name for a kind, e.g. ``"tfidf_lr"`` -> ``"TF-IDF + logistic regression"``."""
    _check_kind(kind)
    if kind == "majority":
        return "majority class"
    vec, clf = kind.split("_")
    return f"{VECTORIZERS[vec]} + {CLASSIFIERS[clf]}"


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(
            f"Unknown baseline kind {kind!r}. Use one of: {', '.join(KINDS)} "
            "('<vectorizer>_<classifier>' with vectorizer bow or tfidf and classifier nb, lr or svm)."
        )


def jieba_words(text: str) -> list[str]:
    """The words jieba finds in ``text`` (spaces dropped): the ``jieba`` features of chapter 7's baselines."""
    import jieba

    jieba.setLogLevel(logging.WARNING)  # no "Building prefix dict..." lines in the notebooks
    return [w for w in jieba.lcut(text) if w.strip()]


def choose_tokens(texts: Sequence[str]) -> str:
    """``"chars"`` for Chinese text (:func:`helpers.data.is_chinese`), else ``"words"``: what ``tokens="auto"`` uses."""
    return "chars" if is_chinese(list(texts)) else "words"


def _check_tokens(tokens: str) -> None:
    if tokens not in TOKENS:
        raise ValueError(f"Unknown tokens {tokens!r}. Use one of: {', '.join(TOKENS)} (or 'auto' in fit_baselines).")
    if tokens == "jieba" and importlib.util.find_spec("jieba") is None:
        raise ValueError(
            f"tokens='jieba' needs the jieba word segmenter: `pip install {JIEBA_PIN}`. "
            "Or use tokens='chars' (character n-grams), which needs nothing else."
        )


def _vectorizer(vec_name: str, tokens: str, ngram_range: tuple[int, int] | None, min_df: int):
    """The CountVectorizer or TfidfVectorizer of a kind, on words, character n-grams or jieba words."""
    options: dict = {"min_df": min_df}
    if tokens == "chars":
        options.update(analyzer="char", ngram_range=ngram_range or (1, 3))
    elif tokens == "jieba":
        options.update(tokenizer=jieba_words, token_pattern=None, ngram_range=ngram_range or (1, 2))
    else:
        options.update(ngram_range=ngram_range or (1, 2))
    if vec_name == "bow":
        return CountVectorizer(**options)
    return TfidfVectorizer(sublinear_tf=True, **options)


def _no_features(texts) -> np.ndarray:
    """The majority baseline ignores the text: one constant column per text."""
    return np.zeros((len(texts), 1))


def make_baseline(
    kind: str = "tfidf_lr",
    *,
    ngram_range: tuple[int, int] | None = None,
    min_df: int = 2,
    C: float | None = None,
    alpha: float = 1.0,
    seed: int = 0,
    tokens: str = "words",
) -> Pipeline:
    """An unfitted pipeline ``vectorizer -> classifier`` for ``kind`` (see :data:`KINDS`).

    ``tokens`` says what a feature is (:data:`TOKENS`): ``"words"`` (lower-cased words of two or more letters, the
    scikit-learn default), ``"chars"`` (character n-grams, for Chinese) or ``"jieba"`` (jieba's Chinese words).
    ``ngram_range`` (default: 1 to 2 words, or 1 to 3 characters) and ``min_df`` go to the vectorizer. ``C`` is the
    inverse regularisation strength of ``lr`` (default 10) and ``svm``
    (default 0.5); ``alpha`` the additive smoothing of ``nb``. Every estimator that takes a
    ``random_state`` gets ``seed``. The steps are named ``"vectorizer"`` and ``"classifier"``.
    """
    _check_kind(kind)
    _check_tokens(tokens)
    if kind == "majority":
        return Pipeline(
            [
                ("vectorizer", FunctionTransformer(_no_features)),
                ("classifier", DummyClassifier(strategy="most_frequent")),
            ]
        )
    vec_name, clf_name = kind.split("_")
    vectorizer = _vectorizer(vec_name, tokens, ngram_range, min_df)
    if clf_name == "nb":
        classifier = MultinomialNB(alpha=alpha)
    elif clf_name == "lr":
        classifier = LogisticRegression(C=10.0 if C is None else C, max_iter=2000, random_state=seed)
    else:
        classifier = LinearSVC(C=0.5 if C is None else C, max_iter=5000, random_state=seed)
    return Pipeline([("vectorizer", vectorizer), ("classifier", classifier)])


def _texts_and_labels(ds) -> tuple[list[str], np.ndarray]:
    """``text`` and ``label`` of a datasets.Dataset, a DataFrame or a dict, checked to be non-empty and aligned."""
    texts, labels = list(ds["text"]), np.asarray(ds["label"])
    if len(texts) == 0:
        raise ValueError("The data is empty: a baseline needs at least one text with a label.")
    if len(texts) != len(labels):
        raise ValueError(f"{len(texts)} texts but {len(labels)} labels.")
    return texts, labels


def evaluate_baseline(pipeline: Pipeline, ds) -> dict[str, float]:
    """Accuracy and macro-F1 (the unweighted mean of the per-class F1 scores) of a fitted pipeline on ``ds``."""
    texts, labels = _texts_and_labels(ds)
    predicted = pipeline.predict(texts)
    return {
        "accuracy": float(accuracy_score(labels, predicted)),
        "macro_f1": float(f1_score(labels, predicted, average="macro", zero_division=0)),
    }


def fit_baselines(
    dsd,
    kinds: Sequence[str] = DEFAULT_KINDS,
    *,
    splits: Iterable[str] = ("validation", "test"),
    seed: int = 0,
    threads: int | None = 1,
    return_pipelines: bool = False,
    tokens: str = "auto",
    **options,
):
    """Fit each kind on ``dsd["train"]`` and score it on ``splits``: one row per kind.

    ``dsd`` is a DatasetDict (or any mapping of split name to something with ``text`` and ``label``).
    The table has the columns ``model`` (readable name), ``n_features`` (vocabulary size), ``fit_seconds``
    (wall time to fit the whole pipeline from raw text, noisy on a shared machine) and
    ``<split>_accuracy`` / ``<split>_macro_f1``; its index is the kind. Kinds with the same vectorizer
    share one fitted vectorizer (it would come out identical), whose fit time counts in each of them. ``options`` go to
    :func:`make_baseline`. With ``return_pipelines=True`` the result is ``(table, {kind: fitted pipeline})``.
    ``tokens="auto"`` (:func:`choose_tokens`) uses character n-grams for Chinese training texts and words otherwise;
    the table's ``attrs["tokens"]`` says which ran.

    ``threads`` caps the BLAS / OpenMP threads while fitting (``None``: leave them alone). One thread is the
    default because these problems are small: on a busy two-core machine, two BLAS threads made the
    logistic regression fit about ten times slower, not faster.
    """
    kinds = list(kinds)
    if not kinds:
        raise ValueError(f"No baseline kinds given. Use some of: {', '.join(KINDS)}.")
    for kind in kinds:
        _check_kind(kind)
    splits = list(splits)
    missing = [s for s in ["train", *splits] if s not in dsd]
    if missing:
        raise ValueError(f"The data has no split(s) {missing}; it has {list(dsd.keys())}.")
    texts, labels = _texts_and_labels(dsd["train"])
    tokens = choose_tokens(texts) if tokens == "auto" else tokens
    _check_tokens(tokens)
    rows, pipelines = [], {}
    vectorized: dict[str, tuple[object, object, float]] = {}  # vectorizer name -> (fitted, train matrix, seconds)
    for kind in kinds:
        pipeline = make_baseline(kind, seed=seed, tokens=tokens, **options)
        vec_name = kind.split("_")[0]
        with threadpool_limits(limits=threads):
            if vec_name not in vectorized:
                start = time.perf_counter()
                matrix = pipeline.named_steps["vectorizer"].fit_transform(texts)
                vectorized[vec_name] = (pipeline.named_steps["vectorizer"], matrix, time.perf_counter() - start)
            else:  # a copy, so that refitting one pipeline later cannot change another
                pipeline.steps[0] = ("vectorizer", copy.deepcopy(vectorized[vec_name][0]))
            vectorizer = pipeline.named_steps["vectorizer"]
            _, matrix, vec_seconds = vectorized[vec_name]
            start = time.perf_counter()
            pipeline.named_steps["classifier"].fit(matrix, labels)
            seconds = vec_seconds + time.perf_counter() - start
        row = {
            "model": describe_kind(kind),
            "n_features": 0 if kind == "majority" else len(vectorizer.vocabulary_),
            "fit_seconds": seconds,
        }
        for split in splits:
            for metric, value in evaluate_baseline(pipeline, dsd[split]).items():
                row[f"{split}_{metric}"] = value
        rows.append(row)
        pipelines[kind] = pipeline
    table = pd.DataFrame(rows, index=pd.Index(kinds, name="kind"))
    table.attrs["tokens"] = tokens
    return (table, pipelines) if return_pipelines else table


def _class_weights(classifier, n_classes: int) -> np.ndarray:
    """One row of weights per class (higher = more evidence for that class) for NB, LR or SVM."""
    if isinstance(classifier, MultinomialNB):
        logp = classifier.feature_log_prob_
        # how much likelier the word is under this class than under the others (on average, in log space)
        others = (logp.sum(axis=0, keepdims=True) - logp) / max(n_classes - 1, 1)
        return logp - others
    if not hasattr(classifier, "coef_"):
        raise ValueError(f"{type(classifier).__name__} has no per-word weights; use an nb, lr or svm baseline.")
    coef = np.asarray(classifier.coef_.todense() if hasattr(classifier.coef_, "todense") else classifier.coef_)
    if coef.shape[0] == 1 and n_classes == 2:  # binary: one weight vector, positive means the second class
        return np.vstack([-coef[0], coef[0]])
    return coef


def top_features(pipeline: Pipeline, label_names: Sequence[str], k: int = 10) -> pd.DataFrame:
    """The ``k`` n-grams that push a fitted linear baseline hardest towards each class.

    For logistic regression and the linear SVM the score is the class's weight (for two classes the single
    weight vector, with its sign flipped for the first class); for Naive Bayes it is the word's log
    probability in the class minus its mean log probability in the other classes. Returns a long table
    with the columns ``label``, ``rank`` (1 = strongest), ``feature`` and ``weight``.
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}.")
    vectorizer, classifier = pipeline.named_steps["vectorizer"], pipeline.named_steps["classifier"]
    if isinstance(classifier, DummyClassifier):
        raise ValueError("The majority baseline has no per-word weights; use an nb, lr or svm baseline.")
    if not hasattr(vectorizer, "vocabulary_"):
        raise ValueError("The pipeline is not fitted yet: call fit (or fit_baselines) first.")
    names = np.asarray(vectorizer.get_feature_names_out())
    n_classes = len(getattr(classifier, "classes_", []))
    if n_classes != len(label_names):
        raise ValueError(f"The model knows {n_classes} classes but {len(label_names)} label names were given.")
    weights = _class_weights(classifier, n_classes)
    rows = []
    for c, label in enumerate(label_names):
        order = np.argsort(-weights[c], kind="stable")[:k]
        rows += [
            {"label": label, "rank": r + 1, "feature": names[i], "weight": float(weights[c, i])}
            for r, i in enumerate(order)
        ]
    return pd.DataFrame(rows)


def class_scores(pipeline: Pipeline, texts: Sequence[str], label_names: Sequence[str]) -> pd.DataFrame:
    """What a fitted baseline says about each text: the predicted label and a score per class.

    The scores are probabilities (columns ``P(<label>)``) for models that have ``predict_proba`` (Naive
    Bayes, logistic regression), else decision-function values (columns ``score(<label>)``, the linear SVM).
    """
    texts = list(texts)
    if not texts:
        raise ValueError("No texts to score.")
    predicted = pipeline.predict(texts)
    if hasattr(pipeline, "predict_proba"):
        scores, template = pipeline.predict_proba(texts), "P({})"
    else:
        scores, template = pipeline.decision_function(texts), "score({})"
        if scores.ndim == 1:  # binary: one score, positive means the second class
            scores = np.column_stack([-scores, scores])
    table = pd.DataFrame({"text": texts, "predicted": [label_names[i] for i in predicted]})
    for c, label in enumerate(label_names):
        table[template.format(label)] = scores[:, c]
    return table


def misclassified(pipeline: Pipeline, ds, label_names: Sequence[str], n: int = 5) -> pd.DataFrame:
    """The ``n`` mistakes the model was surest of on ``ds``: text, true and predicted label, confidence.

    Confidence is the predicted class's probability (or, for the SVM, its decision score). The table is
    sorted from the most confident mistake down, and keeps the row number of each text in ``ds``.
    """
    texts, labels = _texts_and_labels(ds)
    scored = class_scores(pipeline, texts, label_names)
    score_columns = [c for c in scored.columns if c not in ("text", "predicted")]
    predicted = np.asarray(pipeline.predict(texts))
    wrong = np.flatnonzero(predicted != labels)
    confidence = scored[score_columns].to_numpy()[wrong, predicted[wrong]]
    table = pd.DataFrame(
        {
            "text": [texts[i] for i in wrong],
            "true": [label_names[labels[i]] for i in wrong],
            "predicted": [label_names[predicted[i]] for i in wrong],
            "confidence": confidence,
        },
        index=pd.Index(wrong, name="row"),
    )
    return table.sort_values("confidence", ascending=False, kind="stable").head(n)


def unknown_words(pipeline: Pipeline, text: str) -> list[str]:
    """The words of ``text`` that the fitted vectorizer has never seen: it drops them without a trace."""
    vectorizer = pipeline.named_steps["vectorizer"]
    vocabulary = vectorizer.vocabulary_
    return [w for w in vectorizer.build_analyzer()(text) if " " not in w and w not in vocabulary]
