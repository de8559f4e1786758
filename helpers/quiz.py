"""End-of-chapter quizzes: the questions as plain data, a static HTML version and an ipywidgets version.

:data:`QUIZZES` maps a chapter (``"01"``, ``"02"``, ...) to a list of questions, each a dict with ``question``,
``options`` (a list of strings), ``answer`` (the index of the correct option) and ``explanation`` (one line).
Text may use ``backticks`` for code.

``quiz.show("01")`` in a notebook displays

* with a **live kernel** (Jupyter, JupyterLab, VS Code, Colab): one output whose MIME bundle holds the ipywidgets
  quiz (pick an option, press *Check*, read the verdict and the explanation) *and* the static HTML version as a
  fallback, so a frontend without a widget manager still shows the quiz;
* with **no one at the keyboard** (the book build, nbval, ``jupyter nbconvert --execute``): only the static HTML
  version (each answer and its explanation behind a ``<details>`` toggle). No widget is created, so no widget
  state is saved in the notebook and the built website loads no widget JavaScript (which would have to come from a
  CDN, unreachable offline): the page shows no broken widget and no script error.

Which case applies is decided by :func:`live_kernel`: headless executors (nbclient, which jupyter-book and
nbconvert use, and nbval) send every cell with ``allow_stdin=False``, whereas interactive frontends allow
``input()``. ``BOOK_QUIZ=static`` or ``BOOK_QUIZ=widget`` in the environment overrides the guess.
"""

from __future__ import annotations

import html
import os
import re
import sys
from typing import Any

__all__ = ["QUIZZES", "QuizWidget", "grade", "live_kernel", "questions", "show", "static_html", "widget"]

QUIZZES: dict[str, list[dict[str, Any]]] = {
    "01": [
        {
            "question": "What are the bag-of-words count vectors of \"The plot was good, but the acting was bad.\" "
                        "and \"The plot was bad, but the acting was good.\"?",
            "options": ["They are identical.", "They differ in the entries for `good` and `bad`.",
                        "They differ in every entry.", "They cannot be compared: the word order differs."],
            "answer": 0,
            "explanation": "Both sentences hold the same words the same number of times, and a bag of words keeps "
                           "only the counts; bigrams such as `good but` restore a little local order.",
        },
        {
            "question": "Why does the book report macro-F1 next to accuracy?",
            "options": ["Macro-F1 is always higher than accuracy.",
                        "A model cannot raise macro-F1 by neglecting a small class.",
                        "Macro-F1 needs no test split.",
                        "Macro-F1 is what logistic regression minimises during training."],
            "answer": 1,
            "explanation": "Macro-F1 is the unweighted mean of the per-class F1 scores, so every class counts the "
                           "same however few texts it has; accuracy is dominated by the large classes.",
        },
        {
            "question": "Which word gets the smallest TF-IDF weight (idf)?",
            "options": ["A word that occurs in exactly one training text.",
                        "A word that never occurs in the training texts.",
                        "A word that occurs in almost every training text.",
                        "The longest word of the text."],
            "answer": 2,
            "explanation": "idf(w) = ln((1 + n) / (1 + df(w))) + 1 shrinks as the number of texts containing w "
                           "grows; a word never seen in training has no column at all.",
        },
        {
            "question": "The TF-IDF model meets *snoozefest*, a word absent from its training split. What happens?",
            "options": ["It is split into known pieces, as WordPiece would do.",
                        "It is dropped without a trace: the text's vector ignores it.",
                        "It is mapped to the most similar known word.",
                        "It counts as a negative word, because it is unknown."],
            "answer": 1,
            "explanation": "The vectoriser has no column for it, so *a snoozefest* becomes an empty vector and gets "
                           "the model's prior; BERT's WordPiece vocabulary can spell any word.",
        },
        {
            "question": "On which split should you choose the best of the three baselines?",
            "options": ["The training split.", "The validation split.", "The test split.",
                        "Whichever split gives the highest score."],
            "answer": 1,
            "explanation": "Choosing on the test split would tune on it, and its score would no longer be an honest "
                           "estimate; the training score rewards memorising.",
        },
        {
            "question": "Which statement about long texts is true?",
            "options": ["Bag-of-words models cannot handle long texts.",
                        "Both kinds of model handle any length at the same cost.",
                        "A longer text gets a longer TF-IDF vector.",
                        "BERT reads at most 512 positions, and its attention cost grows with the square of the "
                        "length."],
            "answer": 3,
            "explanation": "A bag of words turns a text of any length into one vector of the vocabulary's size; it "
                           "is BERT that has a hard limit and a quadratic cost.",
        },
    ],
    "02": [
        {
            "question": "Why are the attention scores divided by sqrt(d_k)?",
            "options": ["To stop the gradient through the softmax from exploding.",
                        "To make every row of weights sum to 1.",
                        "To keep their variance near 1, so that the softmax does not saturate and its gradient "
                        "does not vanish.",
                        "To save memory."],
            "answer": 2,
            "explanation": "A dot product of d_k unit-variance terms has variance d_k; a saturated softmax passes "
                           "almost no gradient, and softmax can never amplify one.",
        },
        {
            "question": "What does the padding mask do?",
            "options": ["It sets the scores of padded keys to -inf before the softmax, so their weights are "
                        "exactly 0.",
                        "It removes the padding tokens from the batch.",
                        "It multiplies the attention output by the mask after the softmax.",
                        "Nothing that changes the result; it only makes attention faster."],
            "answer": 0,
            "explanation": "With the mask, a text's vectors are the same whatever else is in its batch; without it, "
                           "real tokens put weight on padding.",
        },
        {
            "question": "A text becomes twice as long. How does the memory of one head's attention weights grow?",
            "options": ["It doubles.", "It grows four times.", "It grows eight times.", "It does not change."],
            "answer": 1,
            "explanation": "One head builds an n x n matrix of weights, so doubling n quadruples it; this is the "
                           "O(n^2) cost behind BERT's 512-token limit.",
        },
        {
            "question": "With transformers 5 and the default SDPA attention, what does "
                        "`model(..., output_attentions=True)` return as attentions?",
            "options": ["The attention weights of every layer.", "An error.", "Random weights.",
                        "An empty tuple."],
            "answer": 3,
            "explanation": "The fused SDPA kernel never forms the weights; load the model with "
                           "`attn_implementation=\"eager\"` (or switch it) to get them.",
        },
        {
            "question": "Which nonlinearity does BERT's feed-forward network use?",
            "options": ["ReLU, max(0, x)", "GELU, x Phi(x)", "tanh", "The sigmoid"],
            "answer": 1,
            "explanation": "The original Transformer used ReLU; BERT uses GELU, which is smooth and lets small "
                           "negative values through.",
        },
        {
            "question": "A head puts a large weight on `[SEP]`. Does that mean `[SEP]` strongly influenced the "
                        "prediction?",
            "options": ["Yes: a weight is the token's influence.",
                        "Not necessarily: the weight multiplies a value vector that may be small, and other heads, "
                        "the residual connections and later layers mix the signal.",
                        "Only if it happens in the last layer.",
                        "Only for the [CLS] token."],
            "answer": 1,
            "explanation": "Weighting by the norm of the transformed values shows that much of the weight on special "
                           "tokens carries little; attention maps are a view, not an explanation.",
        },
    ],
    "03": [
        {
            "question": "BERT's masking has chosen 15% of the tokens; some became `[MASK]`, some a random token, some "
                        "stayed as they were. At which positions does the MLM loss score a prediction?",
            "options": ["Only where the input shows `[MASK]`.",
                        "Where the input shows `[MASK]` or a random token.",
                        "At every chosen position: `[MASK]`, random and unchanged alike.",
                        "At every position of the sequence, special tokens included."],
            "answer": 2,
            "explanation": "The labels hold the original id at every chosen position and -100 elsewhere, so N counts "
                           "all chosen positions; the cross-entropy ignores the -100 ones.",
        },
        {
            "question": "Why does BERT not replace every chosen token by `[MASK]`?",
            "options": ["`[MASK]` never occurs when the model is fine-tuned; since any visible token may be one it "
                        "has to predict, the model must build a good representation of every token.",
                        "Because it makes pretraining faster.",
                        "Because the vocabulary holds only a few `[MASK]` tokens.",
                        "To teach the model to correct spelling mistakes."],
            "answer": 0,
            "explanation": "Of the chosen tokens 80% become `[MASK]`, 10% a random token and 10% stay unchanged: the "
                           "last 20% keep the model from relying on seeing `[MASK]`.",
        },
        {
            "question": "What does next-sentence prediction (NSP) predict?",
            "options": ["The words of sentence B, one by one.",
                        "Whether B is the sentence that really follows A (IsNext) or a random sentence from "
                        "another document (NotNext), from the `[CLS]` vector.",
                        "The position of the `[SEP]` token.",
                        "The topic of the document A comes from."],
            "answer": 1,
            "explanation": "NSP is a two-way classifier on the pooled `[CLS]` vector, trained on half true and half "
                           "random pairs; it predicts nothing about the words of B.",
        },
        {
            "question": "What are the segment ids (`token_type_ids`) of `[CLS] A [SEP] B [SEP]`?",
            "options": ["0 for every token.",
                        "0 for the tokens of A, 1 for those of B, and 2 for the special tokens.",
                        "1 for `[CLS] A [SEP]` and 0 for `B [SEP]`.",
                        "0 for `[CLS] A [SEP]` and 1 for `B [SEP]`."],
            "answer": 3,
            "explanation": "The [SEP] after A closes the first segment; segment 1 starts after it and includes the "
                           "final [SEP]. `tokenizer(a, b)` builds exactly this.",
        },
        {
            "question": "Why does the chapter train the new MLM and NSP heads on a *frozen* MiniLM encoder first?",
            "options": ["Because a frozen encoder learns faster.",
                        "Random heads would send large, meaningless gradients into a good encoder; and a frozen "
                        "encoder's outputs can be computed once and cached, which makes training the heads cheap.",
                        "Because transformers cannot train an encoder and its heads together.",
                        "Because the heads share all their weights with the encoder."],
            "answer": 1,
            "explanation": "Freezing is the safe order for new heads on a good encoder, and the cached outputs at the "
                           "masked positions and at `[CLS]` make each training step a small matrix product.",
        },
        {
            "question": "A short continued-pretraining run (minutes on a CPU, a few thousand snippets) does not "
                        "measurably change the fine-tuned accuracy. What does that show?",
            "options": ["That a small run is not a free lunch; it says nothing against domain-adaptive pretraining "
                        "at the scale where gains were published.",
                        "That domain-adaptive pretraining never helps.",
                        "That the masking rule was implemented wrongly.",
                        "That MLM pretraining only helps next-sentence prediction."],
            "answer": 0,
            "explanation": "Published gains came from hours of accelerator time on millions of in-domain documents; "
                           "compare any difference with the spread between seeds before calling it an effect.",
        },
    ],    "04": [
        {
            "question": "A batch holds one text and one pair of texts, padded to the same length. What do "
                        "`attention_mask` and `token_type_ids` hold?",
            "options": ["The mask is 1 on real tokens ([CLS] and [SEP] included) and 0 on padding; the segment "
                        "ids are 0 for the single text and for `[CLS] A [SEP]`, 1 for `B [SEP]`, and 0 on padding.",
                        "The mask is 1 on padding, so that the model knows where to skip.",
                        "The segment ids number the sentences of a text 0, 1, 2, ... so a long review uses many "
                        "segments.",
                        "Both are all 1s unless `return_tensors=\"pt\"` is given."],
            "answer": 0,
            "explanation": "Attention ignores the positions where the mask is 0; BERT has only two segments, and a "
                           "single text is all segment 0.",
        },
        {
            "question": "What does `BertForSequenceClassification` put on top of the pretrained encoder?",
            "options": ["A new transformer layer per class.",
                        "Nothing: the pretrained MLM head is reused for classification.",
                        "The pooler (dense + tanh on the final `[CLS]` vector, pretrained), dropout, and a new, "
                        "randomly initialised linear layer with one output per class.",
                        "A softmax over the vocabulary followed by a lookup of the class names."],
            "answer": 2,
            "explanation": "Only the small linear classifier is new, which is why loading prints a warning about "
                           "newly initialised weights; fine-tuning then trains all the parameters.",
        },
        {
            "question": "For two classes, the loss of a freshly initialised classifier is close to ln 2 = 0.693. "
                        "Why?",
            "options": ["Because the learning rate has not warmed up yet.",
                        "Because the cross-entropy is always ln 2 before the first epoch ends.",
                        "Because the tokenizer drops half of the tokens.",
                        "The new head's weights are small, so the model says about 50/50 to every text, and "
                        "-log 0.5 = ln 2."],
            "answer": 3,
            "explanation": "The loss is the mean of -log p(true class); a model that always says 50/50 scores "
                           "exactly ln 2, and training must bring it below that to have learnt anything.",
        },
        {
            "question": "A `Dataset` calls `tokenizer(text, padding=True, return_tensors=\"pt\")` on one text at "
                        "a time, and the `DataLoader` uses the default collate function. What happens?",
            "options": ["Every text is padded to 512 tokens, which is slow but works.",
                        "`padding=True` on a single text pads nothing, so the default collate cannot stack texts "
                        "of different lengths and the first batch fails.",
                        "The texts are padded to the longest text of the dataset.",
                        "It works: the collate function pads the batch itself."],
            "answer": 1,
            "explanation": "Tokenise a whole batch in a collate function, padded to its own longest text (dynamic "
                           "padding), or use `DataCollatorWithPadding`.",
        },
        {
            "question": "Why does fine-tuning start with a learning-rate warm-up?",
            "options": ["At first the new head's gradients are large and random; big steps then would damage the "
                        "pretrained weights, so the rate climbs from 0 over the first few percent of the steps.",
                        "To let the GPU reach its full clock speed.",
                        "Because AdamW cannot start with a non-zero rate.",
                        "To make the training loss fall faster in the first epoch than in the later ones."],
            "answer": 0,
            "explanation": "Linear warm-up (here 6% of the steps) is followed by linear decay to 0 at the last step; "
                           "a constant rate has neither.",
        },
        {
            "question": "Over the epochs the training loss keeps falling while the validation loss turns up. What "
                        "should you keep?",
            "options": ["The model of the last epoch: it has seen the data most often.",
                        "The model with the lowest training loss.",
                        "The model of the epoch with the best validation score (early stopping / keep the best), "
                        "and then measure it once on the test split.",
                        "The model of the epoch with the best test score."],
            "answer": 2,
            "explanation": "A rising validation loss means the model has started to memorise its training examples; "
                           "choosing on the test split would make its score optimistic.",
        },
    ],
    "05": [
        {
            "question": "In `confusion_matrix(y_true, y_pred)` the rows are the true classes and the columns the "
                        "predictions. How do you get the precision of class c?",
            "options": ["cm[c, c] / (the sum of row c)",
                        "cm[c, c] / (the sum of column c)",
                        "cm[c, c] / (the sum of the whole matrix)",
                        "(the sum of column c) / (the sum of row c)"],
            "answer": 1,
            "explanation": "Precision asks how often the model is right when it says c: TP over everything predicted "
                           "c (the column). Row c gives the recall: TP over everything that is c.",
        },
        {
            "question": "Nine test texts in ten are negative. A model answers *negative* for every text. Which "
                        "number shows that it is useless?",
            "options": ["Its accuracy, 0.9.",
                        "Its weighted F1.",
                        "Its precision on the negative class.",
                        "Its macro-F1 and its recall on the positive class (0)."],
            "answer": 3,
            "explanation": "Accuracy and weighted F1 are dominated by the large class; macro-F1 averages the classes "
                           "equally, and the rare class's recall is 0.",
        },
        {
            "question": "What does temperature scaling change?",
            "options": ["The predicted labels, and so the accuracy.",
                        "Only the confidences: all logits are divided by one number T fitted on the validation "
                        "split, so the argmax (the prediction) stays the same.",
                        "The model's weights, by one more epoch of training.",
                        "The decision threshold of each class."],
            "answer": 1,
            "explanation": "T > 1 softens over-confident probabilities and T < 1 sharpens them; fit T on the "
                           "validation split, never on the test split.",
        },
        {
            "question": "What does the expected calibration error (ECE) with equal-width bins measure?",
            "options": ["The share of wrong predictions.",
                        "The mean of |accuracy - confidence| over the bins, each bin weighted by its share of the "
                        "examples: 0 means the stated confidence matches how often the model is right.",
                        "The area under the reliability diagram.",
                        "The cross-entropy of the test labels."],
            "answer": 1,
            "explanation": "Each bin groups predictions of similar top-label confidence and compares it with their "
                           "accuracy; scikit-learn has the reliability curve but no ECE.",
        },
        {
            "question": "Model A beats model B by 0.5 accuracy points on one seed; over three seeds the accuracy of "
                        "A varies by about 1.5 points. What can you conclude?",
            "options": ["A is better: any positive difference counts.",
                        "B is better, because A is less stable.",
                        "Nothing yet: the difference is smaller than the spread between seeds (and the test "
                        "split's standard error); compare means over several seeds.",
                        "That the test split is too large."],
            "answer": 2,
            "explanation": "A difference smaller than the noise of the measurement is not a result; report the "
                           "spread, a confidence interval, or a paired bootstrap.",
        },
        {
            "question": "Positive texts are rare. Which summary of the ranking quality is the one to watch?",
            "options": ["Average precision (the area under the precision-recall curve), whose chance level is the "
                        "share of positives.",
                        "ROC AUC: it is not affected by the rare class.",
                        "Accuracy at threshold 0.5.",
                        "The number of true negatives."],
            "answer": 0,
            "explanation": "ROC AUC counts the many easy true negatives and can look good when precision on the rare "
                           "class is poor; average precision reflects it.",
        },
    ],
    "06": [
        {
            "question": "A news article has 1,500 tokens and the model reads at most 512. Which approach reads "
                        "*every* token of it, and at what price?",
            "options": ["Head truncation: it keeps the first 510 tokens, at no extra cost.",
                        "Sliding windows: overlapping windows of 512 tokens, classified separately and combined "
                        "(mean of the probabilities or of the logits), at several forward passes per article.",
                        "Head+tail truncation: it keeps the beginning and the end.",
                        "Setting `max_length=1500`: BERT extends its position table as needed."],
            "answer": 1,
            "explanation": "Truncation costs one pass but drops the middle; windows cost one pass per window. BERT's "
                           "position table has only 512 rows.",
        },
        {
            "question": "Fine-tuning with a learning rate of 1e-3, the loss rises and the model answers one class "
                        "for everything. What is the most likely cause?",
            "options": ["Too little data: add more examples.",
                        "The rate is much too large: the first updates destroy the pretrained weights; sweep "
                        "rates on a log scale (2e-5 to 5e-5 for BERT-base) with warm-up.",
                        "Warm-up is too long.",
                        "Dropout is too low."],
            "answer": 1,
            "explanation": "Pick the rate by the validation score among a few on a log scale; a rising loss or "
                           "one-class predictions mean it is too large.",
        },
        {
            "question": "You feed the Chinese sentence 这是一个示例文本 to an English uncased BERT. What happens?",
            "options": ["The tokenizer translates it into English first.",
                        "It is split into Chinese words that the model knows.",
                        "The tokenizer raises an error.",
                        "It becomes one token per character, some of them `[UNK]`, and the model knows too "
                        "little Chinese for the prediction to mean anything: use a Chinese (or multilingual) "
                        "model."],
            "answer": 3,
            "explanation": "Tokenise a few of your own texts first: many `[UNK]`s or single characters mean that "
                           "the vocabulary does not fit the language.",
        },
        {
            "question": "Dynamic int8 quantisation of the fine-tuned model on a CPU: what does it do?",
            "options": ["It stores the weights of the linear layers as 8-bit integers and quantises the "
                        "activations on the fly; the file shrinks (the embeddings stay float32) and inference "
                        "gets faster, usually with about the same accuracy.",
                        "It retrains the model with 8-bit weights.",
                        "It removes 8 of the layers.",
                        "It makes training on a GPU faster."],
            "answer": 0,
            "explanation": "One line, no training; check the accuracy on your test set. On a GPU use half "
                           "precision instead.",
        },
        {
            "question": "What does the completeness property of integrated gradients say?",
            "options": ["The scores of all the tokens are positive.",
                        "The attention weights and the IG scores are equal.",
                        "The tokens' scores add up to f(x) - f(x'), the change of the output from the baseline "
                        "to the text (up to the error of the sum over m steps).",
                        "Every token of the vocabulary gets a score."],
            "answer": 2,
            "explanation": "That is what makes IG scores a division of a real quantity; attention weights only say "
                           "where one layer looked.",
        },
        {
            "question": "Training on short texts is slow because most positions of each batch are padding. What "
                        "helps most?",
            "options": ["Padding every text to 512 tokens, so that all batches have the same shape.",
                        "A smaller learning rate.",
                        "More epochs.",
                        "Length bucketing: batch texts of similar length (in random order), and set `max_length` "
                        "from the data."],
            "answer": 3,
            "explanation": "Padding costs as much compute as real tokens; bucketing removes most of it, and "
                           "attention's cost grows with the square of the length.",
        },
    ],
}


def questions(chapter: str) -> list[dict[str, Any]]:
    """The questions of ``chapter`` ("01", "1" or 1 all mean chapter 1), with a clear error for unknown ones."""
    key = f"{int(chapter):02d}" if str(chapter).strip().isdigit() else str(chapter).strip()
    if key not in QUIZZES:
        raise KeyError(f"no quiz for chapter {chapter!r}; quizzes exist for {', '.join(sorted(QUIZZES))}.")
    return QUIZZES[key]


def _chapter_key(chapter: str) -> str:
    questions(chapter)
    return f"{int(chapter):02d}" if str(chapter).strip().isdigit() else str(chapter).strip()


def grade(chapter: str, index: int, choice: int | str | None) -> tuple[bool, str]:
    """Grade one answer: ``choice`` is an option's index or its text. Returns ``(correct, message)``."""
    qs = questions(chapter)
    if not 0 <= index < len(qs):
        raise IndexError(f"chapter {chapter} has questions 0 to {len(qs) - 1}, not {index}.")
    q = qs[index]
    if choice is None:
        return False, "Pick an option first."
    if isinstance(choice, str):
        if choice not in q["options"]:
            raise ValueError(f"{choice!r} is not one of the options of question {index + 1}.")
        choice = q["options"].index(choice)
    if not 0 <= int(choice) < len(q["options"]):
        raise IndexError(f"question {index + 1} has options 0 to {len(q['options']) - 1}, not {choice}.")
    if int(choice) == q["answer"]:
        return True, f"Correct. {q['explanation']}"
    return False, "Not quite. Think again and try another option."


def _inline(text: str) -> str:
    """Escape text for HTML; `code` becomes <code>code</code> and *word* becomes <em>word</em>."""
    out = html.escape(text, quote=False)
    out = re.sub(r"`([^`]+)`", r"<code>\1</code>", out)
    return re.sub(r"\*([^*\s][^*]*)\*", r"<em>\1</em>", out)


def _plain(text: str) -> str:
    """Text for a widget label (no markup): backticks and asterisks removed."""
    return text.replace("`", "").replace("*", "")


def static_html(chapter: str) -> str:
    """The quiz as static HTML: the questions and options, each answer and explanation behind a <details> toggle."""
    key = _chapter_key(chapter)
    parts = [f'<div class="bertbook-quiz" data-chapter="{key}">',
             f"<p><strong>Quiz: chapter {int(key) if key.isdigit() else key}</strong>. Answer each question in "
             "your head, then open <em>Show the answer</em>.</p>", "<ol>"]
    for q in questions(key):
        letters = "abcdefghij"
        options = "".join(f"<li>{_inline(o)}</li>" for o in q["options"])
        right = q["answer"]
        parts.append(f'<li class="bertbook-quiz-question"><p>{_inline(q["question"])}</p>'
                     f'<ol type="a">{options}</ol>'
                     f"<details><summary>Show the answer</summary><p><strong>Answer: {letters[right]}) "
                     f"{_inline(q['options'][right])}</strong> {_inline(q['explanation'])}</p></details></li>")
    parts.append("</ol></div>")
    return "\n".join(parts)


class QuizWidget:
    """The ipywidgets quiz of one chapter: per question, radio buttons, a *Check* button and a feedback line.

    ``radios[i]``, ``buttons[i]`` and ``feedback[i]`` are question i's widgets; ``score`` shows how many are
    answered correctly; ``box`` is the whole quiz (display it). :meth:`check` is the buttons' callback.
    """

    def __init__(self, chapter: str):
        import ipywidgets as widgets

        self.chapter = _chapter_key(chapter)
        self.questions = questions(self.chapter)
        self.correct = [False] * len(self.questions)
        self.radios, self.buttons, self.feedback = [], [], []
        rows = [widgets.HTML(f"<b>Quiz: chapter {int(self.chapter) if self.chapter.isdigit() else self.chapter}"
                             "</b>. Pick an answer and press <i>Check</i>.")]
        for i, q in enumerate(self.questions):
            radio = widgets.RadioButtons(options=[(_plain(o), k) for k, o in enumerate(q["options"])], value=None,
                                         layout=widgets.Layout(width="max-content"))
            button = widgets.Button(description="Check", button_style="primary")
            note = widgets.HTML("")
            button.on_click(lambda _button, i=i: self.check(i))
            self.radios.append(radio)
            self.buttons.append(button)
            self.feedback.append(note)
            rows.append(widgets.VBox([widgets.HTML(f"<p><b>{i + 1}.</b> {_inline(q['question'])}</p>"), radio,
                                      widgets.HBox([button, note])]))
        self.score = widgets.HTML(self._score_text())
        rows.append(self.score)
        self.box = widgets.VBox(rows)

    def _score_text(self) -> str:
        return f"Score: {sum(self.correct)} of {len(self.questions)} answered correctly."

    def check(self, index: int) -> bool:
        """Grade question ``index`` with the option selected now; update its feedback line and the score."""
        ok, message = grade(self.chapter, index, self.radios[index].value)
        colour = "#1a7f37" if ok else "#b35900"
        mark = "✓" if ok else "✗"
        self.feedback[index].value = f'<span style="color:{colour}">{mark} {_inline(message)}</span>'
        if self.radios[index].value is not None:
            self.correct[index] = ok
        self.score.value = self._score_text()
        return ok


def widget(chapter: str) -> QuizWidget:
    """Build (without displaying) the ipywidgets quiz of ``chapter``."""
    return QuizWidget(chapter)


def live_kernel() -> bool:
    """True when a person can interact with this kernel (so widgets make sense), False for headless execution.

    ``BOOK_QUIZ=widget`` / ``BOOK_QUIZ=static`` force the answer. Otherwise: Colab is always live; plain Python (no
    IPython kernel) is not; in an IPython kernel, the current cell was sent with ``allow_stdin`` true by every
    interactive frontend and false by nbclient (jupyter-book, nbconvert) and nbval.
    """
    forced = os.environ.get("BOOK_QUIZ", "").strip().lower()
    if forced in {"widget", "widgets", "live"}:
        return True
    if forced in {"static", "html"}:
        return False
    if "google.colab" in sys.modules:
        return True
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    return bool(getattr(kernel, "_allow_stdin", False)) if kernel is not None else False


def show(chapter: str, interactive: bool | None = None) -> QuizWidget | None:
    """Display the quiz of ``chapter``: widgets plus a static fallback when live, the static HTML otherwise.

    ``interactive`` forces one or the other (default: :func:`live_kernel`). Returns the :class:`QuizWidget` when
    one was shown, else None.
    """
    from IPython.display import HTML, display

    page = static_html(chapter)
    if interactive is None:
        interactive = live_kernel()
    if not interactive:
        display(HTML(page))
        return None
    try:
        quiz = QuizWidget(chapter)
        bundle = quiz.box._repr_mimebundle_() or {}
    except ImportError:  # ipywidgets is missing: the static version still works
        display(HTML(page))
        return None
    bundle = dict(bundle)
    bundle["text/html"] = page  # shown by frontends that cannot render widgets
    bundle["text/plain"] = f"Quiz: chapter {chapter} ({len(quiz.questions)} questions)"
    display(bundle, raw=True)
    return quiz
