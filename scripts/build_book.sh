#!/usr/bin/env bash
# Build both websites on the offline profile (warnings are errors): English into _build/html, Chinese into
# _build/html/zh. BOOK_QUICK=1 runs every chapter on small slices of the same data (what CI does); unset, the
# chapters use the offline profile's full sizes.
#
# Every notebook executes once: the English build executes it (or takes its outputs from the execution cache,
# _build/.jupyter_cache/<profile>-<quick|full>-<hash of helpers/>, when its code and helpers/ have not changed) and
# the Chinese build reuses those outputs (book/_ext/build_language.py). A second run with nothing changed
# executes nothing. Arguments go to `jupyter-book build` (e.g. --all to rewrite every page); BOOK_OUTPUT sets the
# folder that holds _build (default: the repository).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export BOOK_PROFILE=${BOOK_PROFILE:-offline}
out=${BOOK_OUTPUT:-.}
start=$SECONDS
.venv/bin/jupyter-book build . --path-output "$out" --warningiserror --keep-going "$@"
english=$((SECONDS - start))
.venv/bin/python book/_ext/build_language.py zh_CN --path-output "$out"
echo "build_book: $out/_build/html/index.html (English, ${english} s) and $out/_build/html/zh/index.html" \
     "(中文, $((SECONDS - start - english)) s) written in $((SECONDS - start)) s"
