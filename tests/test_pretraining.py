"""helpers.pretraining: BERT's masking rule, the MLM and NSP losses by hand, NSP pairs, and the heads; the
pretraining loops return helpers.train's result, with its history and step columns, and a plot.

Rates are checked on a large sample against the binomial standard error se = sqrt(p (1 - p) / n): a
measured rate must lie within 4 se of its target (a false alarm about once in 16,000 runs per check; the
generators are seeded, so a run is repeatable anyway).
"""

import math

import pytest
import torch
from result_columns import TRAIN_HISTORY, TRAIN_STEPS
from transformers import BertConfig, BertForMaskedLM, BertForNextSentencePrediction, DataCollatorForLanguageModeling

import helpers.pretraining as pt
from helpers.training import TrainResult, plot_history

TOLERANCE_SE = 4
DOCS = [
    "Dr. Smith arrives in a small town. He finds the mayor missing! Nobody will talk to him. Then the rain starts.",
    "A young chef opens a restaurant in Paris. Her first review is a disaster. She decides to cook for her critics.",
    "Two brothers inherit a farm. They disagree about everything. The harvest fails. In the end they sell it.",
    "The U.S. Army sends a team to the desert. One soldier gets lost. He meets a stranger who knows the way.",
] * 10


@pytest.fixture(scope="module")
def sample_ids(tokenizer):
    """4,000 padded sequences of real text: about 100,000 eligible tokens."""
    texts = list(DOCS) * 100
    return tokenizer(texts, padding=True, return_tensors="pt")["input_ids"]


def tiny_config(vocab_size: int) -> BertConfig:
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )


def within(measured: float, target: float, se: float) -> bool:
    return abs(measured - target) <= TOLERANCE_SE * se


def test_masking_rates_match_15_80_10_10(tokenizer, sample_ids):
    gen = torch.Generator().manual_seed(0)
    masked, labels = pt.mask_tokens(sample_ids, tokenizer, 0.15, generator=gen)
    s = pt.masking_statistics(sample_ids, masked, labels, tokenizer)
    assert s["eligible_tokens"] > 90_000
    assert within(s["chosen_rate"], 0.15, s["chosen_rate_se"]), s
    assert within(s["mask_rate"], 0.80, s["mask_rate_se"]), s
    assert within(s["random_rate"], 0.10, s["random_rate_se"]), s
    assert within(s["kept_rate"], 0.10, s["kept_rate_se"]), s
    assert s["special_chosen"] == 0 and s["labels_match_original"]


def test_special_tokens_and_padding_never_chosen_and_labels_elsewhere(tokenizer, sample_ids):
    masked, labels = pt.mask_tokens(sample_ids, tokenizer, 0.5, generator=torch.Generator().manual_seed(1))
    special = torch.isin(sample_ids, torch.tensor(tokenizer.all_special_ids))
    assert (sample_ids == tokenizer.pad_token_id).any(), "the sample must contain padding"
    assert (labels[special] == -100).all()
    assert (masked[special] == sample_ids[special]).all()
    chosen = labels != -100
    assert (labels[chosen] == sample_ids[chosen]).all()
    # everything not chosen is untouched
    assert (masked[~chosen] == sample_ids[~chosen]).all()
    assert not torch.equal(masked, sample_ids)


def test_masking_does_not_modify_input_and_is_reproducible(tokenizer, sample_ids):
    before = sample_ids.clone()
    a = pt.mask_tokens(sample_ids, tokenizer, generator=torch.Generator().manual_seed(3))
    b = pt.mask_tokens(sample_ids, tokenizer, generator=torch.Generator().manual_seed(3))
    assert torch.equal(sample_ids, before)
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])


def test_evaluation_masking_hides_every_chosen_token(tokenizer, sample_ids):
    masked, labels = pt.mask_tokens(
        sample_ids, tokenizer, 0.15, mask_fraction=1.0, random_fraction=0.0, generator=torch.Generator().manual_seed(4)
    )
    chosen = labels != -100
    assert chosen.any() and (masked[chosen] == tokenizer.mask_token_id).all()


def test_rates_agree_with_transformers_collator(tokenizer, sample_ids):
    collator = DataCollatorForLanguageModeling(tokenizer, mlm_probability=0.15, seed=0)
    hf_masked, hf_labels = collator.torch_mask_tokens(sample_ids.clone())
    ours = pt.mask_tokens(sample_ids, tokenizer, generator=torch.Generator().manual_seed(0))
    hf = pt.masking_statistics(sample_ids, hf_masked, hf_labels, tokenizer)
    me = pt.masking_statistics(sample_ids, *ours, tokenizer)
    assert hf["special_chosen"] == 0
    for key in ("chosen_rate", "mask_rate", "random_rate", "kept_rate"):
        # two independent estimates: their difference has a standard error sqrt(2) times one's
        assert abs(hf[key] - me[key]) <= TOLERANCE_SE * math.sqrt(2) * hf[key + "_se"], (key, hf[key], me[key])


@pytest.mark.parametrize("p", [0.0, 1.0, -0.1, 1.5])
def test_bad_mlm_probability_is_refused(tokenizer, sample_ids, p):
    with pytest.raises(ValueError, match="mlm_probability"):
        pt.mask_tokens(sample_ids, tokenizer, p)


def test_bad_fractions_are_refused(tokenizer, sample_ids):
    with pytest.raises(ValueError, match="sum to at most 1"):
        pt.mask_tokens(sample_ids, tokenizer, mask_fraction=0.8, random_fraction=0.3)


def test_mlm_loss_by_hand_equals_cross_entropy_and_bert_loss(tokenizer):
    torch.manual_seed(0)
    config = tiny_config(len(tokenizer))
    model = BertForMaskedLM(config).eval()
    ids = tokenizer(DOCS[:4], padding=True, return_tensors="pt")
    masked, labels = pt.mask_tokens(ids["input_ids"], tokenizer, 0.3, generator=torch.Generator().manual_seed(0))
    out = model(input_ids=masked, attention_mask=ids["attention_mask"], labels=labels)
    by_hand = pt.mlm_loss_by_hand(out.logits, labels)
    torch.testing.assert_close(by_hand, out.loss, rtol=1e-5, atol=1e-6)
    # and on random logits against torch's cross-entropy with ignore_index
    logits = torch.randn(3, 7, 50)
    y = torch.randint(50, (3, 7))
    y[0, :4] = -100
    ce = torch.nn.CrossEntropyLoss(ignore_index=-100)(logits.view(-1, 50), y.view(-1))
    torch.testing.assert_close(pt.mlm_loss_by_hand(logits, y), ce)
    assert by_hand > math.log(len(tokenizer)) - 2, "a random model is near the uniform loss ln |V|"


def test_mlm_loss_needs_a_label():
    with pytest.raises(ValueError, match="-100"):
        pt.mlm_loss_by_hand(torch.randn(2, 3, 5), torch.full((2, 3), -100))


def test_nsp_loss_by_hand_equals_transformers(tokenizer):
    torch.manual_seed(0)
    model = BertForNextSentencePrediction(tiny_config(len(tokenizer))).eval()
    enc = tokenizer(
        ["a man walks in.", "the sky is blue."], ["he sits down.", "cats purr."], padding=True, return_tensors="pt"
    )
    y = torch.tensor([0, 1])
    out = model(**enc, labels=y)
    torch.testing.assert_close(pt.nsp_loss_by_hand(out.logits, y), out.loss, rtol=1e-5, atol=1e-6)
    logits = torch.randn(100, 2) * 5
    labels = torch.randint(2, (100,))
    torch.testing.assert_close(pt.nsp_loss_by_hand(logits, labels), torch.nn.functional.cross_entropy(logits, labels))
    with pytest.raises(ValueError, match="IsNext"):
        pt.nsp_loss_by_hand(torch.randn(2, 2), torch.tensor([0, 2]))


def test_pretraining_forward_losses_equal_bert_for_pretraining(tokenizer):
    """The cheap forward (vocabulary projection only at masked positions) gives transformers' losses."""
    torch.manual_seed(0)
    model, new = pt.add_pretraining_heads(tiny_config(len(tokenizer)))
    model.eval()
    pairs = pt.make_nsp_pairs(DOCS[:8], tokenizer, seed=0)
    batch = pt.collate_pretraining(pairs[:6], tokenizer, generator=torch.Generator().manual_seed(0))
    ours = pt.pretraining_forward(model, batch)
    ref = model(
        input_ids=batch["input_ids"],
        attention_mask=batch["attention_mask"],
        token_type_ids=batch["token_type_ids"],
        labels=batch["labels"],
        next_sentence_label=batch["next_sentence_label"],
    )
    torch.testing.assert_close(ours["mlm_loss"] + ours["nsp_loss"], ref.loss, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(
        pt.mlm_loss_by_hand(ref.prediction_logits, batch["labels"]), ours["mlm_loss"], rtol=1e-5, atol=1e-5
    )
    torch.testing.assert_close(
        pt.nsp_loss_by_hand(ref.seq_relationship_logits, batch["next_sentence_label"]),
        ours["nsp_loss"],
        rtol=1e-5,
        atol=1e-5,
    )


def test_accuracies_from_logits():
    logits = torch.tensor([[0.0, 3.0, 2.0, 1.0], [5.0, 0.0, 1.0, 2.0], [0.0, 1.0, 2.0, 3.0]])
    labels = torch.tensor([1, 2, -100])
    acc = pt.masked_token_accuracy(logits, labels, ks=(1, 2, 3))
    assert acc == {1: 0.5, 2: 0.5, 3: 1.0}
    assert pt.nsp_accuracy(
        torch.tensor([[2.0, 1.0], [0.0, 1.0], [1.0, 0.0]]), torch.tensor([0, 1, 1])
    ) == pytest.approx(2 / 3)


def test_sentence_splitter_keeps_abbreviations():
    text = 'Dr. Smith meets J. Edgar in the U.S. Army. "Run!" he says. They run? Yes. 1999 was a good year.'
    assert pt.split_sentences(text) == [
        "Dr. Smith meets J. Edgar in the U.S. Army.",
        '"Run!" he says.',
        "They run?",
        "Yes.",
        "1999 was a good year.",
    ]
    assert pt.split_sentences("   ") == []


def test_nsp_pairs_are_half_random_and_have_segment_ids(tokenizer):
    docs = [" ".join(f"Story {d} sentence number {i} is here." for i in range(30)) for d in range(40)]
    pairs = pt.make_nsp_pairs(docs, tokenizer, seed=0)
    n = len(pairs)
    assert n == 40 * 29
    share = sum(p["next_sentence_label"] for p in pairs) / n
    assert abs(share - 0.5) <= TOLERANCE_SE * math.sqrt(0.25 / n), share
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    for p in pairs[:200]:
        ids, types = p["input_ids"], p["token_type_ids"]
        len_a = len(tokenizer(p["sentence_a"], add_special_tokens=False)["input_ids"])
        assert ids[0] == cls and ids[len_a + 1] == sep and ids[-1] == sep
        assert types == [0] * (len_a + 2) + [1] * (len(ids) - len_a - 2)
        words_a, words_b = p["sentence_a"].split(), p["sentence_b"].split()
        same_doc = words_a[1] == words_b[1]
        if p["next_sentence_label"] == pt.IS_NEXT:
            assert same_doc and int(words_b[4]) == int(words_a[4]) + 1
        else:
            assert not same_doc, "a NotNext sentence comes from another document"


def test_nsp_pairs_refuse_empty_or_single_documents(tokenizer):
    with pytest.raises(ValueError, match="two non-empty documents"):
        pt.make_nsp_pairs([], tokenizer)
    with pytest.raises(ValueError, match="two non-empty documents"):
        pt.make_nsp_pairs(["", "  ", "One sentence only. And a second."], tokenizer)
    with pytest.raises(ValueError, match="two sentences"):
        pt.make_nsp_pairs(["Only one.", "Also one."], tokenizer)


def test_decoder_tied_to_word_embeddings(tokenizer):
    model, new = pt.add_pretraining_heads(tiny_config(len(tokenizer)))
    assert pt.decoder_is_tied(model)
    assert model.cls.predictions.decoder.weight.data_ptr() == model.bert.embeddings.word_embeddings.weight.data_ptr()
    with torch.no_grad():
        model.bert.embeddings.word_embeddings.weight[5, 0] = 123.0
    assert model.cls.predictions.decoder.weight[5, 0] == 123.0


def test_offline_encoder_gets_new_heads_only(tokenizer):
    import helpers

    model, new = pt.add_pretraining_heads(helpers.models.offline_model_path())
    assert pt.decoder_is_tied(model)
    assert new and all(name.startswith("cls.") for name in new)
    assert not any(name.startswith("bert.") for name in new), "the encoder's weights come from the checkpoint"


def test_training_heads_leaves_encoder_unchanged_and_lowers_loss(tokenizer):
    torch.manual_seed(0)
    model, _ = pt.add_pretraining_heads(tiny_config(len(tokenizer)))
    examples = pt.make_nsp_pairs(DOCS, tokenizer, seed=0) + pt.encode_texts(DOCS, tokenizer)
    encoder_before = {k: v.clone() for k, v in model.bert.encoder.state_dict().items()}
    emb_before = model.bert.embeddings.word_embeddings.weight.clone()
    h = pt.train_pretraining(
        model, examples, tokenizer, steps=20, batch_size=8, lr=5e-3, trainable="heads", progress=False
    )
    for k, v in model.bert.encoder.state_dict().items():
        assert torch.equal(v, encoder_before[k]), k
    assert torch.equal(model.bert.embeddings.word_embeddings.weight, emb_before)
    assert sum(h["mlm_loss"][-5:]) < sum(h["mlm_loss"][:5])
    assert pt.decoder_is_tied(model)


def test_tiny_config_and_fine_tune(tokenizer):
    import datasets

    config = pt.tiny_bert_config(len(tokenizer), hidden_size=32, num_layers=1, num_heads=2)
    assert config.intermediate_size == 128
    with pytest.raises(ValueError, match="divisible"):
        pt.tiny_bert_config(hidden_size=30, num_heads=4)
    model, _ = pt.add_pretraining_heads(config)
    train = datasets.Dataset.from_dict({"text": ["good fun", "bad dull"] * 16, "label": [1, 0] * 16})
    before = {k: v.clone() for k, v in model.bert.state_dict().items()}
    result = pt.fine_tune_classifier(
        model.bert, tokenizer, train, train, seed=0, epochs=5, lr=5e-3, batch_size=8, progress=False
    )
    assert result["accuracy"] == 1.0 and result["f1"] == 1.0 and result["seconds"] > 0
    assert all(torch.equal(v, model.bert.state_dict()[k]) for k, v in before.items()), (
        "the encoder passed in is untouched"
    )
    with pytest.raises(ValueError, match="No training examples"):
        pt.fine_tune_classifier(model.bert, tokenizer, train.select([]), train, progress=False)
    table = pt.summarise_runs({"a": [0.5, 0.7], "b": [0.6]})
    assert table.loc["a", "mean"] == pytest.approx(0.6) and table.loc["a", "std"] == pytest.approx(math.sqrt(0.02))


def test_cached_heads_training_matches_full_forward_and_learns(tokenizer):
    torch.manual_seed(0)
    model, _ = pt.add_pretraining_heads(tiny_config(len(tokenizer)))
    examples = pt.make_nsp_pairs(DOCS, tokenizer, seed=0)
    held = pt.make_nsp_pairs(DOCS[:4], tokenizer, seed=1)
    eval_features = pt.encode_for_heads(model, held, tokenizer, seed=5, mask_fraction=1.0, random_fraction=0.0)
    assert (eval_features["labels"] != -100).all() and len(eval_features["cls"]) == len(held)
    # the cached evaluation scores the same positions as a full forward pass with the same seed
    before = pt.evaluate_heads(model, eval_features)
    assert before == pytest.approx(pt.evaluate_pretraining(model, held, tokenizer, seed=5), rel=1e-5)
    features = pt.encode_for_heads(model, examples, tokenizer, seed=0)
    encoder_before = {k: v.clone() for k, v in model.bert.encoder.state_dict().items()}
    h = pt.train_heads(model, features, steps=40, batch_size=64, lr=1e-2, eval_features=eval_features, progress=False)
    assert all(torch.equal(v, encoder_before[k]) for k, v in model.bert.encoder.state_dict().items())
    after = pt.evaluate_heads(model, eval_features)
    assert after["mlm_loss"] < before["mlm_loss"] - 0.3  # it learns at least the token frequencies
    assert h["eval_step"][0] == 0 and h["eval_step"][-1] == 40 and len(h["mlm_loss"]) == 40


def test_train_pretraining_returns_helpers_train_result_with_the_old_keys(tokenizer):
    import matplotlib.pyplot as plt

    torch.manual_seed(0)
    model, _ = pt.add_pretraining_heads(tiny_config(len(tokenizer)))
    examples, held = pt.make_nsp_pairs(DOCS, tokenizer, seed=0), pt.make_nsp_pairs(DOCS[:4], tokenizer, seed=1)
    result = pt.train_pretraining(
        model,
        examples,
        tokenizer,
        steps=6,
        batch_size=4,
        lr=1e-3,
        trainable="all",
        eval_examples=held,
        eval_every=3,
        log_every=4,
        progress=False,
    )
    assert isinstance(result, TrainResult) and isinstance(result, pt.PretrainingResult)
    h, s = result.history, result.steps
    # train()'s columns, in its order; the held-out scores of both objectives as eval_ columns
    assert [c for c in h.columns if not c.startswith("eval_")] == [
        c for c in TRAIN_HISTORY if not c.startswith("eval_")
    ]
    assert [c for c in h.columns if c.startswith("eval_")] == [
        "eval_loss",
        "eval_mlm_loss",
        "eval_nsp_loss",
        "eval_top1",
        "eval_top5",
        "eval_nsp_accuracy",
    ]
    assert list(s.columns) == TRAIN_STEPS + ["mlm_loss", "nsp_loss"]
    assert h["step"].tolist() == [0, 3, 6] and s["step"].tolist() == [1, 2, 3, 4, 5, 6]
    assert s["loss"].tolist() == pytest.approx((s["mlm_loss"] + s["nsp_loss"]).tolist(), rel=1e-5)
    assert h["eval_loss"].tolist() == pytest.approx((h["eval_mlm_loss"] + h["eval_nsp_loss"]).tolist())
    assert math.isnan(h["train_loss"].iloc[0]), "the row before the first step has no training loss"
    assert h["train_loss"].iloc[1] == pytest.approx(s["loss"].iloc[:3].mean())
    assert h["epoch"].iloc[-1] == pytest.approx(round(6 * 4 / len(examples), 4)), "passes over the examples"
    assert s["lr"].iloc[0] == 0.0 and h["lr"].iloc[-1] == 0.0, "make_scheduler: warm-up from 0, decay to 0"
    assert result.best["eval_loss"] == h["eval_loss"].min() and result.config["trainable"] == "all"
    # the keys of the old dict history, which chapter 3 and plot_pretraining_history read
    assert result["step"] == [1, 2, 3, 4, 5, 6] and result["mlm_loss"] == s["mlm_loss"].tolist()
    assert result["eval_step"] == [0, 3, 6] and result["eval_top1"] == h["eval_top1"].tolist()
    assert result["seconds"] == result.seconds > 0
    with pytest.raises(KeyError, match="eval_step"):
        result["losses"]
    fig = result.plot(title="T")  # chapter 3's figure: MLM and NSP losses, training and held-out
    assert fig._suptitle.get_text() == "T" and len(fig.axes[0].lines) == 2 and len(fig.axes[1].lines) == 3
    plt.close(fig)
    fig = plot_history(result)  # helpers.train's figure draws it too: loss, rate and held-out loss per step
    assert len(fig.axes[0].lines) == 3
    plt.close(fig)


def test_train_heads_without_held_out_data_has_no_eval_rows(tokenizer):
    torch.manual_seed(0)
    model, _ = pt.add_pretraining_heads(tiny_config(len(tokenizer)))
    features = pt.encode_for_heads(model, pt.make_nsp_pairs(DOCS, tokenizer, seed=0), tokenizer, seed=0)
    result = pt.train_heads(model, features, steps=4, batch_size=16, pairs_per_step=4, eval_every=2, progress=False)
    assert isinstance(result, pt.PretrainingResult)
    assert list(result.history.columns) == [c for c in TRAIN_HISTORY if not c.startswith("eval_")]
    assert result.history["step"].tolist() == [2, 4] and result["eval_step"] == [] and len(result["nsp_loss"]) == 4
    assert result.history["padding"].tolist() == [0.0, 0.0] and result.best is None
    assert all(p.requires_grad for p in model.parameters()), "every weight is trainable again afterwards"


def test_plot_run_comparison_draws_a_bar_per_arm_a_dot_per_seed_and_the_reference():
    import matplotlib.pyplot as plt

    results = {"a": [0.70, 0.72, 0.71], "b": [0.60, 0.61, 0.65]}
    fig = pt.plot_run_comparison(results, title="t", reference=(0.578, "majority class"))
    ax = fig.axes[0]
    assert len(ax.patches) == 2
    assert [p.get_height() for p in ax.patches] == pytest.approx([71.0, 62.0])
    assert sum(len(c.get_offsets()) for c in ax.collections) == 6
    assert any(line.get_ydata()[0] == pytest.approx(57.8) for line in ax.lines), "the reference line is missing"
    assert ax.get_ylim()[0] <= 57.8 and [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    plt.close(fig)


def test_plot_pretraining_history_shows_training_and_held_out_losses_per_objective():
    import matplotlib.pyplot as plt

    steps = list(range(1, 21))
    history = {
        "step": steps,
        "mlm_loss": [10 - 0.2 * s for s in steps],
        "nsp_loss": [0.7] * 20,
        "eval_step": [0, 10, 20],
        "eval_mlm_loss": [10.0, 8.5, 7.0],
        "eval_nsp_loss": [0.69, 0.68, 0.67],
    }
    mlm_only = {**history, "nsp_loss": [math.nan] * 20, "eval_nsp_loss": [math.nan] * 3}
    fig = pt.plot_pretraining_history({"run": history, "mlm only": mlm_only}, title="T", smooth=5)
    mlm_ax, nsp_ax = fig.axes[:2]
    assert fig._suptitle.get_text() == "T"
    assert len(mlm_ax.lines) == 4, "training and held-out curves of both runs"
    assert len(nsp_ax.lines) == 3, "the MLM-only run draws no NSP curve; the chance line is drawn"
    held_out = [line for line in mlm_ax.lines if line.get_marker() == "o"]
    assert list(held_out[0].get_ydata()) == [10.0, 8.5, 7.0]
    plt.close(fig)
