#!/usr/bin/env bash
# Build the website into _build/html, executing every notebook on the offline profile (warnings are errors).
# BOOK_QUICK=1 runs every chapter on small slices of the same data (what CI does); unset, the chapters
# use the offline profile's full sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export BOOK_PROFILE=${BOOK_PROFILE:-offline}
start=$SECONDS
.venv/bin/jupyter-book build . --warningiserror --keep-going "$@"
echo "build_book: _build/html/index.html written in $((SECONDS - start)) s"
