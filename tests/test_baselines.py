"""The traditional baselines of chapter 1 (and their Chinese features, chapter 7): they learn, score correctly, fail
clearly."""

import numpy as np
import pandas as pd
import pytest
from datasets import ClassLabel, Dataset, DatasetDict, Features, Value
from sklearn.metrics import f1_score

import helpers
from helpers import baselines
from helpers.baselines import (
    DEFAULT_KINDS,
    KINDS,
    RESULT_COLUMNS,
    class_scores,
    describe_kind,
    evaluate_baseline,
    fit_baselines,
    make_baseline,
    misclassified,
    top_features,
    unknown_words,
)

GOOD = [
    "great film, loved it",
    "a wonderful and great story",
    "loved the wonderful acting",
    "great great fun",
    "wonderful, simply loved it",
    "a great wonderful cast",
]
BAD = [
    "awful film, hated it",
    "a boring and awful story",
    "hated the boring acting",
    "awful awful mess",
    "boring, simply hated it",
    "an awful boring cast",
]
NAMES = ["negative", "positive"]


def toy(texts_good=GOOD, texts_bad=BAD) -> Dataset:
    features = Features({"text": Value("string"), "label": ClassLabel(names=NAMES)})
    return Dataset.from_dict(
        {"text": texts_bad + texts_good, "label": [0] * len(texts_bad) + [1] * len(texts_good)}, features=features
    )


@pytest.fixture(scope="module")
def toy_dsd() -> DatasetDict:
    ds = toy()
    held_out = toy(["loved it, great", "wonderful"], ["hated it, awful", "boring"])
    return DatasetDict({"train": ds, "validation": held_out, "test": held_out})


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "majority"])
def test_every_kind_learns_a_separable_toy_set(kind, toy_dsd):
    pipe = make_baseline(kind, min_df=1).fit(toy_dsd["train"]["text"], toy_dsd["train"]["label"])
    assert evaluate_baseline(pipe, toy_dsd["train"]) == {"accuracy": 1.0, "macro_f1": 1.0}
    assert evaluate_baseline(pipe, toy_dsd["test"])["accuracy"] == 1.0


def test_majority_answers_the_most_frequent_class():
    ds = toy(GOOD, BAD[:2])
    pipe = make_baseline("majority").fit(ds["text"], ds["label"])
    assert set(pipe.predict(["hated it", "anything at all"])) == {1}
    scores = evaluate_baseline(pipe, ds)
    assert scores["accuracy"] == pytest.approx(len(GOOD) / (len(GOOD) + 2))
    assert scores["macro_f1"] == pytest.approx(f1_score(ds["label"], [1] * len(ds), average="macro"))


def test_results_table(toy_dsd):
    table, pipes = fit_baselines(toy_dsd, min_df=1, return_pipelines=True)
    assert list(table.columns) == list(RESULT_COLUMNS)
    assert list(table.index) == list(DEFAULT_KINDS) == list(pipes)
    scores = table.filter(regex="accuracy|macro_f1").to_numpy()
    assert ((scores >= 0) & (scores <= 1)).all()
    assert (table["fit_seconds"] >= 0).all()
    assert table.loc["tfidf_lr", "test_accuracy"] == 1.0
    assert table.loc["majority", "test_accuracy"] == 0.5  # two of each class in the held-out toy split
    assert table.loc["tfidf_lr", "model"] == "TF-IDF + logistic regression"
    assert table.loc["bow_nb", "n_features"] == len(pipes["bow_nb"].named_steps["vectorizer"].vocabulary_)


def test_shared_vectorizers_give_the_same_models_as_separate_fits(toy_dsd):
    _, pipes = fit_baselines(toy_dsd, ["tfidf_lr", "tfidf_svm", "tfidf_nb"], min_df=1, return_pipelines=True)
    probe = ["great but boring", "hated the wonderful cast", "loved it"]
    for kind, pipe in pipes.items():
        alone = make_baseline(kind, min_df=1).fit(toy_dsd["train"]["text"], toy_dsd["train"]["label"])
        np.testing.assert_allclose(
            pipe.decision_function(probe) if kind.endswith("svm") else pipe.predict_proba(probe),
            alone.decision_function(probe) if kind.endswith("svm") else alone.predict_proba(probe),
        )
    assert pipes["tfidf_lr"].named_steps["vectorizer"] is not pipes["tfidf_svm"].named_steps["vectorizer"]


def test_macro_f1_matches_sklearn_on_the_same_predictions():
    rng = np.random.default_rng(0)
    words = np.array(["alpha", "beta", "gamma", "delta", "epsilon", "zeta"])
    texts = [" ".join(rng.choice(words, size=5)) for _ in range(60)]
    labels = rng.integers(0, 3, size=60)
    features = Features({"text": Value("string"), "label": ClassLabel(names=["a", "b", "c"])})
    ds = Dataset.from_dict({"text": texts, "label": labels.tolist()}, features=features)
    dsd = DatasetDict(
        {"train": ds.select(range(40)), "validation": ds.select(range(40, 60)), "test": ds.select(range(40, 60))}
    )
    table, pipes = fit_baselines(dsd, ["bow_nb", "tfidf_svm"], min_df=1, return_pipelines=True)
    for kind, pipe in pipes.items():
        predicted = pipe.predict(texts[40:])
        assert table.loc[kind, "test_macro_f1"] == pytest.approx(f1_score(labels[40:], predicted, average="macro"))
        assert table.loc[kind, "test_accuracy"] == pytest.approx(np.mean(predicted == labels[40:]))


def test_seeded_fits_are_repeatable(toy_dsd):
    a = fit_baselines(toy_dsd, ["tfidf_lr", "tfidf_svm"], min_df=1)
    b = fit_baselines(toy_dsd, ["tfidf_lr", "tfidf_svm"], min_df=1)
    pd.testing.assert_frame_equal(a.drop(columns="fit_seconds"), b.drop(columns="fit_seconds"))


def test_unknown_kind_and_bad_input_fail_clearly(toy_dsd):
    with pytest.raises(ValueError, match="Unknown baseline kind 'tfidf_rf'.*tfidf_lr"):
        make_baseline("tfidf_rf")
    with pytest.raises(ValueError, match="Unknown baseline kind"):
        fit_baselines(toy_dsd, ["bow_nb", "bert"])
    with pytest.raises(ValueError, match="No baseline kinds"):
        fit_baselines(toy_dsd, [])
    with pytest.raises(ValueError, match="no split"):
        fit_baselines({"train": toy_dsd["train"]}, ["bow_nb"])
    empty = {"train": {"text": [], "label": []}, "validation": toy_dsd["test"], "test": toy_dsd["test"]}
    with pytest.raises(ValueError, match="empty"):
        fit_baselines(empty, ["bow_nb"])
    with pytest.raises(ValueError, match="Unknown"):
        describe_kind("svm")


@pytest.mark.parametrize("kind", ["bow_nb", "tfidf_lr", "tfidf_svm"])
def test_top_features_name_the_class_words(kind, toy_dsd):
    pipe = make_baseline(kind, min_df=1, ngram_range=(1, 1)).fit(toy_dsd["train"]["text"], toy_dsd["train"]["label"])
    top = top_features(pipe, NAMES, k=3)
    assert list(top.columns) == ["label", "rank", "feature", "weight"]
    assert len(top) == 6 and list(top["rank"][:3]) == [1, 2, 3]
    pos = set(top.loc[top["label"] == "positive", "feature"])
    neg = set(top.loc[top["label"] == "negative", "feature"])
    assert pos <= {"great", "wonderful", "loved", "fun"} and neg <= {"awful", "boring", "hated", "mess"}
    assert top.groupby("label")["weight"].apply(lambda w: w.is_monotonic_decreasing).all()


def test_top_features_multiclass_and_errors():
    texts = [
        "goal match team",
        "team goal win",
        "vote party minister",
        "minister vote election",
        "chip software phone",
        "phone software chip",
    ]
    pipe = make_baseline("tfidf_lr", min_df=1, ngram_range=(1, 1)).fit(texts, [0, 0, 1, 1, 2, 2])
    top = top_features(pipe, ["sport", "politics", "tech"], k=2)
    assert set(top.loc[top["label"] == "politics", "feature"]) <= {"vote", "minister", "party", "election"}
    with pytest.raises(ValueError, match="3 classes but 2 label names"):
        top_features(pipe, ["sport", "politics"], k=2)
    with pytest.raises(ValueError, match="not fitted"):
        top_features(make_baseline("tfidf_lr"), NAMES)
    majority = make_baseline("majority").fit(texts[:2], [0, 1])
    with pytest.raises(ValueError, match="no per-word weights"):
        top_features(majority, NAMES)


def test_class_scores_probabilities_and_svm_scores(toy_dsd):
    lr = make_baseline("tfidf_lr", min_df=1).fit(toy_dsd["train"]["text"], toy_dsd["train"]["label"])
    table = class_scores(lr, ["great fun", "awful mess"], NAMES)
    assert list(table.columns) == ["text", "predicted", "P(negative)", "P(positive)"]
    assert list(table["predicted"]) == ["positive", "negative"]
    np.testing.assert_allclose(table[["P(negative)", "P(positive)"]].sum(axis=1), 1.0)
    svm = make_baseline("tfidf_svm", min_df=1).fit(toy_dsd["train"]["text"], toy_dsd["train"]["label"])
    table = class_scores(svm, ["great fun", "awful mess"], NAMES)
    assert list(table.columns) == ["text", "predicted", "score(negative)", "score(positive)"]
    assert table.loc[0, "score(positive)"] > 0 > table.loc[1, "score(positive)"]
    with pytest.raises(ValueError, match="No texts"):
        class_scores(lr, [], NAMES)


def test_misclassified_lists_only_mistakes_most_confident_first(toy_dsd):
    nb = make_baseline("bow_nb", min_df=1).fit(toy_dsd["train"]["text"], toy_dsd["train"]["label"])
    tricky = toy(["not awful at all", "great"], ["not great, hated it", "loved nothing, awful, boring"])
    wrong = misclassified(nb, tricky, NAMES, n=10)
    assert len(wrong) >= 1 and (wrong["true"] != wrong["predicted"]).all()
    assert wrong["confidence"].is_monotonic_decreasing and (wrong["confidence"] >= 0.5).all()
    assert "not awful at all" in set(wrong["text"])


def test_unknown_words_are_reported(toy_dsd):
    pipe = make_baseline("tfidf_lr", min_df=1).fit(toy_dsd["train"]["text"], toy_dsd["train"]["label"])
    assert unknown_words(pipe, "a great snoozefest, loved it") == ["snoozefest"]


# ------------------------------------------------------------------------------------- Chinese (chapter 7)
ZH_SENTENCE = "这部电影不好看，但是音乐很棒"
HAS_JIEBA = __import__("importlib.util").util.find_spec("jieba") is not None


def _zh_data():
    return helpers.load_dataset("sentiment-zh", limit={"train": 600, "validation": 200, "test": 200})


def test_default_words_make_one_feature_per_chinese_clause():
    words = baselines.make_baseline("tfidf_lr", tokens="words").named_steps["vectorizer"].build_analyzer()
    assert [w for w in words(ZH_SENTENCE) if " " not in w] == ["这部电影不好看", "但是音乐很棒"]
    chars = baselines.make_baseline("tfidf_lr", tokens="chars").named_steps["vectorizer"].build_analyzer()
    grams = chars(ZH_SENTENCE)
    assert {"不", "不好", "不好看", "但是"} <= set(grams) and max(len(g) for g in grams) == 3


def test_auto_tokens_choose_characters_for_chinese_and_words_for_english():
    zh = _zh_data()
    table = baselines.fit_baselines(zh, ["tfidf_lr"], splits=["validation"])
    assert table.attrs["tokens"] == "chars"
    words = baselines.fit_baselines(zh, ["tfidf_lr"], splits=["validation"], tokens="words")
    assert words.attrs["tokens"] == "words"
    # the measured point of chapter 7: characters beat the default token pattern on Chinese
    assert table.loc["tfidf_lr", "validation_accuracy"] > words.loc["tfidf_lr", "validation_accuracy"] + 0.05
    assert baselines.choose_tokens(["a fine film", "dull"]) == "words"


@pytest.mark.skipif(not HAS_JIEBA, reason="jieba is not installed")
def test_jieba_words():
    assert baselines.jieba_words(ZH_SENTENCE) == ["这部", "电影", "不", "好看", "，", "但是", "音乐", "很棒"]
    table, pipes = baselines.fit_baselines(
        _zh_data(), ["bow_nb", "tfidf_lr"], splits=["validation"], tokens="jieba", return_pipelines=True
    )
    assert table.attrs["tokens"] == "jieba" and "好看" in pipes["tfidf_lr"].named_steps["vectorizer"].vocabulary_
    assert (table["validation_accuracy"] > 0.6).all()


def test_unknown_tokens_and_missing_jieba_are_clear_errors(monkeypatch):
    with pytest.raises(ValueError, match="Unknown tokens 'letters'"):
        baselines.make_baseline("tfidf_lr", tokens="letters")
    monkeypatch.setattr(baselines.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ValueError, match=r"pip install jieba==0\.42\.1.*tokens='chars'"):
        baselines.make_baseline("tfidf_lr", tokens="jieba")
