#!/usr/bin/env bash
# Run every test: the unit tests in tests/ (which also build the book once, on quick slices) and
# every notebook in book/ through nbval (pytest --nbval-lax), all on the offline profile.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export BOOK_PROFILE=offline BOOK_QUICK=1
start=$SECONDS
.venv/bin/python -m pytest tests book --nbval-lax --nbval-current-env --nbval-cell-timeout=1200 -p no:cacheprovider "$@"
echo "test: finished in $((SECONDS - start)) s"
