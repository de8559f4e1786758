"""helpers.exercises.ch3: every checker of chapter 3 accepts the reference solution and rejects the typical wrong
answers with a hint: masking with an exact count per sequence, the MLM loss split by what the masking did (against
torch), the encoding of a sentence pair.

The references are computed independently here, with the libraries, so the checkers are tested against them, not
against themselves. A checker must never raise because of the answer: None (the student notebooks' stub), a wrong
type, or a function that raises all give False and a message.
"""

import math
from types import SimpleNamespace

import pytest
import torch
from exercise_tools import REVIEWS, verdict

import helpers.check as check
from helpers.exercises import ch3

# ---------------------------------------------------------------------------------------------- 3.1 masking


@pytest.fixture(scope="module")
def review_ids(tokenizer):
    """4,900 padded rows of real text (about 50,000 eligible tokens), with [CLS], [SEP] and [PAD] in every row; one
    row in seven has only two tokens to choose from, where round(0.15 n) is 0 and at least one must be chosen."""
    return tokenizer((REVIEWS + ["Dull."]) * 700, padding=True, return_tensors="pt")["input_ids"]


def _specials(input_ids, tokenizer):
    return torch.isin(input_ids, torch.tensor(tokenizer.all_special_ids))


def good_mask_exact(input_ids, tokenizer, generator, kind="right"):
    """The reference: exactly max(1, round(0.15 n)) random positions per row; ``kind`` plants one typical slip."""
    if kind == "global_rng":
        generator = None
    elif kind == "fixed_seed":
        generator = torch.Generator().manual_seed(123)
    special = input_ids == tokenizer.pad_token_id if kind == "specials_chosen" else _specials(input_ids, tokenizer)
    n = (~special).sum(dim=1)
    k = {"floor": torch.floor(0.15 * n), "no_minimum": torch.round(0.15 * n)}.get(
        kind, torch.clamp(torch.round(0.15 * n), min=1)
    ) * (n > 0)
    draw = torch.rand(input_ids.shape, generator=generator).masked_fill(special, 2.0)
    if kind == "first":  # the first k eligible tokens instead of random ones
        draw = torch.arange(input_ids.shape[1], dtype=torch.float).expand_as(input_ids).masked_fill(special, 1e9)
    chosen = draw.argsort(dim=1).argsort(dim=1) < k.unsqueeze(1)
    if kind == "coin":
        chosen = (torch.rand(input_ids.shape, generator=generator) < 0.15) & ~special
    action = torch.rand(input_ids.shape, generator=generator)
    to_mask = chosen & (action < 0.8)
    if kind == "two_draws":  # mask 80%, then 10% of the rest: the random share becomes 2%
        to_random = chosen & ~to_mask & (torch.rand(input_ids.shape, generator=generator) < 0.1)
    else:
        to_random = chosen & (action >= 0.8) & (action < 0.9)
    masked = input_ids if kind == "in_place" else input_ids.clone()
    masked[to_mask] = tokenizer.mask_token_id
    masked[to_random] = (
        1000 if kind == "fixed_random" else torch.randint(len(tokenizer), (int(to_random.sum()),), generator=generator)
    )
    labels = torch.where(chosen, input_ids, torch.full_like(input_ids, -100))
    if kind == "labels_corrupted":
        labels = torch.where(chosen, masked, labels)
    if kind == "no_ignore":
        labels = input_ids.clone()
    return (labels, masked) if kind == "swapped" else (masked, labels)


def test_masking_accepts_the_reference(capsys, tokenizer, review_ids):
    ok, out = verdict(capsys, check.exercise, "3.1", good_mask_exact, input_ids=review_ids, tokenizer=tokenizer)
    assert ok and "exactly max(1, round(0.15 n))" in out and "targets 0.80, 0.10, 0.10" in out
    masked, labels = good_mask_exact(review_ids, tokenizer, torch.Generator().manual_seed(0))
    n = (~_specials(review_ids, tokenizer)).sum(dim=1)
    assert torch.equal((labels != -100).sum(dim=1), torch.clamp(torch.round(0.15 * n), min=1).long())


def test_masking_accepts_either_rounding_of_a_half(capsys, tokenizer):
    """A row with 10 eligible tokens needs round(1.5): 2 (Python's and torch's round) or 2 (half up); with 30,
    round(4.5) is 4 by Python's rule and 5 by float32 arithmetic (0.15 is a little above 0.15): both pass."""
    ids = torch.tensor([[tokenizer.cls_token_id] + [1000 + i for i in range(30)] + [tokenizer.sep_token_id]] * 600)

    def half_up(input_ids, tok, generator):
        masked, _ = good_mask_exact(input_ids, tok, generator)
        draw = torch.rand(input_ids.shape, generator=generator).masked_fill(_specials(input_ids, tok), 2.0)
        chosen = draw.argsort(dim=1).argsort(dim=1) < 5
        return input_ids.clone(), torch.where(chosen, input_ids, torch.full_like(input_ids, -100))

    assert ch3._masking_counts("3.1", ids, half_up(ids, tokenizer, torch.Generator())[1], tokenizer) is None
    four = torch.where(torch.arange(32) < 5, ids, torch.full_like(ids, -100))
    four[:, 0] = -100
    assert ch3._masking_counts("3.1", ids, four, tokenizer) is None  # positions 1-4: four chosen


def _not_written_mask(input_ids, tokenizer, generator):
    raise NotImplementedError("write my_mask_exact here")


def _slip(kind):
    return lambda input_ids, tokenizer, generator: good_mask_exact(input_ids, tokenizer, generator, kind)


@pytest.mark.parametrize(
    "fn, hint",
    [
        (None, "no answer yet"),
        ("my_mask_exact", "pass the function"),
        (_not_written_mask, "not written yet"),
        (lambda ids, tok: None, "TypeError"),
        (lambda ids, tok, gen: None, "returned None"),
        (lambda ids, tok, gen: ids.clone(), "one tensor"),
        (_slip("swapped"), "wrong order"),
        (_slip("in_place"), "in place"),
        (_slip("no_ignore"), "no label is -100"),
        (_slip("labels_corrupted"), "*original* token"),
        (_slip("specials_chosen"), "special or padding tokens"),
        (_slip("coin"), "a coin per token"),
        (_slip("floor"), "rounded down"),
        (_slip("no_minimum"), "at least one"),
        (_slip("first"), "takes the first tokens"),
        (_slip("two_draws"), "split half and half"),
        (_slip("fixed_random"), "different token(s)"),
        (_slip("global_rng"), "same generator seed"),
        (_slip("fixed_seed"), "rather than a fixed seed"),
    ],
)
def test_masking_recognises_typical_mistakes(capsys, tokenizer, review_ids, fn, hint):
    before = review_ids.clone()
    ok, out = verdict(capsys, ch3.masking_function, fn, input_ids=review_ids, tokenizer=tokenizer)
    assert not ok and hint in out
    assert torch.equal(review_ids, before), "the checker works on a copy of the chapter's batch"


def test_masking_needs_the_chapters_objects():
    with pytest.raises(TypeError, match="input_ids=big"):
        ch3.masking_function(good_mask_exact, input_ids=None, tokenizer=None)


# ---------------------------------------------------------------------------------------------- 3.2 losses by kind


@pytest.fixture(scope="module")
def pretraining_output():
    """A tiny BertForPreTraining, a batch whose chosen positions are [MASK] (column 2), kept (5) and random (7)."""
    from transformers import BertConfig, BertForPreTraining

    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=16,
    )
    model = BertForPreTraining(cfg).eval()
    original = torch.randint(5, 50, (4, 9))
    labels = torch.full_like(original, -100)
    labels[:, [2, 5, 7]] = original[:, [2, 5, 7]]
    labels[0, 8] = original[0, 8]  # one more kept position in the first row
    input_ids = original.clone()
    input_ids[:, 2] = 4  # [MASK] is id 4 here
    input_ids[:, 7] = 5 + (original[:, 7] - 4) % 45  # another token than the original
    batch = {
        "input_ids": input_ids,
        "labels": labels,
        "next_sentence_label": torch.tensor([0, 1, 1, 0]),
        "attention_mask": torch.ones_like(input_ids),
        "token_type_ids": torch.zeros_like(input_ids),
    }
    with torch.no_grad():
        out = model(**batch)
    return batch, out


TOKENIZER = SimpleNamespace(mask_token_id=4)


def _per_position(batch, out):
    return torch.nn.functional.cross_entropy(
        out.prediction_logits.transpose(1, 2), batch["labels"], ignore_index=-100, reduction="none"
    )


def test_losses_by_kind_accept_the_torch_values(capsys, pretraining_output):
    batch, out = pretraining_output
    per = _per_position(batch, out)
    right = (per[:, 2].mean().item(), per[:, 7].mean().item(), torch.cat([per[:, 5], per[:1, 8]]).mean().item())
    ok, text = verdict(capsys, check.exercise, "3.2", right, batch=batch, output=out, tokenizer=TOKENIZER)
    assert ok and "over 4, 4, 5 positions" in text
    ok, _ = verdict(
        capsys, check.exercise, "3.2", [torch.tensor(v) for v in right], batch=batch, output=out, tokenizer=TOKENIZER
    )
    assert ok


def test_losses_by_kind_accept_nan_for_an_empty_group(capsys, pretraining_output):
    batch, out = pretraining_output
    batch = {**batch, "input_ids": batch["input_ids"].clone()}
    batch["input_ids"][:, 7] = batch["labels"][:, 7]  # no random position left
    per = _per_position(batch, out)
    kept = torch.cat([per[:, 5], per[:, 7], per[:1, 8]]).mean().item()
    ok, _ = verdict(
        capsys,
        ch3.pretraining_losses_by_hand,
        (per[:, 2].mean().item(), math.nan, kept),
        batch=batch,
        output=out,
        tokenizer=TOKENIZER,
    )
    assert ok


@pytest.mark.parametrize(
    "kind, hint",
    [
        ("none", "no answer yet"),
        ("pair", "three numbers"),
        ("overall", "overall L_MLM"),
        ("sums", "these are sums"),
        ("by_n", "divided by N"),
        ("merged", "also holds the kept tokens"),
        ("sign", "sign"),
        ("order", "wrong order"),
        ("other", "Hint"),
    ],
)
def test_losses_by_kind_recognise_typical_slips(capsys, pretraining_output, kind, hint):
    batch, out = pretraining_output
    per = _per_position(batch, out)
    chosen = batch["labels"] != -100
    g_mask, g_random = per[:, 2], per[:, 7]
    g_kept = torch.cat([per[:, 5], per[:1, 8]])
    right = (g_mask.mean().item(), g_random.mean().item(), g_kept.mean().item())
    n = int(chosen.sum())
    value = {
        "none": None,
        "pair": right[:2],
        "overall": [per[chosen].mean().item()] * 3,
        "sums": (g_mask.sum().item(), g_random.sum().item(), g_kept.sum().item()),
        "by_n": (g_mask.sum().item() / n, g_random.sum().item() / n, g_kept.sum().item() / n),
        "merged": (right[0], torch.cat([g_random, g_kept]).mean().item(), right[2]),
        "sign": tuple(-v for v in right),
        "order": (right[2], right[0], right[1]),
        "other": (right[0] + 0.5, right[1], right[2]),
    }[kind]
    ok, text = verdict(capsys, ch3.pretraining_losses_by_hand, value, batch=batch, output=out, tokenizer=TOKENIZER)
    assert not ok and hint in text


def test_losses_by_kind_need_the_chapters_objects(pretraining_output):
    with pytest.raises(TypeError, match="output=trained_out"):
        ch3.pretraining_losses_by_hand((1.0, 1.0, 1.0), batch=pretraining_output[0], output=None, tokenizer=TOKENIZER)


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
        types = {
            "right": [0] * (len(a) + 2) + [1] * (len(b) + 1),
            "one_two": [1] * (len(a) + 2) + [2] * (len(b) + 1),
            "all_zero": [0] * len(ids),
            "middle_sep": [0] * (len(a) + 1) + [1] * (len(b) + 2),
            "last_sep": [0] * (len(a) + 2) + [1] * len(b) + [0],
            "reversed": [1] * (len(a) + 2) + [0] * (len(b) + 1),
            "short": [0] * (len(a) + 2) + [1] * len(b),
        }.get(kind, None)
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

    docs = [
        "Dr. Smith arrives in a small town. He finds the mayor missing! Nobody will talk to him.",
        "A young chef opens a restaurant in Paris. Her first review is a disaster. She cooks for her critics.",
    ]
    return pt.make_nsp_pairs(docs, tokenizer, seed=0)


def test_pair_encoding_accepts_the_reference(capsys, tokenizer, nsp_pairs):
    for p in nsp_pairs:  # the reference matches the pairs helpers.pretraining builds (untruncated here)
        assert list(make_encode_pair(tokenizer)(p["sentence_a"], p["sentence_b"])[1]) == p["token_type_ids"]
    ok, out = verdict(capsys, check.exercise, "3.3", make_encode_pair(tokenizer), tokenizer=tokenizer, pairs=nsp_pairs)
    assert ok and f"{len(nsp_pairs) + 2} pairs" in out
    ok, _ = verdict(capsys, check.exercise, "3.3", make_encode_pair(tokenizer, "tensor"), tokenizer=tokenizer)
    assert ok
    ok, _ = verdict(
        capsys,
        check.exercise,
        "3.3",
        lambda a, b: (tokenizer(a, b)["input_ids"], tokenizer(a, b)["token_type_ids"]),
        tokenizer=tokenizer,
    )
    assert ok


def _not_written_pair(sentence_a, sentence_b):
    raise NotImplementedError("write encode_pair here")


@pytest.mark.parametrize(
    "kind, hint",
    [
        ("tokens", "tokens (strings)"),
        ("no_cls", "[CLS] token"),
        ("no_last_sep", "ends B is missing"),
        ("encode_twice", "more than one [CLS]"),
        ("one_two", "not 1 and 2"),
        ("all_zero", "one segment"),
        ("middle_sep", "closes the first segment"),
        ("last_sep", "final [SEP] belongs to B"),
        ("reversed", "wrong way round"),
        ("short", "one segment id per token"),
        ("swapped", "wrong order"),
    ],
)
def test_pair_encoding_recognises_typical_mistakes(capsys, tokenizer, nsp_pairs, kind, hint):
    ok, out = verdict(
        capsys, ch3.pair_encoding_function, make_encode_pair(tokenizer, kind), tokenizer=tokenizer, pairs=nsp_pairs
    )
    assert not ok and hint in out


@pytest.mark.parametrize(
    "fn, hint",
    [
        (None, "no answer yet"),
        (_not_written_pair, "not written yet"),
        ("encode_pair", "pass the function"),
        (lambda a, b: None, "returned None"),
        (lambda a, b: {"input_ids": []}, "not a dict"),
        (lambda a: a, "TypeError"),
        (lambda a, b: 7, "pair of lists"),
    ],
)
def test_pair_encoding_non_answers(capsys, tokenizer, fn, hint):
    ok, out = verdict(capsys, ch3.pair_encoding_function, fn, tokenizer=tokenizer)
    assert not ok and hint in out
