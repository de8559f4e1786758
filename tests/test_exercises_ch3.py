"""helpers.exercises.ch3: every checker of chapter 3 accepts the reference solution and rejects the typical wrong
answers with a hint: BERT's masking rule, the MLM and NSP losses by hand (against torch), the encoding of a sentence
pair.

The references are computed independently here, with the libraries, so the checkers are tested against them, not
against themselves. A checker must never raise because of the answer: None (the student notebooks' stub), a wrong
type, or a function that raises all give False and a message.
"""

import math

import pytest
import torch
from exercise_tools import REVIEWS, verdict

import helpers.check as check
from helpers.exercises import ch3

# ---------------------------------------------------------------------------------------------- 3.1 masking

@pytest.fixture(scope="module")
def review_ids(tokenizer):
    """4,800 padded rows of real text (about 50,000 eligible tokens), with [CLS], [SEP] and [PAD] in every row."""
    return tokenizer(REVIEWS * 800, padding=True, return_tensors="pt")["input_ids"]


def _specials(input_ids, tokenizer):
    return torch.isin(input_ids, torch.tensor(tokenizer.all_special_ids))


def good_mask_tokens(input_ids, tokenizer, generator):
    chosen = (torch.rand(input_ids.shape, generator=generator) < 0.15) & ~_specials(input_ids, tokenizer)
    action = torch.rand(input_ids.shape, generator=generator)
    masked = input_ids.clone()
    masked[chosen & (action < 0.8)] = tokenizer.mask_token_id
    to_random = chosen & (action >= 0.8) & (action < 0.9)
    masked[to_random] = torch.randint(len(tokenizer), (int(to_random.sum()),), generator=generator)
    return masked, torch.where(chosen, input_ids, torch.full_like(input_ids, -100))


def test_masking_accepts_the_reference_and_the_books_function(capsys, tokenizer, review_ids):
    import helpers.pretraining as pt

    ok, out = verdict(capsys, check.exercise, "3.1", good_mask_tokens, input_ids=review_ids, tokenizer=tokenizer)
    assert ok and "0.15, 0.80, 0.10, 0.10" in out
    ok, _ = verdict(capsys, ch3.masking_function,
                    lambda ids, tok, gen: pt.mask_tokens(ids, tok, generator=gen), input_ids=review_ids,
                    tokenizer=tokenizer)
    assert ok


def _variant(kind):
    """good_mask_tokens with one typical mistake."""
    def fn(input_ids, tokenizer, generator):
        if kind == "global_rng":
            generator = None
        elif kind == "fixed_seed":
            generator = torch.Generator().manual_seed(123)
        eligible = ~_specials(input_ids, tokenizer)
        if kind == "specials_chosen":
            eligible = input_ids != tokenizer.pad_token_id
        chosen = (torch.rand(input_ids.shape, generator=generator) < (0.25 if kind == "rate" else 0.15)) & eligible
        action = torch.rand(input_ids.shape, generator=generator)
        to_mask = chosen & (action < 0.8)
        if kind == "two_draws":  # mask 80%, then 10% of the rest: the random share becomes 2%
            to_random = chosen & ~to_mask & (torch.rand(input_ids.shape, generator=generator) < 0.1)
        else:
            to_random = chosen & (action >= 0.8) & (action < 0.9)
        masked = input_ids if kind == "in_place" else input_ids.clone()
        masked[to_mask] = tokenizer.mask_token_id
        masked[to_random] = (1000 if kind == "fixed_random"
                             else torch.randint(len(tokenizer), (int(to_random.sum()),), generator=generator))
        labelled = {"mask_only": to_mask, "no_kept_label": to_mask | to_random}.get(kind, chosen)
        labels = torch.where(labelled, input_ids, torch.full_like(input_ids, -100))
        if kind == "labels_corrupted":
            labels = torch.where(labelled, masked, labels)
        if kind == "no_ignore":
            labels = input_ids.clone()
        return (labels, masked) if kind == "swapped" else (masked, labels)
    return fn


def _not_written_mask(input_ids, tokenizer, generator):
    raise NotImplementedError("write my_mask_tokens here")


@pytest.mark.parametrize("fn, hint", [
    (None, "no answer yet"), ("my_mask_tokens", "pass the function"), (_not_written_mask, "not written yet"),
    (lambda ids, tok: None, "TypeError"), (lambda ids, tok, gen: None, "returned None"),
    (lambda ids, tok, gen: ids.clone(), "one tensor"),
    (_variant("swapped"), "wrong order"), (_variant("in_place"), "in place"),
    (_variant("no_ignore"), "no label is -100"), (_variant("labels_corrupted"), "*original* token"),
    (_variant("specials_chosen"), "special or padding tokens"),
    (_variant("mask_only"), "also those replaced by a random token"),
    (_variant("no_kept_label"), "the 10% left unchanged are chosen too"),
    (_variant("two_draws"), "split half and half"), (_variant("rate"), "probability 0.15"),
    (_variant("fixed_random"), "different token(s)"), (_variant("global_rng"), "same generator seed"),
    (_variant("fixed_seed"), "rather than a fixed seed"),
])
def test_masking_recognises_typical_mistakes(capsys, tokenizer, review_ids, fn, hint):
    before = review_ids.clone()
    ok, out = verdict(capsys, ch3.masking_function, fn, input_ids=review_ids, tokenizer=tokenizer)
    assert not ok and hint in out
    assert torch.equal(review_ids, before), "the checker works on a copy of the chapter's batch"


def test_masking_rates_are_checked_independently(tokenizer, review_ids):
    """The checker's eligible tokens and rates agree with helpers.pretraining.masking_statistics."""
    import helpers.pretraining as pt

    masked, labels = good_mask_tokens(review_ids, tokenizer, torch.Generator().manual_seed(0))
    stats = pt.masking_statistics(review_ids, masked, labels, tokenizer)
    for key, target in [("chosen_rate", 0.15), ("mask_rate", 0.8), ("random_rate", 0.1), ("kept_rate", 0.1)]:
        assert abs(stats[key] - target) <= 4 * stats[key + "_se"]


# ---------------------------------------------------------------------------------------------- 3.2 losses

@pytest.fixture(scope="module")
def pretraining_output():
    """A tiny BertForPreTraining, a batch with MLM labels (some at [MASK], some not) and NSP labels, its output."""
    from transformers import BertConfig, BertForPreTraining

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32,
                     max_position_embeddings=16)
    model = BertForPreTraining(cfg).eval()
    input_ids = torch.randint(5, 50, (4, 9))
    labels = torch.full_like(input_ids, -100)
    chosen = torch.zeros_like(input_ids, dtype=torch.bool)
    chosen[:, [2, 5]] = True
    chosen[0, 7] = True  # sequences with different numbers of chosen positions
    labels[chosen] = input_ids[chosen]
    input_ids[:, 2] = 4  # [MASK] is id 4 here; the positions 5 and 7 keep or get another token
    batch = {"input_ids": input_ids, "labels": labels, "next_sentence_label": torch.tensor([0, 1, 1, 0]),
             "attention_mask": torch.ones_like(input_ids), "token_type_ids": torch.zeros_like(input_ids)}
    with torch.no_grad():
        out = model(**batch)
    return batch, out


def test_losses_accept_the_torch_values(capsys, pretraining_output):
    from types import SimpleNamespace

    batch, out = pretraining_output
    F = torch.nn.functional
    mlm = F.cross_entropy(out.prediction_logits.view(-1, 50), batch["labels"].view(-1), ignore_index=-100)
    nsp = F.cross_entropy(out.seq_relationship_logits, batch["next_sentence_label"])
    torch.testing.assert_close(mlm + nsp, out.loss)  # transformers' own pretraining loss
    tok = SimpleNamespace(mask_token_id=4)
    ok, text = verdict(capsys, check.exercise, "3.2", (mlm.item(), nsp.item()), batch=batch, output=out,
                       tokenizer=tok)
    assert ok and "N = 9" in text
    ok, _ = verdict(capsys, check.exercise, "3.2", [mlm, nsp], batch=batch, output=out)  # tensors, no tokenizer
    assert ok


@pytest.mark.parametrize("kind, hint", [
    ("none", "no answer yet"), ("text", "two numbers"), ("sum", "give the two losses separately"),
    ("one", "as a pair"), ("swapped", "swapped"), ("mask_only", "[MASK] positions only"),
    ("all_positions", "every position"), ("mlm_sum", "this is a sum"), ("per_sequence", "per-sequence"),
    ("sign", "sign"), ("log10", "base-10"), ("axis", "wrong axis"), ("other", "not the MLM loss"),
    ("nsp_flipped", "wrong way round"), ("nsp_sum", "mean over the pairs"), ("nsp_other", "not the NSP loss"),
])
def test_losses_recognise_typical_slips(capsys, pretraining_output, kind, hint):
    from types import SimpleNamespace

    batch, out = pretraining_output
    logits, labels, nsp_y = out.prediction_logits, batch["labels"], batch["next_sentence_label"]
    keep = labels != -100
    per_position = -torch.log_softmax(logits, -1).gather(2, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    mlm = per_position[keep].mean().item()
    nsp_lp = torch.log_softmax(out.seq_relationship_logits, -1)
    nsp = -nsp_lp.gather(1, nsp_y.unsqueeze(1)).mean().item()
    at_mask = keep & (batch["input_ids"] == 4)
    axis1 = -torch.log_softmax(logits, 1).gather(2, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    value = {"none": None, "text": "low", "sum": mlm + nsp, "one": 3.0, "swapped": (nsp, mlm),
             "mask_only": (per_position[at_mask].mean().item(), nsp),
             "all_positions": ((per_position * keep).sum().item() / labels.numel(), nsp),
             "mlm_sum": (per_position[keep].sum().item(), nsp),
             "per_sequence": (torch.stack([per_position[r][keep[r]].mean() for r in range(4)]).mean().item(), nsp),
             "sign": (-mlm, nsp), "log10": (mlm / math.log(10), nsp), "axis": (axis1[keep].mean().item(), nsp),
             "other": (mlm + 0.5, nsp), "nsp_flipped": (mlm, -nsp_lp.gather(1, (1 - nsp_y).unsqueeze(1)).mean().item()),
             "nsp_sum": (mlm, 4 * nsp), "nsp_other": (mlm, nsp + 0.3)}[kind]
    ok, text = verdict(capsys, ch3.pretraining_losses_by_hand, value, batch=batch, output=out,
                       tokenizer=SimpleNamespace(mask_token_id=4))
    assert not ok and hint in text


# ---------------------------------------------------------------------------------------------- 3.3 segment ids

def make_encode_pair(tokenizer, kind="right"):
    def encode_pair(sentence_a, sentence_b):
        a = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(sentence_a))
        b = tokenizer.convert_tokens_to_ids(tokenizer.tokenize(sentence_b))
        cls, sep = [tokenizer.cls_token_id], [tokenizer.sep_token_id]
        if kind == "tokens":
            return ["[CLS]", *tokenizer.tokenize(sentence_a), "[SEP]", *tokenizer.tokenize(sentence_b), "[SEP]"], []
        if kind == "no_cls":
            return a + sep + b + sep, [0] * (len(a) + 1) + [1] * (len(b) + 1)
        if kind == "no_last_sep":
            return cls + a + sep + b, [0] * (len(a) + 2) + [1] * len(b)
        if kind == "encode_twice":
            return tokenizer.encode(sentence_a) + tokenizer.encode(sentence_b), []
        ids = cls + a + sep + b + sep
        types = {"right": [0] * (len(a) + 2) + [1] * (len(b) + 1),
                 "one_two": [1] * (len(a) + 2) + [2] * (len(b) + 1),
                 "all_zero": [0] * len(ids),
                 "middle_sep": [0] * (len(a) + 1) + [1] * (len(b) + 2),
                 "last_sep": [0] * (len(a) + 2) + [1] * len(b) + [0],
                 "reversed": [1] * (len(a) + 2) + [0] * (len(b) + 1),
                 "short": [0] * (len(a) + 2) + [1] * len(b)}.get(kind, None)
        if types is None:  # "swapped", "tensor": the right segment ids, returned differently
            types = [0] * (len(a) + 2) + [1] * (len(b) + 1)
        if kind == "swapped":
            return types, ids
        if kind == "tensor":
            return torch.tensor(ids), torch.tensor(types)
        return ids, types
    return encode_pair


@pytest.fixture(scope="module")
def nsp_pairs(tokenizer):
    import helpers.pretraining as pt

    docs = ["Dr. Smith arrives in a small town. He finds the mayor missing! Nobody will talk to him.",
            "A young chef opens a restaurant in Paris. Her first review is a disaster. She cooks for her critics."]
    return pt.make_nsp_pairs(docs, tokenizer, seed=0)


def test_pair_encoding_accepts_the_reference(capsys, tokenizer, nsp_pairs):
    for p in nsp_pairs:  # the reference matches the pairs helpers.pretraining builds (untruncated here)
        assert list(make_encode_pair(tokenizer)(p["sentence_a"], p["sentence_b"])[1]) == p["token_type_ids"]
    ok, out = verdict(capsys, check.exercise, "3.3", make_encode_pair(tokenizer), tokenizer=tokenizer, pairs=nsp_pairs)
    assert ok and f"{len(nsp_pairs) + 2} pairs" in out
    ok, _ = verdict(capsys, check.exercise, "3.3", make_encode_pair(tokenizer, "tensor"), tokenizer=tokenizer)
    assert ok
    ok, _ = verdict(capsys, check.exercise, "3.3",
                    lambda a, b: (tokenizer(a, b)["input_ids"], tokenizer(a, b)["token_type_ids"]), tokenizer=tokenizer)
    assert ok


def _not_written_pair(sentence_a, sentence_b):
    raise NotImplementedError("write encode_pair here")


@pytest.mark.parametrize("kind, hint", [
    ("tokens", "tokens (strings)"), ("no_cls", "[CLS] token"), ("no_last_sep", "ends B is missing"),
    ("encode_twice", "more than one [CLS]"), ("one_two", "not 1 and 2"), ("all_zero", "one segment"),
    ("middle_sep", "closes the first segment"), ("last_sep", "final [SEP] belongs to B"),
    ("reversed", "wrong way round"), ("short", "one segment id per token"), ("swapped", "wrong order"),
])
def test_pair_encoding_recognises_typical_mistakes(capsys, tokenizer, nsp_pairs, kind, hint):
    ok, out = verdict(capsys, ch3.pair_encoding_function, make_encode_pair(tokenizer, kind), tokenizer=tokenizer,
                      pairs=nsp_pairs)
    assert not ok and hint in out


@pytest.mark.parametrize("fn, hint", [(None, "no answer yet"), (_not_written_pair, "not written yet"),
                                      ("encode_pair", "pass the function"), (lambda a, b: None, "returned None"),
                                      (lambda a, b: {"input_ids": []}, "not a dict"), (lambda a: a, "TypeError"),
                                      (lambda a, b: 7, "pair of lists")])
def test_pair_encoding_non_answers(capsys, tokenizer, fn, hint):
    ok, out = verdict(capsys, ch3.pair_encoding_function, fn, tokenizer=tokenizer)
    assert not ok and hint in out


