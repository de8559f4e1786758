#!/usr/bin/env bash
# Run every test: ruff, then two stages; the script fails if any fails (all run, so one run reports all).
#   1. The unit tests in tests/, on the offline profile, in .venv (the newest library versions). They also
#      build the book once on quick slices, which executes every notebook on the offline profile.
#   2. The Colab-like stage (scripts/colab_stage.sh): every notebook on the full profile, in a venv made
#      only from what the Colab install cell installs, at the version floors, against a local stand-in hub.
# Arguments go to the first stage's pytest. BOOK_SKIP_COLAB_STAGE=1 skips stage 2 (for quick local runs; CI
# never sets it).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
start=$SECONDS
status=0
# Lint and format check first (seconds): ruff over helpers/, tests/, scripts/, benchmarks/, book/ (notebooks and
# book/_ext) and the README's code, as configured in pyproject.toml (line length 120).
lint=0
{ .venv/bin/ruff check . && .venv/bin/ruff format --check .; } || lint=$?
echo "test: ruff (lint and format check) exited $lint"
[ "$lint" -eq 0 ] || status=$lint
BOOK_PROFILE=offline BOOK_QUICK=1 .venv/bin/python -m pytest tests -p no:cacheprovider "$@" || status=$?
echo "test: unit tests and the offline book finished in $((SECONDS - start)) s (exit $status)"
if [ "${BOOK_SKIP_COLAB_STAGE:-0}" != "1" ]; then
  colab=0
  bash scripts/colab_stage.sh || colab=$?
  echo "test: the Colab-like stage exited $colab"
  [ "$colab" -eq 0 ] || status=$colab
else
  echo "test: the Colab-like stage was skipped (BOOK_SKIP_COLAB_STAGE=1)"
fi
echo "test: finished in $((SECONDS - start)) s"
exit "$status"
