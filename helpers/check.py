"""Exercise checkers: tell a student whether an answer is right, and if not, what is wrong and a hint.

The name the notebooks import. Every exercise of the book has an id such as ``"1.2"`` (chapter 1, exercise 2)::

    import helpers.check as check

    answer = ...                        # the student's work
    check.exercise("1.2", answer, model=rt_models["tfidf_lr"], data=rt["test"]);

:func:`exercise` looks the id up in :data:`EXERCISES`, the registry that the chapter modules
``helpers/exercises/ch1.py`` ... ``ch7.py`` fill, and calls that exercise's checker. This module only re-exports
them; :mod:`helpers.exercises` explains the rules and how to add an exercise.
"""

from __future__ import annotations

from helpers.exercises import EXERCISES, exercise, register
from helpers.exercises.ch1 import NEGATION_CASES, idf_by_hand, macro_f1_by_hand, mark_negation_function
from helpers.exercises.ch2 import attention_function, encoder_parameter_count, previous_token_scores
from helpers.exercises.ch3 import NSP_CHECK_PAIRS, masking_function, pair_encoding_function, pretraining_losses_by_hand
from helpers.exercises.ch4 import learning_rate_function, pair_masks_function
from helpers.exercises.ch5 import class_scores_by_hand, ece_function
from helpers.exercises.ch6 import distillation_loss_function, head_tail_function
from helpers.exercises.ch7 import NGRAM_CASES, char_ngrams_function, unk_share_by_hand

__all__ = [
    "EXERCISES",
    "exercise",
    "register",
    "idf_by_hand",
    "macro_f1_by_hand",
    "mark_negation_function",
    "attention_function",
    "encoder_parameter_count",
    "previous_token_scores",
    "masking_function",
    "pretraining_losses_by_hand",
    "pair_encoding_function",
    "pair_masks_function",
    "learning_rate_function",
    "class_scores_by_hand",
    "ece_function",
    "head_tail_function",
    "distillation_loss_function",
    "unk_share_by_hand",
    "char_ngrams_function",
    "NEGATION_CASES",
    "NSP_CHECK_PAIRS",
    "NGRAM_CASES",
]
