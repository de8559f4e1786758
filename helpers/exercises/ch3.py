"""Exercise checkers of chapter 3: BERT's masking rule, the MLM and NSP losses by hand, the encoding of a sentence pair.

Each checker registers itself under its exercise id; see :mod:`helpers.exercises` for the rules they share.
"""

from __future__ import annotations

import math
from typing import Any

from . import register
from .guards import (_as_number, _as_numbers, _call_student, _close, _function_guard, _not_answered, _report,
                     _slip_hint, _type_name)


@register("3.1")
def masking_function(answer: Any, *, input_ids, tokenizer, max_rows: int = 4000,
                     exercise_id: str = "3.1") -> bool:
    """Exercise 3.1: a function ``my_mask_tokens(input_ids, tokenizer, generator)`` returning ``(masked, labels)``.

    BERT's rule: every token that is not special is chosen with probability 0.15; a chosen token becomes
    ``[MASK]`` with probability 0.8, a token drawn uniformly from the vocabulary with probability 0.1, and stays
    as it is otherwise; ``labels`` holds the original id at every chosen position and -100 elsewhere. The
    function runs on the first ``max_rows`` rows of ``input_ids`` (a padded batch): the rates must lie within 4
    binomial standard errors of their targets; special and padding tokens must never be chosen or changed, nor
    any position that was not chosen; the input must stay as it was; and the same generator seed must give the
    same result. Recognises labels only at ``[MASK]`` positions, the kept 10% without a label, the 80/10/10 split
    made with two independent draws, one fixed "random" token, swapped outputs and the global random generator.

    The checks run in that order, one part each: :func:`_masking_outputs` (the call, the pair, the shapes),
    :func:`_masking_positions` (which positions are chosen, labelled and changed), :func:`_masking_rates` (the
    rates and the random tokens) and :func:`_masking_seeds` (the generator).
    """
    import torch

    if input_ids is None or tokenizer is None:
        raise TypeError("masking_function needs the chapter's batch and tokenizer: input_ids=big, tokenizer=tokenizer")
    if (verdict := _function_guard(exercise_id, answer, "my_mask_tokens",
                                   "input_ids, tokenizer, generator")) is not None:
        return verdict
    original = torch.as_tensor(input_ids, dtype=torch.long)[:max_rows].clone()
    verdict, masked, labels = _masking_outputs(exercise_id, answer, original, tokenizer)
    if verdict is not None:
        return verdict
    if (verdict := _masking_positions(exercise_id, original, masked, labels, tokenizer)) is not None:
        return verdict
    verdict, n_eligible, shown = _masking_rates(exercise_id, original, masked, labels, tokenizer)
    if verdict is not None:
        return verdict
    if (verdict := _masking_seeds(exercise_id, answer, original, tokenizer)) is not None:
        return verdict
    return _report(exercise_id, True, f"correct: on {n_eligible:,} eligible tokens the rates are {shown} (targets "
                                      "0.15, 0.80, 0.10, 0.10); special and padding tokens are never chosen, every "
                                      "chosen position carries its original id, and a seed reproduces the result.")


def _masking_outputs(exercise_id: str, answer, original, tokenizer) -> tuple[bool | None, Any, Any]:
    """Exercise 3.1, first part: run the function once; (verdict, None, None) if that failed, else (None, masked,
    labels) as long tensors of the input's shape, the input unchanged."""
    import torch

    def wrong(message: str) -> tuple[bool, None, None]:
        return _report(exercise_id, False, message), None, None

    given = original.clone()
    ok, got = _call_student(exercise_id, answer, "my_mask_tokens", f"a batch of shape {tuple(original.shape)}",
                            given, tokenizer, torch.Generator().manual_seed(0))
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
        return wrong("your function changed `input_ids` in place: work on a copy (`masked = input_ids.clone()`), "
                     "since the labels need the originals.")
    for name, t in (("masked", masked), ("labels", labels)):
        if tuple(t.shape) != tuple(original.shape):
            return wrong(f"`{name}` should have the shape of the input, {tuple(original.shape)}, not "
                         f"{tuple(t.shape)}.")
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
        return _report(exercise_id, False, "every label is -100, so nothing was chosen: choose each non-special "
                                           "token with probability 0.15.")
    if not bool((~chosen).any()):
        return _report(exercise_id, False, "no label is -100: the labels must be -100 at every position that was "
                                           "not chosen, so that the cross-entropy ignores them.")
    if not torch.equal(labels[chosen], original[chosen]):
        hint = ("the label is the corrupted input" if torch.equal(labels[chosen], masked[chosen])
                else "some labels differ from the original ids")
        return _report(exercise_id, False, f"{hint}: at a chosen position the label is the *original* token id "
                                           "(`input_ids`), the token the model must recover.")
    special = torch.isin(original, torch.tensor(sorted({tokenizer.cls_token_id, tokenizer.sep_token_id,
                                                        tokenizer.pad_token_id})))
    if bool((chosen & special).any()):
        return _report(exercise_id, False, f"{int((chosen & special).sum()):,} special or padding tokens ([CLS], "
                                           "[SEP], [PAD]) were chosen: only the other tokens may be chosen. Hint: "
                                           "`torch.isin(input_ids, torch.tensor(tokenizer.all_special_ids))`.")
    changed = masked != original
    if bool((changed & ~chosen).any()):
        n = int((changed & ~chosen).sum())
        hint = (" Every chosen position gets its label, also those replaced by a random token or kept as they "
                "are." if not bool((chosen & (masked != tokenizer.mask_token_id)).any()) else "")
        return _report(exercise_id, False, f"{n:,} positions with label -100 were changed: a position that is not "
                                           "chosen must stay as it is, and one that is changed must be labelled."
                                           f"{hint}")
    return None


def _masking_rates(exercise_id: str, original, masked, labels, tokenizer) -> tuple[bool | None, int, str]:
    """Exercise 3.1, third part: the chosen, [MASK], random and kept rates within 4 binomial standard errors of
    0.15, 0.8, 0.1 and 0.1, and random tokens drawn from the whole vocabulary. Returns (verdict or None, the
    number of eligible tokens, the measured rates as text)."""
    import torch

    def wrong(message: str) -> tuple[bool, int, str]:
        return _report(exercise_id, False, message), n_eligible, shown

    chosen, changed = labels != -100, masked != original
    eligible = ~torch.isin(original, torch.tensor(sorted(set(tokenizer.all_special_ids))))
    n_eligible, n_chosen = int(eligible.sum()), max(1, int((chosen & eligible).sum()))
    is_mask = chosen & eligible & (masked == tokenizer.mask_token_id)
    is_random = chosen & eligible & changed & ~is_mask
    is_kept = chosen & eligible & ~changed
    rates = {"chosen": (int((chosen & eligible).sum()) / n_eligible, 0.15, n_eligible),
             "[MASK]": (int(is_mask.sum()) / n_chosen, 0.8, n_chosen),
             "random": (int(is_random.sum()) / n_chosen, 0.1, n_chosen),
             "kept": (int(is_kept.sum()) / n_chosen, 0.1, n_chosen)}
    shown = ", ".join(f"{k} {v[0]:.3f}" for k, v in rates.items())
    off = [k for k, (p, target, n) in rates.items() if abs(p - target) > 4 * math.sqrt(target * (1 - target) / n)]
    if off:
        return wrong(f"the rates are off: {', '.join(off)} (measured {shown}; targets 0.15, 0.80, 0.10, 0.10, "
                     f"within 4 standard errors). Hint: {_masking_rate_hint(rates, off)}")
    random_ids = masked[is_random]
    if bool(((random_ids < 0) | (random_ids >= len(tokenizer))).any()):
        return wrong(f"some random tokens are not ids of the vocabulary (0 to {len(tokenizer) - 1}): draw them "
                     "with `torch.randint(len(tokenizer), ...)`.")
    if random_ids.numel() >= 20 and random_ids.unique().numel() < 0.5 * random_ids.numel():
        return wrong(f"the {random_ids.numel():,} random replacements use only {random_ids.unique().numel()} "
                     "different token(s): draw each one uniformly from the whole vocabulary, "
                     "`torch.randint(len(tokenizer), ...)`.")
    return None, n_eligible, shown


def _masking_rate_hint(rates: dict[str, tuple[float, float, int]], off: list[str]) -> str:
    """Exercise 3.1: the hint for rates that are off (``rates``: name -> (measured, target, n))."""
    p_mask, p_random, p_kept = rates["[MASK]"][0], rates["random"][0], rates["kept"][0]
    if p_kept < 0.01 and "chosen" in off and rates["chosen"][0] < 0.15:
        return ("no chosen token is kept as it is: the 10% left unchanged are chosen too, so they carry a label "
                "and count in N.")
    if abs(p_mask - 0.8) < 0.03 and abs(p_random - 0.02) < 0.01:
        return ("the random share is about 0.2 x 0.1: after masking 80%, the other 20% must be split half "
                "and half. Draw one uniform number u per position: u < 0.8 -> [MASK], 0.8 <= u < 0.9 -> "
                "random token, else keep.")
    if "chosen" in off:
        return ("choose each non-special token independently with probability 0.15: "
                "`torch.rand(shape, generator=generator) < 0.15`, and not the special tokens.")
    return ("of the chosen tokens, 80% become [MASK], 10% a random token and 10% stay as they are. Draw "
            "one uniform number u per position: u < 0.8 -> [MASK], 0.8 <= u < 0.9 -> random, else keep.")


def _masking_seeds(exercise_id: str, answer, original, tokenizer) -> bool | None:
    """Exercise 3.1, last part: the same generator seed gives the same result, another seed another one."""
    import torch

    small = original[:200]
    runs = []
    for seed in (1, 1, 2):
        ok, out = _call_student(exercise_id, answer, "my_mask_tokens", "a second call", small.clone(), tokenizer,
                                torch.Generator().manual_seed(seed))
        if not ok:
            return out
        runs.append(tuple(torch.as_tensor(t).long() for t in out))
    if not all(torch.equal(a, b) for a, b in zip(runs[0], runs[1])):
        return _report(exercise_id, False, "two calls with the same generator seed gave different results: draw "
                                           "every random number from `generator` (`torch.rand(..., "
                                           "generator=generator)`, `torch.randint(..., generator=generator)`).")
    if all(torch.equal(a, b) for a, b in zip(runs[0], runs[2])):
        return _report(exercise_id, False, "two different generator seeds gave the same result: use the "
                                           "`generator` passed in, rather than a fixed seed of your own.")
    return None


@register("3.2")
def pretraining_losses_by_hand(answer: Any, *, batch, output, tokenizer=None, exercise_id: str = "3.2") -> bool:
    """Exercise 3.2: ``(mlm_loss, nsp_loss)`` computed by hand from a ``BertForPreTraining`` output and its batch.

    ``batch`` holds ``labels`` (-100 where there is no MLM target) and ``next_sentence_label``; ``output`` holds
    ``prediction_logits`` and ``seq_relationship_logits``. The MLM loss is the mean of -log softmax(logits)[label]
    over the N positions whose label is not -100; the NSP loss is the mean two-class cross-entropy. Recognises
    the slips: averaging over every position, only the ``[MASK]`` positions (with ``tokenizer``), a sum, a mean of
    per-sequence means, the softmax over the wrong axis, the sign, other log bases, NSP labels read the wrong way
    round, the two losses swapped, and their sum given as one number.
    """
    import torch

    if batch is None or output is None:
        raise TypeError("pretraining_losses_by_hand needs the batch and the model's output: batch=pair_batch, "
                        "output=out")
    if answer is None:
        return _not_answered(exercise_id, "the two losses, `answer = (mlm_loss, nsp_loss)`")
    logits = output.prediction_logits.detach().float()
    labels = batch["labels"]
    nsp_logits = output.seq_relationship_logits.detach().double()
    nsp_labels = batch["next_sentence_label"].reshape(-1)
    keep = labels != -100
    log_p = torch.log_softmax(logits[keep].double(), dim=-1).gather(1, labels[keep].unsqueeze(1)).squeeze(1)
    mlm = float(-log_p.mean())
    nsp_log_p = torch.log_softmax(nsp_logits, dim=-1)
    nsp = float(-nsp_log_p.gather(1, nsp_labels.unsqueeze(1)).mean())
    single = _as_number(answer)
    if single is not None:
        if _close(single, mlm + nsp, 1e-4):
            return _report(exercise_id, False, "this is the total L_MLM + L_NSP: give the two losses separately, "
                                               "`answer = (mlm_loss, nsp_loss)`.")
        return _report(exercise_id, False, "give the two losses as a pair, `answer = (mlm_loss, nsp_loss)`.")
    values = _as_numbers(answer, 2)
    if values is None:
        return _report(exercise_id, False, f"the answer should be two numbers, `(mlm_loss, nsp_loss)`, not a "
                                           f"{_type_name(answer)}.")
    got_mlm, got_nsp = values
    if _close(got_mlm, nsp, 1e-4) and _close(got_nsp, mlm, 1e-4):
        return _report(exercise_id, False, "the two losses are swapped: `answer = (mlm_loss, nsp_loss)`.")
    mlm_ok, nsp_ok = _close(got_mlm, mlm, 1e-4), _close(got_nsp, nsp, 1e-4)
    if mlm_ok and nsp_ok:
        n = int(keep.sum())
        return _report(exercise_id, True, f"correct: L_MLM = {mlm:.4f} (the mean over the N = {n} chosen "
                                          f"positions, [MASK], random and kept alike), L_NSP = {nsp:.4f} (the mean "
                                          f"over {len(nsp_labels)} pairs); their sum is the pretraining loss "
                                          "BertForPreTraining returns.")
    if not mlm_ok:
        return _mlm_loss_verdict(exercise_id, got_mlm, mlm, log_p, logits, batch, tokenizer)
    return _nsp_loss_verdict(exercise_id, got_nsp, nsp, nsp_log_p, nsp_labels)


def _mlm_loss_verdict(exercise_id: str, got_mlm: float, mlm: float, log_p, logits, batch, tokenizer) -> bool:
    """Exercise 3.2: the verdict on a wrong MLM loss ``got_mlm`` (the right one is ``mlm``; ``log_p`` holds the
    log-probability of each label at the labelled positions), naming the slip when it is a known one."""
    import torch

    labels = batch["labels"]
    keep = labels != -100
    per_position = -log_p
    rows = keep.nonzero()[:, 0]
    per_sequence = torch.stack([per_position[rows == r].mean() for r in rows.unique()])
    slips = [
        (float(per_position.sum()) / labels.numel(), "this averages over every position of the batch: N counts "
                                                     "only the positions whose label is not -100."),
        (float(per_position.sum()), "this is a sum: divide by N, the number of labelled positions."),
        (float(per_sequence.mean()), "this is a mean of per-sequence means: average over all N labelled "
                                     "positions of the batch at once."),
        (-mlm, "the sign is wrong: the loss is *minus* the mean log-probability, a positive number."),
        (mlm / math.log(10), "this uses a base-10 logarithm; the loss uses the natural log."),
        (mlm / math.log(2), "this uses a base-2 logarithm; the loss uses the natural log."),
    ]
    if tokenizer is not None and "input_ids" in batch:
        only_mask = batch["input_ids"][keep] == tokenizer.mask_token_id
        if bool(only_mask.any()) and not bool(only_mask.all()):
            slips.insert(0, (float(per_position[only_mask].mean()),
                             "this averages over the [MASK] positions only: N counts *every* chosen position "
                             "(label not -100), also those that got a random token or stayed unchanged."))
    wrong_axis = torch.log_softmax(logits, dim=1)
    if logits.dim() == 3 and labels.dim() == 2:
        idx = labels.clamp(min=0).unsqueeze(-1)
        slips.append((float(-wrong_axis.gather(2, idx).squeeze(-1)[keep].double().mean()),
                      "the softmax runs over the wrong axis: over the vocabulary, `dim=-1`."))
    hint = _slip_hint(got_mlm, slips, 1e-4)
    if hint:
        return _report(exercise_id, False, f"the MLM loss is not right: {hint}")
    return _report(exercise_id, False, f"{got_mlm:.4f} is not the MLM loss. Hint: keep the positions whose "
                                       "label is not -100, take `torch.log_softmax(logits, dim=-1)` there, "
                                       "read the log-probability of each label (`.gather`), and average "
                                       "minus it.")


def _nsp_loss_verdict(exercise_id: str, got_nsp: float, nsp: float, nsp_log_p, nsp_labels) -> bool:
    """Exercise 3.2: the verdict on a wrong NSP loss ``got_nsp`` when the MLM loss is right (the right one is
    ``nsp``; ``nsp_log_p`` holds the log-probabilities of the two classes of each pair)."""
    flipped = float(-nsp_log_p.gather(1, (1 - nsp_labels).unsqueeze(1)).mean())
    nsp_slips = [(flipped, "the labels are read the wrong way round: label 0 is IsNext (column 0 of the logits) "
                           "and 1 is NotNext (column 1); gather with the labels as they are."),
                 (nsp * len(nsp_labels), "this is a sum: take the mean over the pairs."),
                 (-nsp, "the sign is wrong: the loss is *minus* the mean log-probability.")]
    hint = _slip_hint(got_nsp, nsp_slips, 1e-4)
    if hint:
        return _report(exercise_id, False, f"the MLM loss is right, but the NSP loss is not: {hint}")
    return _report(exercise_id, False, f"the MLM loss is right, but {got_nsp:.4f} is not the NSP loss. Hint: "
                                       "`torch.log_softmax` over the two logits of each pair, the log-probability "
                                       "of its label, minus the mean.")


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
            return _report(exercise_id, False, "return the two lists as a pair, `return input_ids, token_type_ids`, "
                                               "not a dict.")
        try:
            got_ids, got_types = got
            got_ids = [x for x in (got_ids.tolist() if torch.is_tensor(got_ids) else list(got_ids))]
            got_types = [x for x in (got_types.tolist() if torch.is_tensor(got_types) else list(got_types))]
        except (TypeError, ValueError):
            return _report(exercise_id, False, f"your function should return a pair of lists (input_ids, "
                                               f"token_type_ids), not a {_type_name(got)}.")
        if got_ids and all(isinstance(x, str) for x in got_ids):
            return _report(exercise_id, False, "your function returns tokens (strings): turn them into ids with "
                                               "`tokenizer.convert_tokens_to_ids`.")
        if got_ids == types and got_types == ids:
            return _report(exercise_id, False, "the two results are in the wrong order: return "
                                               "`input_ids, token_type_ids`.")
        if got_ids != ids:
            return _report(exercise_id, False, f"{where} the input ids are not right: "
                                               f"{_pair_ids_hint(got_ids, ids, tokenizer)}")
        if len(got_types) != len(ids):
            return _report(exercise_id, False, f"{where} there are {len(ids)} tokens but {len(got_types)} segment ids: "
                                               "give one segment id per token.")
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
    return _report(exercise_id, True, f"correct on {len(cases)} pairs: [CLS] A [SEP] B [SEP], with segment 0 up to "
                                      "and including the first [SEP] and 1 after it, exactly as `tokenizer(a, b)` "
                                      "encodes a pair.")


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
        return ("there is more than one [CLS]: `tokenizer.encode(text)` adds [CLS] and [SEP] itself; "
                "use `tokenizer.tokenize` and `tokenizer.convert_tokens_to_ids`.")
    i = next((k for k, (x, y) in enumerate(zip(got_ids, ids)) if x != y), min(len(got_ids), len(ids)))
    expect = tokenizer.convert_ids_to_tokens(ids[i]) if i < len(ids) else "the end"
    return (f"the ids differ from the tokenizer's from position {i} on (expected {expect!r} there). The "
            "layout is [CLS], the tokens of A, [SEP], the tokens of B, [SEP].")
