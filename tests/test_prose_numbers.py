"""No result is typed by hand in a chapter's prose: numbers come from the run (glued), or they are not results.

A rerun can contradict a typed number; a glued one is always the run's. This test finds every number in the
chapters' markdown cells after removing what may hold digits:

* glue and other roles (``{glue:text}`name```, ``{numref}`...```), inline code, math (``$...$``), links, URLs, HTML
  tags and MyST directive options (``:width: 80%``);
* section numbers in headings, and references such as §2.3, chapter 4, chapters 4 to 6, Figure 2.1, Table 4.1,
  Exercise 3.1, step 1, seed 000;
* a paragraph that cites a paper (a ``{cite}`` role in it): its numbers are quoted from the cited work.

What is left must be a whole number from 0 to 10, one of ``CONSTANTS`` (constants of the method or of the models
the book names), or listed with a reason in the notebook's metadata, ``metadata.book.typed_numbers``:
``{"1,024": "the rows of GPT-2's position table, quoted from ..."}``. Anything else is a result typed by hand: glue
it, or say what the run is expected to show and glue the number that settles it.
"""

import re

import pytest
from notebook_tools import CHAPTERS, load, source

CONSTANTS = {
    "512": "BERT's position table: the longest input",
    "15%": "the masking rate of MLM",
    "80/10/10": "the masking split of MLM",
    "80%": "the masking split",
    "10%": "the masking split",
    "0.15": "the masking rate",
    "0.8": "the masking split",
    "0.1": "the masking split",
    "50%": "NSP's share of random pairs",
    "50/50": "NSP's split of pairs",
    "0.5": "a probability one half (NSP's random pair, a decision threshold)",
    "12": "BERT-base's layers and heads",
    "768": "BERT-base's width",
    "110M": "BERT-base's parameters",
    "340M": "BERT-large's parameters",
    "30,522": "BERT's uncased vocabulary",
    "1e-4": "a learning rate",
    "1e-5": "a learning rate",
    "2e-5": "the BERT paper's learning-rate grid",
    "3e-5": "the BERT paper's learning-rate grid",
    "5e-5": "the BERT paper's learning-rate grid",
    "16": "a batch size",
    "32": "a batch size",
    "64": "a batch size or length",
    "128": "a batch size or length",
    "256": "a batch size or length",
}
REFERENCE = re.compile(
    r"(§\s*|\b(?:[Cc]hapters?|[Ss]ections?|[Ff]igures?|[Tt]ables?|[Ee]xercises?|[Ss]teps?|[Aa]ppendix|[Ss]eeds?|"
    r"[Pp]art|[Ll]ayers?|[Ee]pochs?|[Ww]ay|[Qq]uestion|第)\s*)"
    r"\d+(?:\.\d+)*(?:\s*(?:to|and|or|-|–|,)\s*\d+(?:\.\d+)*)*"
)
NUMBER = re.compile(r"(?<![\w.\\])\d+(?:[.,/]\d+)*(?:e-?\d+)?(?:%|k\b|K\b|M\b|B\b|GB\b|MB\b|×|x\b)?")
REMOVE = [
    re.compile(r"^\s*:[\w-]+:.*$", re.M),  # directive options
    re.compile(r"\{[\w:-]+\}`[^`]*`"),  # roles: glue, numref, doc, cite ...
    re.compile(r"``[^`]*``|`[^`]*`"),  # inline code
    re.compile(r"\$\$.*?\$\$|\$[^$\n]*\$", re.S),  # math
    re.compile(r"\]\([^)]*\)|<https?://[^>]*>|https?://\S+"),  # link targets and URLs
    re.compile(r"<[^>\n]+>"),  # HTML tags
    re.compile(r"^#+\s*\d+(?:\.\d+)*", re.M),  # a heading's section number
]


def typed_numbers(markdown: str) -> list[str]:
    """The numbers in one markdown cell that this rule does not explain."""
    found = []
    for paragraph in re.split(r"\n\s*\n", markdown):
        if "{cite" in paragraph:
            continue
        for pattern in REMOVE:
            paragraph = pattern.sub(" ", paragraph)
        paragraph = REFERENCE.sub(" ", paragraph)
        found += NUMBER.findall(paragraph)
    return [n for n in found if not (n.isdigit() and int(n) <= 10) and n not in CONSTANTS]


def chapter_findings(nb: dict) -> list[str]:
    allowed = nb.get("metadata", {}).get("book", {}).get("typed_numbers", {})
    findings = []
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "markdown":
            findings += [f"cell {index}: {n}" for n in typed_numbers(source(cell)) if n not in allowed]
    return findings


def test_what_the_rule_removes_and_keeps():
    text = (
        "## 4.2 The head\nAccuracy was {glue:text}`acc:.1%` with `lr=3e-5` and $d_k = 64$; see §2.3, "
        "chapter 4 and Figure 2.1, [the paper](https://arxiv.org/abs/1810.04805).\n\n"
        "The model reached 0.914 on 1,821 reviews in 37 s, 3 epochs, 512 tokens.\n\n"
        "BERT-base scored 79.6 {cite}`devlin2019bert`."
    )
    assert typed_numbers(text) == ["0.914", "1,821", "37"]


def test_the_allowlist_in_the_metadata_is_used():
    nb = {
        "metadata": {"book": {"typed_numbers": {"1,024": "GPT-2's position table, quoted"}}},
        "cells": [{"cell_type": "markdown", "source": ["GPT-2 reads 1,024 tokens; this run took 41 s."]}],
    }
    assert chapter_findings(nb) == ["cell 0: 41"]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_no_result_is_typed_in_the_prose(path):
    findings = chapter_findings(load(path))
    assert not findings, (
        f"{path.name}: glue these numbers from the run, or list them with a reason in "
        "metadata.book.typed_numbers:\n  " + "\n  ".join(findings)
    )
