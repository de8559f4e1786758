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
same ``{names}``; ``tests/test_i18n.py`` checks that every entry's names match, and that every message of the
checkers (``helpers/exercises/guards.py``, ``ch1.py`` ... ``ch7.py``) has an entry. The first template that matches
wins, so a message's template comes before the templates of the pieces it is built from (a case's name, a hint).
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


_CH5_PRECISION_HINTS_ZH: dict[str, str] = {
    "the precision is the overall accuracy: use the column of this class only": "精确率用成了整体准确率：只用这个类别的那一列",
    "the precision is the macro average over all classes: give this class's only": "精确率用成了所有类别的宏平均：只给出这个类别的",
    "the precision is another class's: check the index of {label} in the class names ({index})": "精确率是另一个类别的：检查 {label} 在类别名中的索引（{index}）",
}
"""Exercise 5.1: what is wrong with the precision (at most one of these)."""
_CH5_RECALL_HINTS_ZH: dict[str, str] = {
    "the recall is the macro average: give this class's only": "召回率用成了宏平均：只给出这个类别的",
    "the recall is another class's: check the index of {label}": "召回率是另一个类别的：检查 {label} 的索引",
}
"""Exercise 5.1: what is wrong with the recall (at most one of these)."""
_CH5_OTHER_HINTS_ZH: dict[str, str] = {
    "F1 is the harmonic mean 2PR / (P + R), not the arithmetic mean (P + R) / 2": "F1 是调和平均 2PR / (P + R)，而不是算术平均 (P + R) / 2",
    "precision and recall are right, but F1 = 2PR / (P + R) = 2TP / (2TP + FP + FN)": "精确率和召回率都对了，但 F1 = 2PR / (P + R) = 2TP / (2TP + FP + FN)",
    "from `cm = confusion_matrix(y_true, y_pred)` and c = {c} (the index of {label}): TP = cm[c, c], FP = the rest of column c, FN = the rest of row c": "由 `cm = confusion_matrix(y_true, y_pred)` 和 c = {c}（{label} 的索引）得：TP = cm[c, c]，FP = 第 c 列的其余部分，FN = 第 c 行的其余部分",
}
"""Exercise 5.1: what is wrong with F1, or the general hint (never with another)."""
_CH5_HINTS_ZH = {**_CH5_PRECISION_HINTS_ZH, **_CH5_RECALL_HINTS_ZH, **_CH5_OTHER_HINTS_ZH}
_CH5_HINTS_ZH_END = {
    # the checker joins its hints with "; " and ends them with "." ("not quite: HINT; HINT."): at most a precision
    # hint and a recall hint come together
    **{k + ".": v + "。" for k, v in _CH5_HINTS_ZH.items()},
    **{
        f"{p}; {r}.": f"{zp}；{zr}。"
        for p, zp in _CH5_PRECISION_HINTS_ZH.items()
        for r, zr in _CH5_RECALL_HINTS_ZH.items()
    },
    **_CH5_HINTS_ZH,
}
"""Exercise 5.1's hints as they come alone, joined, and as the pieces the checker builds them from."""

MESSAGES_ZH: dict[str, str] = {
    # helpers.exercises.guards: the shared verdicts
    "Exercise {id}: {message}": "练习 {id}：{message}",
    "no answer yet. Replace the `None` in the cell above with {what}, run that cell, then run this one again.": "还没有答案。把上面单元格里的 `None` 换成{what}，运行那个单元格，再运行这一个。",
    "`{name}` is not written yet: replace the `raise NotImplementedError` line in the cell above with your code, "
    "run that cell, then this one again.": "`{name}` 还没有写：把上面单元格里 `raise NotImplementedError` 那一行换成你的代码，运行那个单元格，"
    "再运行这一个。",
    "your function (write `def {name}({signature}): ...` and pass `{name}`)": "你的函数（写出 `def {name}({signature}): ...`，并传入 `{name}`）",
    "pass the function itself (`{name}`, without brackets), not a {type}.": "请传入函数本身（`{name}`，不带括号），而不是一个 {type}。",
    "on {what}, your function raised {error}: {detail} (line {line}).": "在{what}上，你的函数抛出了 {error}：{detail}（第 {line} 行）。",
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
    # helpers.exercises.ch1 (exercise 1.1, the rest)
    "correct. '{word}' occurs in {df} of the {n} training texts, so its idf is ln({n1} / {df1}) + 1 = {right}. A word "
    "in every text would get idf 1, the smallest possible. `sublinear_tf=True` changes only the term frequency, so "
    "this idf is the same with it or without it.": "正确。'{word}' 出现在 {n} 篇训练文本中的 {df} 篇里，所以它的 idf 是 ln({n1} / {df1}) + 1 = {right}。"
    "出现在每篇文本中的词 idf 为 1，这是最小的可能值。`sublinear_tf=True` 只改变词频，所以不管用不用它，这个 idf 都一样。",
    "this is the share of texts containing the word; the idf is ln((1 + n) / (1 + df)) + 1.": "这是包含这个词的文本所占的比例；idf 是 ln((1 + n) / (1 + df)) + 1。",
    "Hint: tokenise each text the way the vectoriser does (`tfidf.build_analyzer()` gives that function), count the "
    "texts whose tokens include '{word}' (df), and use n = {n}.": "提示：按向量化器的方式切分每篇文本（`tfidf.build_analyzer()` 给出这个函数），数出词元中包含 '{word}' 的文本数（df），"
    "并取 n = {n}。",
    "very close: check the tokenisation (lower case; `tfidf.build_analyzer()` is scikit-learn's own).": "非常接近：检查一下切分方式（小写；`tfidf.build_analyzer()` 就是 scikit-learn 自己的切分）。",
    # helpers.exercises.ch1 (exercise 1.2)
    "the answer should be one number (the macro-F1), but it is a {type}. Hint: average the per-class F1 scores.": "答案应该是一个数（宏平均 F1），但它是一个 {type}。提示：对各类别的 F1 分数求平均。",
    "correct: macro-F1 = {right}, the plain mean of the per-class F1 scores ({scores}). Every class counts the same, "
    "however many texts it has.": "正确：宏平均 F1 = {right}，即各类别 F1 分数（{scores}）的简单平均。不管一个类别有多少文本，每个类别的分量都一样。",
    "that is the macro-F1 as a percentage: give it as a fraction between 0 and 1.": "这是百分数形式的宏平均 F1：请写成 0 到 1 之间的小数。",
    "this is the accuracy (which is also the micro-F1). Macro-F1 computes an F1 score per class first.": "这是准确率（也就是微平均 F1）。宏平均 F1 要先为每个类别计算一个 F1 分数。",
    "this is the *weighted* F1, which weights each class by its number of texts; macro-F1 takes the plain, unweighted "
    "mean.": "这是*加权* F1，它按每个类别的文本数加权；宏平均 F1 取的是不加权的简单平均。",
    "this is the macro *precision*; F1 is 2PR / (P + R) per class, then the mean.": "这是宏平均*精确率*；F1 是先对每个类别算 2PR / (P + R)，再求平均。",
    "this is the macro *recall*; F1 is 2PR / (P + R) per class, then the mean.": "这是宏平均*召回率*；F1 是先对每个类别算 2PR / (P + R)，再求平均。",
    "this is the F1 of class {c} only: compute it for every class and average.": "这只是类别 {c} 的 F1：请为每个类别计算，再求平均。",
    "{value} cannot be an F1 score, which lies between 0 and 1.": "{value} 不可能是 F1 分数，F1 分数在 0 到 1 之间。",
    "{value} is not the macro-F1. Hint: for each class c, precision = TP / (TP + FP) and recall = TP / (TP + FN) with "
    "c as the positive class; F1 = 2PR / (P + R); then the mean over the classes. Predict with "
    "`model.predict(texts)`.": "{value} 不是宏平均 F1。提示：对每个类别 c，把 c 当作正类，精确率 = TP / (TP + FP)，召回率 = TP / (TP + FN)；"
    "F1 = 2PR / (P + R)；然后对各类别求平均。用 `model.predict(texts)` 做预测。",
    # helpers.exercises.ch1 (exercise 1.3)
    "the input {words}": "输入 {words}",
    "your function returned None for {words}. {hint}": "对于 {words}，你的函数返回了 None。{hint}",
    "It seems to change the list in place: build a new list and return it.": "它似乎在原地修改了列表：请构造一个新列表并返回它。",
    "Did you forget the `return`?": "是不是忘了写 `return`？",
    "your function changed its input list ({words} became {given}); build and return a new list instead.": "你的函数修改了输入的列表（{words} 变成了 {given}）；请改为构造并返回一个新列表。",
    "your function should return a list of words, not a {type}.": "你的函数应当返回词的列表，而不是一个 {type}。",
    "for {words} the result should be {expected}, but your function returned {got}. {hint}": "对于 {words}，结果应当是 {expected}，但你的函数返回了 {got}。{hint}",
    "for {words} the result should be {expected}, but your function returned {got}.": "对于 {words}，结果应当是 {expected}，但你的函数返回了 {got}。",
    "The output must have one item per input item (mark words, do not add or drop any).": "输出中每个输入项都要对应一项（只给词加标记，不要增加或删除任何项）。",
    "A negation word itself stays as it is (it starts a new scope).": "否定词本身保持不变（它开始一个新的作用范围）。",
    "Punctuation is never marked: it ends the scope.": "标点从不加标记：它结束作用范围。",
    "The scope ends at the next punctuation item (. , ; : ! ?).": "作用范围在下一个标点项（. , ; : ! ?）处结束。",
    "Every word after the negation is marked, not only the first one, until punctuation.": "否定词之后直到标点的每个词都要加标记，而不只是第一个。",
    "correct on all {n} test inputs. With this marking, 'bad' and 'not_bad' are different columns of the bag of "
    "words.": "全部 {n} 个测试输入都正确。有了这种标记，'bad' 和 'not_bad' 就是词袋中不同的两列。",
    # helpers.exercises.ch2 (exercise 2.1)
    "your function returned None: return `output, weights`.": "你的函数返回了 None：请返回 `output, weights`。",
    "your function returned one tensor: return both, as `return output, weights`.": "你的函数只返回了一个张量：请两个都返回，写成 `return output, weights`。",
    "your function should return a pair (output, weights), not a {type}.": "你的函数应当返回一对 (output, weights)，而不是一个 {type}。",
    "both results should be tensors: (output, weights).": "两个结果都应当是张量：(output, weights)。",
    "the two results are in the wrong order: return `output, weights`.": "两个结果的顺序反了：请返回 `output, weights`。",
    "on {name} the weights should have shape {expected} (..., queries, keys), not {got}. Hint: the scores are "
    "`q @ k.transpose(-2, -1)`.": "在{name}上，权重的形状应当是 {expected}（..., 查询, 键），而不是 {got}。提示：分数是 `q @ k.transpose(-2, -1)`。",
    "on {name} the output should have shape {expected}, not {got}. Hint: output = weights @ v.": "在{name}上，输出的形状应当是 {expected}，而不是 {got}。提示：output = weights @ v。",
    "the mask is ignored: padded keys still get weight. Set their scores to -inf before the softmax, e.g. "
    "`scores.masked_fill(~mask, float('-inf'))`.": "掩码被忽略了：填充的键仍然得到了权重。请在 softmax 之前把它们的分数设为 -inf，例如 "
    "`scores.masked_fill(~mask, float('-inf'))`。",
    "the weights are not scaled: divide the scores by sqrt(d_k) = sqrt({d}) before the softmax.": "权重没有缩放：请在 softmax 之前把分数除以 sqrt(d_k) = sqrt({d})。",
    "the softmax runs over the wrong axis: each *row* (one query, all keys) must sum to 1, so use `dim=-1`.": "softmax 作用在了错误的轴上：每一*行*（一个查询，所有键）之和必须为 1，所以请用 `dim=-1`。",
    "the weights are right but the output is not: it is the weighted average of the values, `weights @ v`.": "权重对了，但输出不对：输出是值的加权平均，即 `weights @ v`。",
    "on {name} the weights differ from softmax(q k^T / sqrt(d_k)) (largest difference {diff}). Hint: check the "
    "transpose of k and the scaling.": "在{name}上，权重与 softmax(q k^T / sqrt(d_k)) 不同（最大差值 {diff}）。提示：检查 k 的转置和缩放。",
    "random q, k, v ({texts} texts, {heads} heads, {queries} queries, {keys} keys)": "随机的 q、k、v（{texts} 段文本，{heads} 个头，{queries} 个查询，{keys} 个键）",
    "the chapter's q, k, v of layer {layer}": "本章第 {layer} 层的 q、k、v",
    "random q, k, v with a padding mask (the second text's last two keys are padding)": "带填充掩码的随机 q、k、v（第二段文本的最后两个键是填充）",
    "correct on {n} inputs, the padding mask included: your attention matches softmax(q k^T / sqrt(d_k)) v.": "在 {n} 个输入上都正确，包括填充掩码：你的注意力与 softmax(q k^T / sqrt(d_k)) v 一致。",
    # helpers.exercises.ch2 (exercise 2.2)
    "the answer should be one integer, but it is a {type}.": "答案应该是一个整数，但它是一个 {type}。",
    "correct: {right} parameters = embeddings {emb} + {n_layers} layers x {layer} + pooler {pooler}. The token table "
    "alone is {share} of it.": "正确：{right} 个参数 = 嵌入 {emb} + {n_layers} 层 x {layer} + 池化层 {pooler}。仅词元嵌入表就占其中的 {share}。",
    "this includes the classification head ({head} parameters), which sits on top of the encoder: count `model.bert` "
    "only.": "这包括了分类头（{head} 个参数），它位于编码器之上：只统计 `model.bert`。",
    "you left out the pooler: a {d} x {d} dense layer with a bias on top of [CLS].": "你漏掉了池化层：[CLS] 之上一个 {d} x {d} 的带偏置全连接层。",
    "this is the layers only: add the embeddings (three tables and a LayerNorm) and the pooler.": "这只是各层：还要加上嵌入（三张表和一个 LayerNorm）以及池化层。",
    "this is one layer; the encoder has {n_layers} of them, plus the embeddings and the pooler.": "这是一层；编码器有 {n_layers} 层，另外还有嵌入和池化层。",
    "you left out the position table ({positions} x {d}).": "你漏掉了位置嵌入表（{positions} x {d}）。",
    "you left out the segment (token type) table ({segments} x {d}).": "你漏掉了段嵌入（词元类型）表（{segments} x {d}）。",
    "you left out the position and segment tables.": "你漏掉了位置嵌入表和段嵌入表。",
    "you left out the embeddings' LayerNorm (a gain and a bias per feature).": "你漏掉了嵌入层的 LayerNorm（每个特征一个增益和一个偏置）。",
    "you left out the two LayerNorms of every layer (gain and bias each).": "你漏掉了每一层的两个 LayerNorm（各有增益和偏置）。",
    "you left out every LayerNorm (each has a gain and a bias per feature).": "你漏掉了所有 LayerNorm（每个都有每个特征的增益和偏置）。",
    "you left out the biases of the linear layers (four in attention, two in the FFN, one in the pooler).": "你漏掉了线性层的偏置（注意力中四个，FFN 中两个，池化层中一个）。",
    "this counts only the token table and the layers' weight matrices; add the other embeddings, biases, LayerNorms "
    "and the pooler.": "这只统计了词元嵌入表和各层的权重矩阵；还要加上其他嵌入、偏置、LayerNorm 和池化层。",
    "{value} is off by {off}. Hint: embeddings = (vocabulary + positions + segments) x d_model + a LayerNorm; one "
    "layer = 4 attention matrices and biases, the FFN's two matrices and biases, two LayerNorms; then a pooler. Read "
    "the sizes from `model.config`.": "{value} 差了 {off}。提示：嵌入 = (词表 + 位置 + 段) x d_model + 一个 LayerNorm；一层 = 4 个注意力矩阵及其偏置、"
    "FFN 的两个矩阵及其偏置、两个 LayerNorm；最后是一个池化层。各个尺寸可从 `model.config` 读出。",
    # helpers.exercises.ch2 (exercise 2.3)
    "the answer should be {n_heads} numbers, one per head, not a {type}.": "答案应该是 {n_heads} 个数，每个头一个，而不是一个 {type}。",
    "this is a table for every layer; give the {n_heads} scores of layer {layer} only.": "这是所有层的表；只需给出第 {layer} 层的 {n_heads} 个分数。",
    "give one score per head: {n_heads} numbers, not {got}.": "每个头给一个分数：{n_heads} 个数，而不是 {got} 个。",
    "correct. In layer {layer}, head {best} attends most to the previous token ({score} of each word's attention on "
    "average).": "正确。在第 {layer} 层中，头 {best} 对前一个词元的注意力最多（平均占每个词注意力的 {score}）。",
    "this is the weight on the *next* token: the previous token of query i is key i - 1, `weights[h, i, i - 1]`.": "这是落在*后一个*词元上的权重：查询 i 的前一个词元是键 i - 1，即 `weights[h, i, i - 1]`。",
    "the rows of [CLS] and [SEP] are included: average over the word tokens only.": "包含了 [CLS] 和 [SEP] 的行：只对词的词元求平均。",
    "this is a sum over the words: take the mean.": "这是对各词求和：请取平均。",
    "these are not the previous-token scores. Hint: for a word at position i, take `att.weights[{layer}, h, i, i - 1]`, "
    "and average over the words (skip [CLS] and [SEP]).": "这些不是前一词元分数。提示：对位置 i 上的词，取 `att.weights[{layer}, h, i, i - 1]`，再对各词求平均（跳过 [CLS] 和 "
    "[SEP]）。",
    # helpers.exercises.ch3 (exercise 3.1)
    "correct: every row has exactly max(1, round(0.15 n)) chosen positions ({n_chosen} in all), spread over the whole "
    "row; of them {shown} (targets 0.80, 0.10, 0.10); special tokens are never chosen and a seed reproduces the "
    "result.": "正确：每一行恰好有 max(1, round(0.15 n)) 个选中位置（共 {n_chosen} 个），分布在整行上；其中 {shown}（目标 0.80、0.10、"
    "0.10）；特殊词元从不被选中，并且同一随机种子能复现结果。",
    "a batch of shape {shape}": "形状为 {shape} 的批次",
    "your function returned None: return `masked, labels`.": "你的函数返回了 None：请返回 `masked, labels`。",
    "your function returned one tensor: return both, as `return masked, labels`.": "你的函数只返回了一个张量：请两个都返回，写成 `return masked, labels`。",
    "your function should return a pair of tensors (masked, labels), not a {type}.": "你的函数应当返回一对张量 (masked, labels)，而不是一个 {type}。",
    "your function changed `input_ids` in place: work on a copy (`masked = input_ids.clone()`), since the labels need "
    "the originals.": "你的函数在原地修改了 `input_ids`：请在副本上操作（`masked = input_ids.clone()`），因为标签需要原始值。",
    "`{name}` should have the shape of the input, {expected}, not {got}.": "`{name}` 的形状应当与输入相同，即 {expected}，而不是 {got}。",
    "the two results are in the wrong order: return `masked, labels`.": "两个结果的顺序反了：请返回 `masked, labels`。",
    "every label is -100, so nothing was chosen: in a row with n tokens that are not special, choose max(1, round(0.15 "
    "n)) of them.": "每个标签都是 -100，也就是什么都没选中：在有 n 个非特殊词元的一行里，要选出其中 max(1, round(0.15 n)) 个。",
    "no label is -100: the labels must be -100 at every position that was not chosen, so that the cross-entropy "
    "ignores them.": "没有一个标签是 -100：每个未被选中的位置的标签都必须是 -100，这样交叉熵才会忽略它们。",
    "the label is the corrupted input": "标签是被破坏后的输入",
    "some labels differ from the original ids": "有些标签与原始 id 不同",
    "{hint}: at a chosen position the label is the *original* token id (`input_ids`), the token the model must "
    "recover.": "{hint}：在选中的位置上，标签是*原始*词元 id（`input_ids`），即模型必须还原的那个词元。",
    "{n} special or padding tokens ([CLS], [SEP], [PAD]) were chosen: only the other tokens may be chosen, and n counts "
    "only them. Hint: `torch.isin(input_ids, torch.tensor(tokenizer.all_special_ids))`.": "有 {n} 个特殊词元或填充词元（[CLS]、[SEP]、[PAD]）被选中了：只有其他词元可以被选中，n 也只统计它们。提示："
    "`torch.isin(input_ids, torch.tensor(tokenizer.all_special_ids))`。",
    "{n} positions with label -100 were changed: a position that is not chosen must stay as it is, and one that is "
    "changed must be labelled. {hint}": "有 {n} 个标签为 -100 的位置被改动了：未被选中的位置必须保持不变，被改动的位置必须有标签。{hint}",
    "{n} positions with label -100 were changed: a position that is not chosen must stay as it is, and one that is "
    "changed must be labelled.": "有 {n} 个标签为 -100 的位置被改动了：未被选中的位置必须保持不变，被改动的位置必须有标签。",
    "Every chosen position gets its label, also those replaced by a random token or kept as they are.": "每个选中的位置都要有标签，被替换成随机词元的和保持原样的也不例外。",
    "row {row} has {n} tokens that are not special, so it needs exactly max(1, round(0.15 x {n})) = {k} chosen "
    "positions, not {count}. Hint: {hint}": "第 {row} 行有 {n} 个非特殊词元，所以它恰好需要 max(1, round(0.15 x {n})) = {k} 个选中位置，而不是 {count} 个。"
    "提示：{hint}",
    "row {row} has {n} tokens that are not special, so it needs exactly max(1, round(0.15 x {n})) = {k} chosen "
    "positions, not {count}": "第 {row} 行有 {n} 个非特殊词元，所以它恰好需要 max(1, round(0.15 x {n})) = {k} 个选中位置，而不是 {count} 个",
    "a short row got no chosen position: every row with tokens to choose gets at least one, max(1, ...).": "有一个短行没有选中任何位置：每一行只要有可选的词元，就至少选一个，即 max(1, ...)。",
    "the count is rounded down (`int(...)`): round to the nearest whole number, `round(0.15 * n)`, and choose at least "
    "one.": "个数被向下取整了（`int(...)`）：请四舍五入到最接近的整数，即 `round(0.15 * n)`，并且至少选一个。",
    "the counts vary from row to row as a coin per token makes them (section 3.1's rule): here choose exactly k = "
    "max(1, round(0.15 n)) positions per row, e.g. the k smallest of one uniform number per position.": "个数逐行变化，就像每个词元掷一次硬币那样（3.1 节的规则）：这里每行要恰好选 k = max(1, round(0.15 n)) 个位置，"
    "例如为每个位置抽一个均匀随机数，取最小的 k 个。",
    "count only the tokens that are not special, and choose exactly max(1, round(0.15 n)) of them.": "只统计非特殊词元，并从中恰好选出 max(1, round(0.15 n)) 个。",
    "the random share is about 0.2 x 0.1: after masking 80%, the other 20% must be split half and half. Draw one "
    "uniform number u per position: u < 0.8 -> [MASK], 0.8 <= u < 0.9 -> random token, else keep.": "随机替换的比例约为 0.2 x 0.1：掩码 80% 之后，其余 20% 必须对半分。为每个位置抽一个均匀随机数 u："
    "u < 0.8 -> [MASK]，0.8 <= u < 0.9 -> 随机词元，否则保持不变。",
    "of the chosen tokens, 80% become [MASK], 10% a random token and 10% stay as they are. Draw one uniform number u "
    "per position: u < 0.8 -> [MASK], 0.8 <= u < 0.9 -> random, else keep.": "在选中的词元中，80% 变成 [MASK]，10% 变成随机词元，10% 保持不变。为每个位置抽一个均匀随机数 u："
    "u < 0.8 -> [MASK]，0.8 <= u < 0.9 -> 随机词元，否则保持不变。",
    "the counts per row are right, but the split of the chosen tokens is off: {off} (measured {shown}). Hint: {hint}": "每行的个数对了，但选中词元的划分比例不对：{off}（实测 {shown}）。提示：{hint}",
    "some random tokens are not ids of the vocabulary (0 to {last}): draw them with `torch.randint(len(tokenizer), "
    "...)`.": "有些随机词元不是词表中的 id（0 到 {last}）：请用 `torch.randint(len(tokenizer), ...)` 抽取。",
    "the {n} random replacements use only {k} different token(s): draw each one uniformly from the whole vocabulary, "
    "`torch.randint(len(tokenizer), ...)`.": "{n} 个随机替换只用到了 {k} 种不同的词元：请从整个词表中均匀抽取每一个，即 `torch.randint(len(tokenizer), ...)`。",
    "the chosen positions are not spread over the rows: on average they sit at {place} of the way along (0.5 if "
    "random), so your function takes the first tokens. Choose the k positions at random: draw one uniform number per "
    "position and take the k smallest among the eligible ones.": "选中的位置没有分布在整行上：它们平均位于行长的 {place} 处（随机的话应为 0.5），所以你的函数取的是开头的词元。"
    "请随机选出 k 个位置：为每个位置抽一个均匀随机数，在可选的位置中取最小的 k 个。",
    "the chosen positions are not spread over the rows: on average they sit at {place} of the way along (0.5 if "
    "random), so your function takes the last tokens. Choose the k positions at random: draw one uniform number per "
    "position and take the k smallest among the eligible ones.": "选中的位置没有分布在整行上：它们平均位于行长的 {place} 处（随机的话应为 0.5），所以你的函数取的是末尾的词元。"
    "请随机选出 k 个位置：为每个位置抽一个均匀随机数，在可选的位置中取最小的 k 个。",
    "the chosen positions are not spread over the rows: on average they sit at {place} of the way along (0.5 if "
    "random), so your function takes the {side} tokens. Choose the k positions at random: draw one uniform number per "
    "position and take the k smallest among the eligible ones.": "选中的位置没有分布在整行上：它们平均位于行长的 {place} 处（随机的话应为 0.5），所以你的函数取的是 {side} 词元。"
    "请随机选出 k 个位置：为每个位置抽一个均匀随机数，在可选的位置中取最小的 k 个。",
    "a second call": "第二次调用",
    "two calls with the same generator seed gave different results: draw every random number from `generator` "
    "(`torch.rand(..., generator=generator)`, `torch.randint(..., generator=generator)`).": "用同一个生成器随机种子调用两次，结果却不同：请从 `generator` 中抽取每一个随机数"
    "（`torch.rand(..., generator=generator)`、`torch.randint(..., generator=generator)`）。",
    "two different generator seeds gave the same result: use the `generator` passed in, rather than a fixed seed of "
    "your own.": "两个不同的生成器随机种子给出了相同的结果：请使用传入的 `generator`，而不是你自己固定的随机种子。",
    # helpers.exercises.ch3 (exercise 3.2)
    "the answer should be three numbers, `(loss_mask, loss_random, loss_kept)`, not a {type}.": "答案应该是三个数，`(loss_mask, loss_random, loss_kept)`，而不是一个 {type}。",
    "correct: [MASK] {mask}, random {random}, kept {kept} (over {sizes} positions). Which is lowest, and why?": "正确：[MASK] {mask}，随机 {random}，保持 {kept}（分别基于 {sizes} 个位置）。哪个最低？为什么？",
    "the three numbers are the overall L_MLM: average over each group separately.": "这三个数都是整体的 L_MLM：请在每一组内分别求平均。",
    "these are sums: take the mean within each group.": "这些是总和：请在每一组内取平均。",
    "each group's sum is divided by N, the number of all chosen positions: divide by the group's own size.": "每组的总和都除以了 N，即所有选中位置的个数：请除以该组自己的大小。",
    "the random group also holds the kept tokens: a random position is chosen, not [MASK], and its input differs from "
    "its label.": "随机组里也包含了保持不变的词元：随机位置是被选中、不是 [MASK]、且输入与标签不同的位置。",
    "the sign is wrong: the loss is *minus* the mean log-probability.": "符号错了：损失是平均对数概率的*相反数*。",
    "the right numbers in the wrong order: `answer = (loss_mask, loss_random, loss_kept)`.": "数是对的，但顺序错了：`answer = (loss_mask, loss_random, loss_kept)`。",
    "not the three losses. Hint: `chosen = labels != -100`; [MASK] positions: chosen and `input_ids == "
    "tokenizer.mask_token_id`; kept: chosen and `input_ids == labels`; random: the other chosen ones. In each group, "
    "average minus the log-softmax of the logits at the label.": "这不是那三个损失。提示：`chosen = labels != -100`；[MASK] 位置：被选中且 "
    "`input_ids == tokenizer.mask_token_id`；保持：被选中且 `input_ids == labels`；随机：其余被选中的位置。"
    "在每一组内，对标签处 logits 的 log-softmax 取负后求平均。",
    # helpers.exercises.ch3 (exercise 3.3)
    "the pair ({a}, {b})": "句子对 ({a}, {b})",
    "your function returned None: return `input_ids, token_type_ids`.": "你的函数返回了 None：请返回 `input_ids, token_type_ids`。",
    "return the two lists as a pair, `return input_ids, token_type_ids`, not a dict.": "请把两个列表作为一对返回，即 `return input_ids, token_type_ids`，而不是字典。",
    "your function should return a pair of lists (input_ids, token_type_ids), not a {type}.": "你的函数应当返回一对列表 (input_ids, token_type_ids)，而不是一个 {type}。",
    "your function returns tokens (strings): turn them into ids with `tokenizer.convert_tokens_to_ids`.": "你的函数返回的是词元（字符串）：请用 `tokenizer.convert_tokens_to_ids` 把它们转换成 id。",
    "the two results are in the wrong order: return `input_ids, token_type_ids`.": "两个结果的顺序反了：请返回 `input_ids, token_type_ids`。",
    "{where} the input ids are not right: {hint}": "{where}，输入 id 不对：{hint}",
    "{where} there are {n} tokens but {k} segment ids: give one segment id per token.": "{where}，有 {n} 个词元，却有 {k} 个段 id：每个词元给一个段 id。",
    "the segments are numbered 0 (first) and 1 (second), not 1 and 2.": "段的编号是 0（第一段）和 1（第二段），而不是 1 和 2。",
    "everything is in one segment: B and its [SEP] get segment 1.": "所有内容都在同一段里：B 和它的 [SEP] 属于段 1。",
    "the [SEP] after A closes the first segment, so it gets 0; segment 1 starts after it.": "A 之后的 [SEP] 结束第一段，所以它是 0；段 1 从它之后开始。",
    "the final [SEP] belongs to B's segment, so it gets 1.": "最后的 [SEP] 属于 B 的段，所以它是 1。",
    "the segments are the wrong way round: 0 for [CLS] A [SEP], 1 for B [SEP].": "段的编号反了：[CLS] A [SEP] 是 0，B [SEP] 是 1。",
    "0 for [CLS], A's tokens and the [SEP] after them; 1 for B's tokens and the final [SEP].": "[CLS]、A 的词元和它们之后的 [SEP] 为 0；B 的词元和最后的 [SEP] 为 1。",
    "{where} the input ids are right but the segment ids are not: {hint}": "{where}，输入 id 对了，但段 id 不对：{hint}",
    "for A = {a} and B = {b}": "对于 A = {a} 和 B = {b}",
    "correct on {n} pairs: [CLS] A [SEP] B [SEP], with segment 0 up to and including the first [SEP] and 1 after it, "
    "exactly as `tokenizer(a, b)` encodes a pair.": "在 {n} 个句子对上都正确：[CLS] A [SEP] B [SEP]，直到第一个 [SEP]（含）为段 0，之后为段 1，与 `tokenizer(a, b)` "
    "编码句子对的方式完全一样。",
    "the [CLS] token (`tokenizer.cls_token_id`) is missing at the start.": "开头缺少 [CLS] 词元（`tokenizer.cls_token_id`）。",
    "the [SEP] that ends B is missing.": "缺少结束 B 的 [SEP]。",
    "the [SEP] between A and B is missing.": "缺少 A 和 B 之间的 [SEP]。",
    "there is more than one [CLS]: `tokenizer.encode(text)` adds [CLS] and [SEP] itself; use `tokenizer.tokenize` and "
    "`tokenizer.convert_tokens_to_ids`.": "有不止一个 [CLS]：`tokenizer.encode(text)` 自己会加上 [CLS] 和 [SEP]；请用 `tokenizer.tokenize` 和 "
    "`tokenizer.convert_tokens_to_ids`。",
    "the end": "末尾",
    "the ids differ from the tokenizer's from position {i} on (expected {expect} there). The layout is [CLS], the "
    "tokens of A, [SEP], the tokens of B, [SEP].": "从位置 {i} 起，这些 id 与分词器给出的不同（那里应当是 {expect}）。排列方式是：[CLS]、A 的词元、[SEP]、B 的词元、[SEP]。",
    # helpers.exercises.ch4 (exercise 4.1)
    "the padding positions got segment 1: padding gets segment 0 (the tokenizer's `pad_token_type_id`), and the "
    "attention mask hides it anyway.": "填充位置被分到了段 1：填充属于段 0（分词器的 `pad_token_type_id`），而且注意力掩码反正会把它遮住。",
    "0 up to and including the first [SEP], 1 from there up to and including the second [SEP], 0 on the padding after "
    "it.": "直到第一个 [SEP]（含）为 0，从那里到第二个 [SEP]（含）为 1，之后的填充为 0。",
    "a padded batch of shape {shape}": "形状为 {shape} 的已填充批次",
    "your function returned None: return `attention_mask, token_type_ids`.": "你的函数返回了 None：请返回 `attention_mask, token_type_ids`。",
    "your function changed `input_ids` in place: build new tensors.": "你的函数在原地修改了 `input_ids`：请构造新的张量。",
    "your function should return a pair (attention_mask, token_type_ids), not a {type}.": "你的函数应当返回一对 (attention_mask, token_type_ids)，而不是一个 {type}。",
    "both results should be tables of 0s and 1s with the shape of `input_ids` {shape} (tensors, arrays or lists of "
    "lists).": "两个结果都应当是由 0 和 1 组成、形状与 `input_ids` 相同（{shape}）的表（张量、数组或列表的列表）。",
    "both results should have the shape of `input_ids`, {shape}; yours have {mask} and {types}.": "两个结果的形状都应当与 `input_ids` 相同，即 {shape}；你的是 {mask} 和 {types}。",
    "the two results are in the wrong order: return `attention_mask, token_type_ids`.": "两个结果的顺序反了：请返回 `attention_mask, token_type_ids`。",
    "on a batch of {n} pairs with padding": "在一个含填充的 {n} 个句子对的批次上",
    "on a batch of {n} pairs without padding": "在一个不含填充的 {n} 个句子对的批次上",
    "on a batch of {n} pairs": "在一个 {n} 个句子对的批次上",
    "with padding": "含填充",
    "without padding": "不含填充",
    "it is inverted: 1 marks a real token (attend to it) and 0 a padding position.": "它反了：1 表示真实词元（要关注它），0 表示填充位置。",
    "it is all 1s, but the padding positions (`pad_id`) must get 0.": "它全是 1，但填充位置（`pad_id`）必须是 0。",
    "1 for every position that is not padding ([CLS] and [SEP] included), 0 where `input_ids == pad_id`.": "每个非填充位置（包括 [CLS] 和 [SEP]）为 1，`input_ids == pad_id` 的位置为 0。",
    "{where} the attention mask is not right: {hint}": "{where}，注意力掩码不对：{hint}",
    "{where} the attention mask is right but the token type ids are not: {hint}": "{where}，注意力掩码对了，但词元类型 id 不对：{hint}",
    "correct on {n} padded pair batches: your attention masks and token type ids are exactly the tokenizer's (segment "
    "0 for [CLS] A [SEP], 1 for B [SEP], padding masked out and in segment 0).": "在 {n} 个已填充的句子对批次上都正确：你的注意力掩码和词元类型 id 与分词器给出的完全一样（[CLS] A [SEP] 为段 0，"
    "B [SEP] 为段 1，填充被遮住并属于段 0）。",
    # helpers.exercises.ch4 (exercise 4.2)
    "t = {t} (peak {peak}, warm-up {warm}, total {total})": "t = {t}（峰值 {peak}，预热 {warm}，总计 {total}）",
    "`lr_at` should return one number, not a {type}.": "`lr_at` 应当返回一个数，而不是一个 {type}。",
    "with peak {peak}, {warm} warm-up steps and {total} steps in all, lr_at({t})": "在峰值 {peak}、预热 {warm} 步、共 {total} 步时，lr_at({t})",
    "with peak {peak}, {warm} warm-up steps and {total} steps in all, lr_at({t}) should be {right}, not {value}: "
    "{hint}": "在峰值 {peak}、预热 {warm} 步、共 {total} 步时，lr_at({t}) 应当是 {right}，而不是 {value}：{hint}",
    "this is a constant rate, the peak at every step: it rises during warm-up, then falls to 0.": "这是恒定的学习率，每一步都是峰值：它应当在预热期间上升，然后降到 0。",
    "this is one step ahead: t counts the steps already taken, so the first step (t = 0) uses rate 0 when there is a "
    "warm-up, and the peak is reached at t = warmup_steps.": "这提前了一步：t 统计的是已经走过的步数，所以有预热时第一步（t = 0）的学习率是 0，在 t = warmup_steps 时达到峰值。",
    "the decay runs over the steps *after* warm-up: peak * (total - t) / (total - warmup), which is the peak at t = "
    "warmup and 0 at t = total.": "衰减只发生在预热*之后*的步上：peak * (total - t) / (total - warmup)，它在 t = warmup 时为峰值，在 t = total 时为 0。",
    "there is no warm-up: during the first warmup_steps steps the rate climbs as peak * t / warmup.": "缺少预热：在前 warmup_steps 步中，学习率应按 peak * t / warmup 上升。",
    "this is off by a factor of 100: return the rate itself, not a percentage.": "这差了 100 倍：请返回学习率本身，而不是百分数。",
    "with warmup_steps = 0 there is no warm-up phase; avoid dividing by zero.": "warmup_steps = 0 时没有预热阶段；请避免除以零。",
    "during warm-up (t < warmup_steps) the rate is peak * t / warmup_steps; after it, peak * (total - t) / (total - "
    "warmup_steps); never below 0.": "预热期间（t < warmup_steps）学习率是 peak * t / warmup_steps；之后是 peak * (total - t) / (total - "
    "warmup_steps)；永远不低于 0。",
    "correct: your schedule gives every one of the {total} rates the chapter's run recorded (peak {peak} after {warm} "
    "warm-up steps, 0 at the end), and agrees with transformers' linear schedule on other settings.": "正确：你的调度给出了本章训练记录的全部 {total} 个学习率（经过 {warm} 步预热后达到峰值 {peak}，最后为 0），"
    "并且在其他设置下与 transformers 的线性调度一致。",
    "correct: your schedule gives every one of the {total} rates the chapter's run recorded (peak {peak} after {warm} "
    "warm-up step, 0 at the end), and agrees with transformers' linear schedule on other settings.": "正确：你的调度给出了本章训练记录的全部 {total} 个学习率（经过 {warm} 步预热后达到峰值 {peak}，最后为 0），"
    "并且在其他设置下与 transformers 的线性调度一致。",
    "correct: your schedule agrees with transformers' linear warm-up and decay on every step of several settings.": "正确：在几种设置的每一步上，你的调度都与 transformers 的线性预热和衰减一致。",
    # helpers.exercises.ch5 (exercise 5.1)
    "the answer should be three numbers, `(precision, recall, f1)`, not a {type}.": "答案应该是三个数，`(precision, recall, f1)`，而不是一个 {type}。",
    "of the {n} predicted {label}, the share that are {label}": "在 {n} 个预测为 {label} 的样本中，真正是 {label} 的比例",
    "nothing was predicted {label}, so 0 by convention": "没有样本被预测为 {label}，所以按惯例取 0",
    "correct: for {label}, precision = {p} ({said}), recall = {r} (of the {n} that are {label}, the share found), F1 "
    "= {f1}.": "正确：对于 {label}，精确率 = {p}（{said}），召回率 = {r}（在 {n} 个真正是 {label} 的样本中被找出的比例），F1 = {f1}。",
    "these are percentages: give fractions between 0 and 1.": "这些是百分数：请写成 0 到 1 之间的小数。",
    "precision and recall are swapped. In `confusion_matrix(y_true, y_pred)` the rows are the true classes and the "
    "columns the predictions: precision = TP / (column sum), recall = TP / (row sum).": "精确率和召回率弄反了。在 `confusion_matrix(y_true, y_pred)` 中，行是真实类别，列是预测：精确率 = TP / (列和)，"
    "召回率 = TP / (行和)。",
    **_CH5_HINTS_ZH_END,
    # helpers.exercises.ch5 (exercise 5.2)
    "the chapter's test probabilities": "本章测试集的概率",
    "random three-class probabilities, {n} bins": "随机的三分类概率，{n} 个分箱",
    "`my_mce` should return one number, not a {type}.": "`my_mce` 应当返回一个数，而不是一个 {type}。",
    "correct on {n} inputs: the largest |accuracy - confidence| over the non-empty bins of the top-label confidence. "
    "It is never below the ECE, and a bin with few examples can set it alone.": "在 {n} 个输入上都正确：按最高类别置信度分箱后，非空分箱中最大的 |准确率 - 置信度|。它永远不低于 ECE，"
    "而且一个样本很少的分箱就能单独决定它。",
    "this is the ECE, the weighted mean of the gaps: the MCE is the largest gap of a non-empty bin.": "这是 ECE，即各差距的加权平均：MCE 是非空分箱中最大的差距。",
    "this is the plain mean of the gaps: take their maximum.": "这是各差距的简单平均：请取它们的最大值。",
    "the absolute value is missing: an over-confident bin (accuracy below confidence) has a negative gap and must "
    "count too.": "缺少绝对值：过度自信的分箱（准确率低于置信度）差距为负，也必须计入。",
    "this is the overall gap |accuracy - mean confidence|: compute the gap in each bin, then the largest.": "这是整体差距 |准确率 - 平均置信度|：请计算每个分箱内的差距，再取最大值。",
    "this bins the probability of class 1; calibration error uses the top-label confidence, `probs.max(axis=1)`, and "
    "whether the *predicted* class is right.": "这是按类别 1 的概率分箱；校准误差用的是最高类别置信度 `probs.max(axis=1)`，以及*预测*类别是否正确。",
    "on {name} the MCE is {right}, not {value}. Hint: confidence = `probs.max(axis=1)`, correct = (`probs.argmax(axis=1) "
    "== labels`); bin b holds the confidences in (b / n_bins, (b + 1) / n_bins] (the first also 0); MCE = the largest "
    "|accuracy_b - confidence_b| over the non-empty bins.": "在{name}上，MCE 是 {right}，而不是 {value}。提示：置信度 = `probs.max(axis=1)`，正确 = "
    "(`probs.argmax(axis=1) == labels`)；分箱 b 包含落在 (b / n_bins, (b + 1) / n_bins] 中的置信度（第一个分箱也包含 0）；"
    "MCE = 非空分箱中最大的 |accuracy_b - confidence_b|。",
    # helpers.exercises.ch6 (exercise 6.1)
    "an article of the chapter": "本章的一篇文章",
    "your function changed its input list: build and return a new one.": "你的函数修改了输入的列表：请构造并返回一个新列表。",
    "your function returned None: return the truncated list.": "你的函数返回了 None：请返回截断后的列表。",
    "your function should return a list of ids, not a {type}.": "你的函数应当返回 id 的列表，而不是一个 {type}。",
    "on {name} (len {n}, budget {b}, head_tokens {h}): {hint}": "在{name}上（长度 {n}，预算 {b}，head_tokens {h}）：{hint}",
    "on {name} (len {n}, budget {b}, head_tokens {h})": "在{name}上（长度 {n}，预算 {b}，head_tokens {h}）",
    "{n} ids, budget {b} (fits)": "{n} 个 id，预算 {b}（放得下）",
    "{n} ids, budget {b}, head {h}": "{n} 个 id，预算 {b}，头部 {h}",
    "{n} ids, budget {b}": "{n} 个 id，预算 {b}",
    "a list that fits in the budget is returned whole, unchanged.": "放得进预算的列表应原样完整返回。",
    "with head_tokens == budget the tail is empty, but `ids[-0:]` is the whole list: use `ids[len(ids) - (budget - "
    "head_tokens):]`.": "head_tokens == budget 时尾部为空，但 `ids[-0:]` 是整个列表：请用 `ids[len(ids) - (budget - head_tokens):]`。",
    "head and tail are swapped: the first head_tokens ids come first.": "头部和尾部弄反了：前 head_tokens 个 id 要放在前面。",
    "the result has {n} ids; it must have exactly budget = {b}.": "结果有 {n} 个 id；它必须恰好有 budget = {b} 个。",
    "the first {h} ids must be the first {h} of the text.": "前 {h} 个 id 必须是文本的前 {h} 个。",
    "the last {k} ids must be the last {k} of the text.": "最后 {k} 个 id 必须是文本的最后 {k} 个。",
    "correct on {n} inputs ({n_chapter} of the chapter's articles and the edge cases): your truncation matches "
    "helpers.long_text.truncate_ids.": "在 {n} 个输入上都正确（本章的 {n_chapter} 篇文章和边界情况）：你的截断与 helpers.long_text.truncate_ids 一致。",
    # helpers.exercises.ch6 (exercise 6.2)
    "the T^2 factor is missing: multiply the KL term by temperature ** 2 (it keeps its gradients on the scale of the "
    "label term's).": "缺少 T^2 因子：请把 KL 项乘以 temperature ** 2（这让它的梯度与标签项的梯度保持在同一量级）。",
    "the KL runs the wrong way: KL(teacher || student) = sum p_teacher * (log p_teacher - log p_student). "
    "(`F.kl_div(input, target)` takes the *student's* log-probabilities as input.)": "KL 的方向反了：KL(teacher || student) = sum p_teacher * (log p_teacher - log p_student)。"
    "（`F.kl_div(input, target)` 的 input 是*学生*的对数概率。）",
    "the student's logits must be divided by T too before the softmax.": "学生的 logits 在 softmax 之前也必须除以 T。",
    "the label term uses the plain logits: CE(student_logits, labels), without the temperature.": "标签项用的是原始 logits：CE(student_logits, labels)，不带温度。",
    "this is a sum over the batch: take the mean over the texts.": "这是对整个批次求和：请对各文本取平均。",
    "the KL is averaged over every element (`reduction='mean'`): sum over the classes, then average over the texts "
    "(`reduction='batchmean'`).": "KL 是对每个元素求平均的（`reduction='mean'`）：请先对各类别求和，再对各文本求平均（`reduction='batchmean'`）。",
    "alpha weights the wrong term: alpha goes with the teacher's (soft) term, 1 - alpha with the labels.": "alpha 加权的项错了：alpha 对应教师的（软）项，1 - alpha 对应标签项。",
    "random logits ({n} texts, {k} classes), T = {t}, alpha = {alpha}": "随机 logits（{n} 段文本，{k} 个类别），T = {t}，alpha = {alpha}",
    "random logits, T = {t}, alpha = {alpha}": "随机 logits，T = {t}，alpha = {alpha}",
    "the chapter's logits, T = {t}, alpha = {alpha}": "本章的 logits，T = {t}，alpha = {alpha}",
    "`my_distillation_loss` should return one number (a 0-d tensor or a float), not a {type}.": "`my_distillation_loss` 应当返回一个数（0 维张量或浮点数），而不是一个 {type}。",
    "on {name} the loss is {right}, not {value}. Hint: p^T = softmax(logits / T); soft = sum over classes of "
    "p_teacher^T (log p_teacher^T - log p_student^T), averaged over the texts, times T^2; loss = alpha * soft + (1 - "
    "alpha) * CE(student_logits, labels).": "在{name}上，损失是 {right}，而不是 {value}。提示：p^T = softmax(logits / T)；soft = 对各类别求和 "
    "p_teacher^T (log p_teacher^T - log p_student^T)，再对各文本求平均，乘以 T^2；loss = alpha * soft + (1 - alpha) * "
    "CE(student_logits, labels)。",
    "correct on {n} inputs: your loss matches helpers.compress.distillation_loss for several temperatures and alphas "
    "(alpha = 1: teacher only; alpha = 0: labels only).": "在 {n} 个输入上都正确：在几种温度和 alpha 下，你的损失都与 helpers.compress.distillation_loss 一致（alpha = 1：只用教师；"
    "alpha = 0：只用标签）。",
    # last resort, after every specific template: a hint about one case of exercises 5.2 and 6.2
    "on {name}: {hint}": "在{name}上：{hint}",
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
