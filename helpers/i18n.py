"""The reader's language (English or Simplified Chinese) for what the package itself says: quizzes and the
exercise checkers' verdicts.

The book's prose is translated by Sphinx (``locales/zh_CN``); the code and its outputs are the same in both
languages. What the package prints to a reader who runs a notebook follows :func:`language`:

* ``helpers.setup(language="zh")`` (or ``BOOK_LANGUAGE=zh`` in the environment) switches to Chinese, ``"en"``
  (the default) back to English;
* :mod:`helpers.quiz` then shows ``helpers/quizzes/zh/NN.json`` (the same question ids, options in the same order);
* every checker verdict goes through :func:`translate`, which looks the English message up in :data:`MESSAGES_ZH`,
  a catalog keyed by the message's *template* (``{name}`` marks a part filled in at run time, which is itself
  looked up again); a message with no entry is shown in English, after a Chinese label.

To translate a new checker message, add its English template and its Chinese text to :data:`MESSAGES_ZH`, with the
same ``{names}``; ``tests/test_i18n.py`` checks that every entry's names match.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache

__all__ = ["LANGUAGES", "MESSAGES_ZH", "language", "normalise", "set_language", "translate"]

LANGUAGES = ("en", "zh")
"""The languages the package speaks: English and Simplified Chinese."""

_ALIASES = {
    "en": "en",
    "english": "en",
    "en_us": "en",
    "en_gb": "en",
    "zh": "zh",
    "zh_cn": "zh",
    "zh_hans": "zh",
    "cn": "zh",
    "chinese": "zh",
    "中文": "zh",
    "简体中文": "zh",
}
_chosen: str | None = None


def normalise(value: str) -> str:
    """``"en"`` or ``"zh"`` for the usual spellings (``zh_CN``, ``zh-CN``, ``zh-Hans``, ``中文``, ``en-US``...)."""
    key = str(value).strip().lower().replace("-", "_")
    if key not in _ALIASES:
        raise ValueError(f"unknown language {value!r}: use 'en' (English) or 'zh' (简体中文).")
    return _ALIASES[key]


def set_language(value: str | None) -> str:
    """Choose the language (``None``: back to the environment's ``BOOK_LANGUAGE``, else English); returns it."""
    global _chosen
    _chosen = None if value is None else normalise(value)
    return language()


def language() -> str:
    """The language chosen with :func:`set_language` (``helpers.setup(language=...)``), else ``BOOK_LANGUAGE``,
    else ``"en"``."""
    if _chosen is not None:
        return _chosen
    return normalise(os.environ.get("BOOK_LANGUAGE", "").strip() or "en")


MESSAGES_ZH: dict[str, str] = {
    # helpers.exercises.guards: the shared verdicts
    "Exercise {id}: {message}": "练习 {id}：{message}",
    "no answer yet. Replace the `None` in the cell above with {what}, run that cell, then run this one again.": "还没有答案。把上面单元格里的 `None` 换成{what}，运行那个单元格，再运行这一个。",
    "`{name}` is not written yet: replace the `raise NotImplementedError` line in the cell above with your code, "
    "run that cell, then this one again.": "`{name}` 还没有写：把上面单元格里 `raise NotImplementedError` 那一行换成你的代码，运行那个单元格，"
    "再运行这一个。",
    "your function (write `def {name}({signature}): ...` and pass `{name}`)": "你的函数（写出 `def {name}({signature}): ...`，并传入 `{name}`）",
    "pass the function itself (`{name}`, without brackets), not a {type}.": "请传入函数本身（`{name}`，不带括号），而不是一个 {type}。",
    "on {what}, your function raised {error}: {detail}.": "在{what}上，你的函数抛出了 {error}：{detail}。",
    # helpers.exercises.ch1 (exercise 1.1)
    "the idf of '{word}' (a number)": "'{word}' 的 idf（一个数）",
    "the answer should be one number, the idf of '{word}', but it is a {type}. Hint: `answer = math.log(...) + 1`.": "答案应该是一个数，即 '{word}' 的 idf，但它是一个 {type}。提示：`answer = math.log(...) + 1`。",
    "not quite: {hint}": "还不对：{hint}",
    "{value} is not the idf of '{word}'. {hint}": "{value} 不是 '{word}' 的 idf。{hint}",
    "this is ln(n / df) + 1: scikit-learn adds 1 to both n and df (as if one extra text contained every word), so "
    "that no idf is ever infinite.": "这是 ln(n / df) + 1：scikit-learn 给 n 和 df 都加 1（好像多了一篇包含所有词的文本），"
    "所以任何 idf 都不会是无穷大。",
    "almost: the formula ends with + 1, so that words found in every text still count a little instead of being "
    "zeroed.": "差一点：公式最后还有 + 1，这样出现在每篇文本中的词仍然有一点权重，而不是变成零。",
    "this is the textbook ln(n / df): scikit-learn smooths it (1 + n, 1 + df) and adds 1.": "这是教科书上的 ln(n / df)：scikit-learn 会做平滑（1 + n，1 + df），再加 1。",
    "you used a base-10 logarithm; the formula uses the natural log (`math.log` or `np.log`).": "你用了以 10 为底的对数；公式用的是自然对数（`math.log` 或 `np.log`）。",
    "you used a base-2 logarithm; the formula uses the natural log.": "你用了以 2 为底的对数；公式用的是自然对数。",
    "df counts the texts that contain the word, not how often it occurs: use `word in set(tokens)` per text, not a "
    "count.": "df 统计的是包含这个词的文本数，而不是它出现的次数：对每篇文本用 `word in set(tokens)`，不要计数。",
    "this is df, the number of texts containing the word; now put it into the formula.": "这是 df，即包含这个词的文本数；现在把它代入公式。",
    # what the other exercises ask for ("no answer yet. Replace the `None` ... with {what}")
    "the macro-F1 (a number between 0 and 1)": "宏平均 F1（一个 0 到 1 之间的数）",
    "the number of parameters (an integer)": "参数的个数（一个整数）",
    "one score per head (a list, array or tensor)": "每个头一个分数（列表、数组或张量）",
    "the three losses, `answer = (loss_mask, loss_random, loss_kept)`": "三个损失，`answer = (loss_mask, loss_random, loss_kept)`",
    "the three numbers, `answer = (precision, recall, f1)`": "三个数，`answer = (precision, recall, f1)`",
    # helpers.exercises.ch7 (exercises 7.1 and 7.2)
    "the share of [UNK] tokens (a number between 0 and 1)": "[UNK] 词元所占的比例（一个 0 到 1 之间的数）",
    "the answer should be one number, the share of [UNK] tokens, but it is a {type}. Hint: "
    "`answer = n_unk / n_tokens`.": "答案应该是一个数，即 [UNK] 词元所占的比例，但它是一个 {type}。提示：`answer = n_unk / n_tokens`。",
    "correct. {n_unk} of the {n_tokens} tokens are [UNK] ({share}): the English model sees these characters as one "
    "and the same unknown symbol, whatever they mean.": "正确。{n_tokens} 个词元中有 {n_unk} 个是 [UNK]（{share}）：不管这些字是什么意思，英文模型看到的都是同一个"
    "未知符号。",
    "this is a percentage: give the share as a fraction between 0 and 1.": "这是百分数：请把比例写成 0 到 1 之间的小数。",
    "this is the number of [UNK] tokens; divide it by the number of tokens.": "这是 [UNK] 词元的个数；再除以词元总数。",
    "this is the share of tokens that are NOT [UNK].": "这是非 [UNK] 词元所占的比例。",
    "you counted [CLS] and [SEP] as tokens: use `tokenizer.tokenize(text)`, which leaves the special tokens out.": "你把 [CLS] 和 [SEP] 也算成了词元：请用 `tokenizer.tokenize(text)`，它不含特殊词元。",
    "this is the share of texts that hold at least one [UNK], not of tokens.": "这是至少含一个 [UNK] 的文本所占的比例，而不是词元的比例。",
    "this is the mean of the per-text shares; pool all tokens first, then divide once.": "这是各文本比例的平均值；应先把所有词元合在一起，再只做一次除法。",
    "{value} is not the share of [UNK] tokens. Hint: tokenise every text with `tokenizer.tokenize`, count the items "
    "equal to `tokenizer.unk_token` and divide by the number of all items.": "{value} 不是 [UNK] 词元所占的比例。提示：用 `tokenizer.tokenize` 切分每一段文本，数出等于 "
    "`tokenizer.unk_token` 的项，再除以所有项的个数。",
    "your function returned None for {text}. Did you forget the `return`?": "对于 {text}，你的函数返回了 None。是不是忘了写 `return`？",
    "your function returns a set: return a list, in the order of the text, with repeated n-grams kept (a vectorizer "
    "counts them).": "你的函数返回的是集合：请返回列表，按文本中的顺序排列，重复的 n-gram 也要保留（向量化器会统计它们）。",
    "your function should return a list of strings, not a {type}.": "你的函数应当返回字符串列表，而不是一个 {type}。",
    "for text={text}, n={n} the result should be {expected}, but your function returned {got}. {hint}": "当 text={text}、n={n} 时，结果应当是 {expected}，但你的函数返回了 {got}。{hint}",
    "for text={text}, n={n} the result should be {expected}, but your function returned {got}.": "当 text={text}、n={n} 时，结果应当是 {expected}，但你的函数返回了 {got}。",
    "Remove the spaces first (`''.join(text.split())`): they are not part of Chinese words.": "先去掉空格（`''.join(text.split())`）：空格不是中文词语的一部分。",
    "The last n-gram is missing: the start positions run from 0 to len(text) - n, inclusive.": "少了最后一个 n-gram：起始位置从 0 到 len(text) - n（含两端）。",
    "These are words split at spaces; a character n-gram is `n` consecutive characters.": "这些是按空格切出的词；字符 n-gram 是 `n` 个连续的字符。",
    "correct. These are the features of the character n-gram baseline: no segmenter is needed, and 不好 or 好看 become "
    "features of their own.": "正确。这正是字符 n-gram 基线的特征：不需要分词器，不好、好看这样的组合各自成为一个特征。",
}
"""English message template -> its Chinese translation (the same ``{names}``)."""


@lru_cache(maxsize=None)
def _pattern(template: str) -> re.Pattern:
    parts, seen, regex = re.split(r"\{(\w+)\}", template), set(), ""
    for i, part in enumerate(parts):
        if i % 2 == 0:
            regex += re.escape(part)
        else:  # a name used twice must match the same text twice
            regex += f"(?P={part})" if part in seen else f"(?P<{part}>.+?)"
            seen.add(part)
    return re.compile(regex, re.S)


def translate(message: str, lang: str | None = None) -> str:
    """``message`` in ``lang`` (default: :func:`language`): for Chinese, the catalog's translation of the first
    template it matches, its filled-in parts translated the same way; unchanged when nothing matches."""
    if (normalise(lang) if lang else language()) != "zh":
        return message
    for template, chinese in MESSAGES_ZH.items():
        found = _pattern(template).fullmatch(message)
        if found:
            parts = {k: translate(v, "zh") for k, v in found.groupdict().items()}
            return chinese.format(**parts)
    return message
