"""Exercise checkers of chapter 3: masking with an exact count per sequence, the MLM loss split by what the masking
did, the encoding of a sentence pair.

Each checker registers itself under its exercise id; see :mod:`helpers.exercises` for the rules they share.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

from . import register
from .guards import _as_numbers, _call_student, _close, _function_guard, _not_answered, _report, _type_name

MASK_NAME = "my_mask_exact"
"""The function exercise 3.1 asks for."""


@register("3.1")
def masking_function(answer: Any, *, input_ids, tokenizer, max_rows: int = 4000, exercise_id: str = "3.1") -> bool:
    """Exercise 3.1: ``my_mask_exact(input_ids, tokenizer, generator)``, masking with an exact count per sequence.

    The variant of BERT's rule that its original code used: in a row with n tokens that are not special, exactly
    ``max(1, round(0.15 n))`` positions are chosen, at random (a row without such tokens gets none); a chosen
    token becomes ``[MASK]`` with probability 0.8, a random token with probability 0.1, and stays as it is
    otherwise; ``labels`` holds the original id at every chosen position and -100 elsewhere. The function runs
    on the first ``max_rows`` rows of ``input_ids`` (a padded batch). Checked: the pair of outputs and the input
    left as it was; special tokens never chosen and no unchosen position changed; the count of every row (either
    rounding of a half is accepted); the 80/10/10 split within 4 binomial standard errors; chosen positions
    spread over the whole row; the generator used. Recognises section 3.1's coin per token, rounding down, a
    row left without a chosen token, the first positions taken instead of random ones, and the slips of the
    80/10/10 split (two independent draws, the kept 10% without a label, one fixed "random" token).
    """
    import torch

    if input_ids is None or tokenizer is None:
        raise TypeError("masking_function needs the chapter's batch and tokenizer: input_ids=big, tokenizer=tokenizer")
    if (verdict := _function_guard(exercise_id, answer, MASK_NAME, "input_ids, tokenizer, generator")) is not None:
        return verdict
    original = torch.as_tensor(input_ids, dtype=torch.long)[:max_rows].clone()
    verdict, masked, labels = _masking_outputs(exercise_id, answer, original, tokenizer)
    if verdict is not None:
        return verdict
    if (verdict := _masking_positions(exercise_id, original, masked, labels, tokenizer)) is not None:
        return verdict
    if (verdict := _masking_counts(exercise_id, original, labels, tokenizer)) is not None:
        return verdict
    verdict, n_chosen, shown = _masking_split(exercise_id, original, masked, labels, tokenizer)
    if verdict is not None:
        return verdict
    if (verdict := _masking_spread(exercise_id, original, labels, tokenizer)) is not None:
        return verdict
    if (verdict := _masking_seeds(exercise_id, answer, original, tokenizer)) is not None:
        return verdict
    return _report(
        exercise_id,
        True,
        f"correct: every row has exactly max(1, round(0.15 n)) chosen positions "
        f"({n_chosen:,} in all), spread over the whole row; of them {shown} (targets "
        "0.80, 0.10, 0.10); special tokens are never chosen and a seed reproduces "
        "the result.",
    )


def _eligible(original, tokenizer):
    """The positions of ``original`` that are not special tokens (those that may be chosen)."""
    import torch

    return ~torch.isin(original, torch.tensor(sorted(set(tokenizer.all_special_ids))))


def _masking_outputs(exercise_id: str, answer, original, tokenizer) -> tuple[bool | None, Any, Any]:
    """Exercise 3.1, first part: run the function once; (verdict, None, None) if that failed, else (None, masked,
    labels) as long tensors of the input's shape, the input unchanged."""
    import torch

    def wrong(message: str) -> tuple[bool, None, None]:
        return _report(exercise_id, False, message), None, None

    given = original.clone()
    ok, got = _call_student(
        exercise_id,
        answer,
        MASK_NAME,
        f"a batch of shape {tuple(original.shape)}",
        given,
        tokenizer,
        torch.Generator().manual_seed(0),
    )
    if not ok:
        return got, None, None
    if got is None:
        return wrong("your function returned None: return `masked, labels`.")
    if torch.is_tensor(got):
        return wrong("your function returned one tensor: return both, as `return masked, labels`.")
    try:
        masked, labels = got
        masked, labels = torch.as_tensor(masked), torch.as_tensor(labels)
    except (TypeError, ValueError, RuntimeError):
        return wrong(f"your function should return a pair of tensors (masked, labels), not a {_type_name(got)}.")
    if not torch.equal(given, original):
        return wrong(
            "your function changed `input_ids` in place: work on a copy (`masked = input_ids.clone()`), "
            "since the labels need the originals."
        )
    for name, t in (("masked", masked), ("labels", labels)):
        if tuple(t.shape) != tuple(original.shape):
            return wrong(f"`{name}` should have the shape of the input, {tuple(original.shape)}, not {tuple(t.shape)}.")
    masked, labels = masked.long(), labels.long()
    if bool((masked == -100).any()) and not bool((labels == -100).any()):
        return wrong("the two results are in the wrong order: return `masked, labels`.")
    return None, masked, labels


def _masking_positions(exercise_id: str, original, masked, labels, tokenizer) -> bool | None:
    """Exercise 3.1, second part: some but not all positions chosen, each labelled with its original id, no
    special token chosen, no unchosen position changed. None when all hold, else the verdict."""
    import torch

    chosen = labels != -100
    if not bool(chosen.any()):
        return _report(
            exercise_id,
            False,
            "every label is -100, so nothing was chosen: in a row with n tokens "
            "that are not special, choose max(1, round(0.15 n)) of them.",
        )
    if not bool((~chosen).any()):
        return _report(
            exercise_id,
            False,
            "no label is -100: the labels must be -100 at every position that was "
            "not chosen, so that the cross-entropy ignores them.",
        )
    if not torch.equal(labels[chosen], original[chosen]):
        hint = (
            "the label is the corrupted input"
            if torch.equal(labels[chosen], masked[chosen])
            else "some labels differ from the original ids"
        )
        return _report(
            exercise_id,
            False,
            f"{hint}: at a chosen position the label is the *original* token id "
            "(`input_ids`), the token the model must recover.",
        )
    if bool((chosen & ~_eligible(original, tokenizer)).any()):
        n = int((chosen & ~_eligible(original, tokenizer)).sum())
        return _report(
            exercise_id,
            False,
            f"{n:,} special or padding tokens ([CLS], [SEP], [PAD]) were chosen: "
            "only the other tokens may be chosen, and n counts only them. Hint: "
            "`torch.isin(input_ids, torch.tensor(tokenizer.all_special_ids))`.",
        )
    changed = masked != original
    if bool((changed & ~chosen).any()):
        n = int((changed & ~chosen).sum())
        hint = (
            " Every chosen position gets its label, also those replaced by a random token or kept as they are."
            if not bool((chosen & (masked != tokenizer.mask_token_id)).any())
            else ""
        )
        return _report(
            exercise_id,
            False,
            f"{n:,} positions with label -100 were changed: a position that is not "
            "chosen must stay as it is, and one that is changed must be labelled."
            f"{hint}",
        )
    return None


def _masking_counts(exercise_id: str, original, labels, tokenizer) -> bool | None:
    """Exercise 3.1, third part: each row holds exactly max(1, round(0.15 n)) chosen positions (n: its tokens that
    are not special; none when n = 0). Either rounding of a half is accepted. None when right, else the verdict."""
    n = _eligible(original, tokenizer).sum(dim=1).double()
    count = (labels != -100).sum(dim=1).double()
    x = 0.15 * n
    ok = ((n == 0) & (count == 0)) | (
        (n > 0) & (count >= 1) & (((count - x).abs() <= 0.5 + 1e-6) | ((x < 1) & (count == 1)))
    )
    if bool(ok.all()):
        return None
    row = int((~ok).nonzero()[0])
    example = (
        f"row {row} has {int(n[row])} tokens that are not special, so it needs exactly "
        f"max(1, round(0.15 x {int(n[row])})) = {max(1, round(float(x[row])))} chosen positions, not "
        f"{int(count[row])}"
    )
    if bool((ok | ((count == 0) & (x < 0.5) & (n > 0))).all()):
        hint = "a short row got no chosen position: every row with tokens to choose gets at least one, max(1, ...)."
    elif bool((ok | ((n > 0) & (count == x.floor()))).all()):
        hint = (
            "the count is rounded down (`int(...)`): round to the nearest whole number, `round(0.15 * n)`, and "
            "choose at least one."
        )
    elif float((~ok).double().mean()) > 0.3:
        hint = (
            "the counts vary from row to row as a coin per token makes them (section 3.1's rule): here choose "
            "exactly k = max(1, round(0.15 n)) positions per row, e.g. the k smallest of one uniform number "
            "per position."
        )
    else:
        hint = "count only the tokens that are not special, and choose exactly max(1, round(0.15 n)) of them."
    return _report(exercise_id, False, f"{example}. Hint: {hint}")


def _masking_split(exercise_id: str, original, masked, labels, tokenizer) -> tuple[bool | None, int, str]:
    """Exercise 3.1, fourth part: the [MASK], random and kept shares of the chosen positions within 4 binomial
    standard errors of 0.8, 0.1 and 0.1, and random tokens drawn from the whole vocabulary. Returns (verdict or
    None, the number of chosen positions, the measured shares as text)."""
    chosen, changed = labels != -100, masked != original
    n_chosen = max(1, int(chosen.sum()))
    is_mask = chosen & (masked == tokenizer.mask_token_id)
    is_random = chosen & changed & ~is_mask
    rates = {
        "[MASK]": (int(is_mask.sum()) / n_chosen, 0.8),
        "random": (int(is_random.sum()) / n_chosen, 0.1),
        "kept": (int((chosen & ~changed).sum()) / n_chosen, 0.1),
    }
    shown = ", ".join(f"{k} {p:.3f}" for k, (p, _) in rates.items())
    off = [k for k, (p, t) in rates.items() if abs(p - t) > 4 * math.sqrt(t * (1 - t) / n_chosen)]
    if off:
        p_mask, p_random = rates["[MASK]"][0], rates["random"][0]
        if abs(p_mask - 0.8) < 0.03 and abs(p_random - 0.02) < 0.01:
            hint = (
                "the random share is about 0.2 x 0.1: after masking 80%, the other 20% must be split half and "
                "half. Draw one uniform number u per position: u < 0.8 -> [MASK], 0.8 <= u < 0.9 -> random "
                "token, else keep."
            )
        else:
            hint = (
                "of the chosen tokens, 80% become [MASK], 10% a random token and 10% stay as they are. Draw one "
                "uniform number u per position: u < 0.8 -> [MASK], 0.8 <= u < 0.9 -> random, else keep."
            )
        return (
            _report(
                exercise_id,
                False,
                f"the counts per row are right, but the split of the chosen tokens is "
                f"off: {', '.join(off)} (measured {shown}). Hint: {hint}",
            ),
            n_chosen,
            shown,
        )
    random_ids = masked[is_random]
    if bool(((random_ids < 0) | (random_ids >= len(tokenizer))).any()):
        return (
            _report(
                exercise_id,
                False,
                f"some random tokens are not ids of the vocabulary (0 to "
                f"{len(tokenizer) - 1}): draw them with `torch.randint(len(tokenizer), "
                "...)`.",
            ),
            n_chosen,
            shown,
        )
    if random_ids.numel() >= 20 and random_ids.unique().numel() < 0.5 * random_ids.numel():
        return (
            _report(
                exercise_id,
                False,
                f"the {random_ids.numel():,} random replacements use only "
                f"{random_ids.unique().numel()} different token(s): draw each one "
                "uniformly from the whole vocabulary, `torch.randint(len(tokenizer), "
                "...)`.",
            ),
            n_chosen,
            shown,
        )
    return None, n_chosen, shown


def _masking_spread(exercise_id: str, original, labels, tokenizer) -> bool | None:
    """Exercise 3.1, fifth part: the chosen positions are random, not the first (or last) tokens of a row. Their
    mean relative place among the row's eligible tokens (0 first, 1 last) must lie within 0.05 of one half."""
    eligible = _eligible(original, tokenizer)
    n = eligible.sum(dim=1, keepdim=True)
    place = (eligible.cumsum(dim=1) - 1).double() / (n - 1).clamp(min=1).double()
    where = (labels != -100) & eligible & (n > 1)
    if not bool(where.any()):
        return None
    mean_place = float(place[where].mean())
    if abs(mean_place - 0.5) <= 0.05:
        return None
    side = "first" if mean_place < 0.5 else "last"
    return _report(
        exercise_id,
        False,
        f"the chosen positions are not spread over the rows: on average they sit at "
        f"{mean_place:.2f} of the way along (0.5 if random), so your function takes "
        f"the {side} tokens. Choose the k positions at random: draw one uniform "
        "number per position and take the k smallest among the eligible ones.",
    )


def _masking_seeds(exercise_id: str, answer, original, tokenizer) -> bool | None:
    """Exercise 3.1, last part: the same generator seed gives the same result, another seed another one."""
    import torch

    small = original[:200]
    runs = []
    for seed in (1, 1, 2):
        ok, out = _call_student(
            exercise_id,
            answer,
            MASK_NAME,
            "a second call",
            small.clone(),
            tokenizer,
            torch.Generator().manual_seed(seed),
        )
        if not ok:
            return out
        runs.append(tuple(torch.as_tensor(t).long() for t in out))
    if not all(torch.equal(a, b) for a, b in zip(runs[0], runs[1])):
        return _report(
            exercise_id,
            False,
            "two calls with the same generator seed gave different results: draw "
            "every random number from `generator` (`torch.rand(..., "
            "generator=generator)`, `torch.randint(..., generator=generator)`).",
        )
    if all(torch.equal(a, b) for a, b in zip(runs[0], runs[2])):
        return _report(
            exercise_id,
            False,
            "two different generator seeds gave the same result: use the "
            "`generator` passed in, rather than a fixed seed of your own.",
        )
    return None


@register("3.2")
def pretraining_losses_by_hand(answer: Any, *, batch, output, tokenizer, exercise_id: str = "3.2") -> bool:
    """Exercise 3.2: ``(loss_mask, loss_random, loss_kept)``, the MLM loss of a trained model split by what the
    masking did to the chosen position: ``[MASK]``, a random token, or the original token kept.

    ``batch`` holds ``input_ids`` (the corrupted input) and ``labels`` (-100 where nothing was chosen);
    ``output.prediction_logits`` the MLM logits. A chosen position is a ``[MASK]`` position when its input is
    ``tokenizer.mask_token_id``, kept when its input equals its label, random otherwise; each loss is the mean of
    ``-log softmax(logits)[label]`` over its group (NaN for an empty group). Recognises the overall L_MLM given
    three times, the groups in another order, sums instead of means, each group divided by all N chosen
    positions, the kept tokens counted as random ones, and the sign.
    """
    import torch

    if batch is None or output is None or tokenizer is None:
        raise TypeError(
            "pretraining_losses_by_hand needs the batch, the model's output and the tokenizer: "
            "batch=pair_batch, output=trained_out, tokenizer=tokenizer"
        )
    if answer is None:
        return _not_answered(exercise_id, "the three losses, `answer = (loss_mask, loss_random, loss_kept)`")
    values = _as_numbers(answer, 3)
    if values is None:
        return _report(
            exercise_id,
            False,
            f"the answer should be three numbers, `(loss_mask, loss_random, loss_kept)`, not a {_type_name(answer)}.",
        )
    logits = output.prediction_logits.detach().double().cpu()
    labels, ids = batch["labels"].cpu(), batch["input_ids"].cpu()
    chosen = labels != -100
    nll = -torch.log_softmax(logits, dim=-1).gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    groups = {"[MASK]": chosen & (ids == tokenizer.mask_token_id), "kept": chosen & (ids == labels)}
    groups["random"] = chosen & ~groups["[MASK]"] & ~groups["kept"]
    order = [groups["[MASK]"], groups["random"], groups["kept"]]
    right = [float(nll[g].mean()) if bool(g.any()) else math.nan for g in order]

    def same(got, want, tol=1e-4):
        return all((math.isnan(w) and math.isnan(g)) or _close(g, w, tol) for g, w in zip(got, want))

    if same(values, right):
        sizes = ", ".join(f"{int(g.sum())}" for g in order)
        return _report(
            exercise_id,
            True,
            f"correct: [MASK] {right[0]:.3f}, random {right[1]:.3f}, kept "
            f"{right[2]:.3f} (over {sizes} positions). Which is lowest, and why?",
        )
    n_all = int(chosen.sum())
    overall = float(nll[chosen].mean())
    merged = chosen & ~groups["[MASK]"]
    slips = [
        ([overall] * 3, "the three numbers are the overall L_MLM: average over each group separately."),
        ([float(nll[g].sum()) for g in order], "these are sums: take the mean within each group."),
        (
            [float(nll[g].sum()) / n_all for g in order],
            "each group's sum is divided by N, the number of all chosen positions: divide by the group's own size.",
        ),
        (
            [right[0], float(nll[merged].mean()) if bool(merged.any()) else math.nan, right[2]],
            "the random group also holds the kept tokens: a random position is chosen, not [MASK], and its input "
            "differs from its label.",
        ),
        ([-v for v in right], "the sign is wrong: the loss is *minus* the mean log-probability."),
    ]
    hint = next((h for wrong, h in slips if same(values, wrong)), None)
    if hint is None and any(same(values, list(p)) for p in itertools.permutations(right)):
        hint = "the right numbers in the wrong order: `answer = (loss_mask, loss_random, loss_kept)`."
    if hint:
        return _report(exercise_id, False, f"not quite: {hint}")
    return _report(
        exercise_id,
        False,
        "not the three losses. Hint: `chosen = labels != -100`; [MASK] positions: "
        "chosen and `input_ids == tokenizer.mask_token_id`; kept: chosen and "
        "`input_ids == labels`; random: the other chosen ones. In each group, "
        "average minus the log-softmax of the logits at the label.",
    )


NSP_CHECK_PAIRS: list[tuple[str, str]] = [
    ("The detective arrives at the old house.", "He finds the door unlocked."),
    ("A snoozefest.", "Not bad at all, really!"),
]


@register("3.3")
def pair_encoding_function(answer: Any, *, tokenizer, pairs=None, n_pairs: int = 30, exercise_id: str = "3.3") -> bool:
    """Exercise 3.3: a function ``encode_pair(sentence_a, sentence_b)`` returning ``(input_ids, token_type_ids)``.

    The reference is the tokenizer's own encoding of a pair, ``tokenizer(a, b)``: ``[CLS] A [SEP] B [SEP]``, with
    segment 0 for ``[CLS] A [SEP]`` and 1 for ``B [SEP]``. Runs the function on :data:`NSP_CHECK_PAIRS` and on the
    first ``n_pairs`` of ``pairs`` (the chapter's NSP pairs). Recognises tokens instead of ids, a missing
    ``[CLS]`` or ``[SEP]``, the middle ``[SEP]`` in segment 1, the last ``[SEP]`` in segment 0, segments numbered 1
    and 2, and one segment for everything.
    """
    import torch

    if tokenizer is None:
        raise TypeError("pair_encoding_function needs the chapter's tokenizer: tokenizer=tokenizer")
    if (verdict := _function_guard(exercise_id, answer, "encode_pair", "sentence_a, sentence_b")) is not None:
        return verdict
    cases = list(NSP_CHECK_PAIRS) + [(p["sentence_a"], p["sentence_b"]) for p in list(pairs or [])[:n_pairs]]
    sep = tokenizer.sep_token_id
    for a, b in cases:
        ok, got = _call_student(exercise_id, answer, "encode_pair", f"the pair ({a!r}, {b!r})", a, b)
        if not ok:
            return got
        ref = tokenizer(a, b)
        ids, types = list(ref["input_ids"]), list(ref["token_type_ids"])
        where = f"for A = {a!r} and B = {b!r}"
        if got is None:
            return _report(exercise_id, False, "your function returned None: return `input_ids, token_type_ids`.")
        if isinstance(got, dict):
            return _report(
                exercise_id, False, "return the two lists as a pair, `return input_ids, token_type_ids`, not a dict."
            )
        try:
            got_ids, got_types = got
            got_ids = [x for x in (got_ids.tolist() if torch.is_tensor(got_ids) else list(got_ids))]
            got_types = [x for x in (got_types.tolist() if torch.is_tensor(got_types) else list(got_types))]
        except (TypeError, ValueError):
            return _report(
                exercise_id,
                False,
                f"your function should return a pair of lists (input_ids, token_type_ids), not a {_type_name(got)}.",
            )
        if got_ids and all(isinstance(x, str) for x in got_ids):
            return _report(
                exercise_id,
                False,
                "your function returns tokens (strings): turn them into ids with `tokenizer.convert_tokens_to_ids`.",
            )
        if got_ids == types and got_types == ids:
            return _report(
                exercise_id, False, "the two results are in the wrong order: return `input_ids, token_type_ids`."
            )
        if got_ids != ids:
            return _report(
                exercise_id, False, f"{where} the input ids are not right: {_pair_ids_hint(got_ids, ids, tokenizer)}"
            )
        if len(got_types) != len(ids):
            return _report(
                exercise_id,
                False,
                f"{where} there are {len(ids)} tokens but {len(got_types)} segment ids: give one segment id per token.",
            )
        if got_types == types:
            continue
        middle = ids.index(sep)
        if got_types == [t + 1 for t in types]:
            hint = "the segments are numbered 0 (first) and 1 (second), not 1 and 2."
        elif set(got_types) <= {0} or set(got_types) <= {1}:
            hint = "everything is in one segment: B and its [SEP] get segment 1."
        elif got_types == [1 if i == middle else t for i, t in enumerate(types)]:
            hint = "the [SEP] after A closes the first segment, so it gets 0; segment 1 starts after it."
        elif got_types == [0 if i == len(ids) - 1 else t for i, t in enumerate(types)]:
            hint = "the final [SEP] belongs to B's segment, so it gets 1."
        elif got_types == [1 - t for t in types]:
            hint = "the segments are the wrong way round: 0 for [CLS] A [SEP], 1 for B [SEP]."
        else:
            hint = "0 for [CLS], A's tokens and the [SEP] after them; 1 for B's tokens and the final [SEP]."
        return _report(exercise_id, False, f"{where} the input ids are right but the segment ids are not: {hint}")
    return _report(
        exercise_id,
        True,
        f"correct on {len(cases)} pairs: [CLS] A [SEP] B [SEP], with segment 0 up to "
        "and including the first [SEP] and 1 after it, exactly as `tokenizer(a, b)` "
        "encodes a pair.",
    )


def _pair_ids_hint(got_ids: list, ids: list[int], tokenizer) -> str:
    """Exercise 3.3: what is wrong with the input ids ``got_ids`` of a pair whose right ids are ``ids``."""
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    if got_ids == ids[1:]:
        return "the [CLS] token (`tokenizer.cls_token_id`) is missing at the start."
    if got_ids == ids[:-1]:
        return "the [SEP] that ends B is missing."
    if got_ids == [x for i, x in enumerate(ids) if not (x == sep and i < len(ids) - 1)]:
        return "the [SEP] between A and B is missing."
    if got_ids[:1] == [cls] and got_ids.count(cls) > 1:
        return (
            "there is more than one [CLS]: `tokenizer.encode(text)` adds [CLS] and [SEP] itself; "
            "use `tokenizer.tokenize` and `tokenizer.convert_tokens_to_ids`."
        )
    i = next((k for k, (x, y) in enumerate(zip(got_ids, ids)) if x != y), min(len(got_ids), len(ids)))
    expect = tokenizer.convert_ids_to_tokens(ids[i]) if i < len(ids) else "the end"
    return (
        f"the ids differ from the tokenizer's from position {i} on (expected {expect!r} there). The "
        "layout is [CLS], the tokens of A, [SEP], the tokens of B, [SEP]."
    )
