#!/usr/bin/env bash
# benchmarks/gpu/run.sh: on a fresh GPU machine, install, write the e5-small backbone, build PAN-X zh/vi
# and the zh-vi dictionary, and run the `paper` preset's finetune vs phonexl on PAN-X zh->vi (one seed,
# full data) inside an 8-minute budget (benchmarks/gpu/README.md). Run from anywhere:
#
#     bash benchmarks/gpu/run.sh            # results: $OUT/paper_zh_vi.json, else benchmarks/results/gpu/
#
# Environment (all optional):
#   MODE      image | pip (default: image when PYTHON imports a CUDA torch, see below)
#   CJKV_SHARED  the shared/ folder (default ../shared beside the checkout)
#   BUDGET_S  480; GRACE_S 60 (hard stop that far past the budget); EPOCHS 3
#   VENV      pip mode's venv (.venv-gpu); PYTHON (python3)
#   WHEELS    image mode: wheels for a machine without a package index (stage_wheels.py; default .whl/)
#   BACKBONE  where make-backbone writes e5-small (~/.cache/cjkv/backbones/multilingual-e5-small)
#
# Install, two cases, chosen by looking at the machine:
#   * PYTHON already has a CUDA torch (a GPU image, e.g. this workplace's H200 with torch 2.11+cu130 and
#     no package index): that python is used as it is (its python3 is itself a venv, /opt/torch/.venv, so
#     a new venv could not see its torch). The project goes in with --no-deps, then only the pinned
#     requirements the image lacks entirely (from WHEELS if given, else the index); pip resolves their
#     own requirements against what the image has. torch==2.13.0 is NOT installed there: the JSON
#     records the torch actually used. The machine is disposable; on one that is not, use pip mode.
#   * otherwise: a plain venv and `pip install -e .`, which installs the pinned torch==2.13.0; on PyPI the
#     Linux x86_64 wheel of torch 2.13.0 is the CUDA 13.0 build (it requires cuda-toolkit 13.0.3 and
#     nvidia-cudnn-cu13), so no extra index is needed. If torch still cannot see a GPU, the script stops.
set -euo pipefail
START=$(date +%s)
cd "$(dirname "$0")/../.."
REPO=$PWD
SHARED=${CJKV_SHARED:-$REPO/../shared}
BUDGET_S=${BUDGET_S:-480}
EPOCHS=${EPOCHS:-3}
VENV=${VENV:-$REPO/.venv-gpu}
PYTHON=${PYTHON:-python3}
WHEELS=${WHEELS:-$([ -d "$REPO/.whl" ] && echo "$REPO/.whl" || true)}
BACKBONE=${BACKBONE:-$HOME/.cache/cjkv/backbones/multilingual-e5-small}
OUT_DIR=${OUT:-$REPO/benchmarks/results/gpu}
mkdir -p "$OUT_DIR"
exec > >(tee "$OUT_DIR/run.log") 2>&1
export PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
step() { echo "== [$(( $(date +%s) - START )) s] $*"; }

[ -d "$SHARED/data/xtreme/panx" ] && [ -d "$SHARED/data/muse" ] || {
  echo "error: $SHARED/data/{xtreme/panx,muse} not found: set CJKV_SHARED to the shared/ folder" >&2; exit 2; }
pip_src=()
[ -n "$WHEELS" ] && pip_src=(--no-index --find-links "$WHEELS")

step "install ($PYTHON: $($PYTHON --version 2>&1))"
if [ -z "${MODE:-}" ]; then
  MODE=pip
  "$PYTHON" -c 'import sys, torch; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null && MODE=image
fi
if [ "$MODE" = image ]; then
  echo "image mode: using $PYTHON and its torch as they are"
  RUNPY=$("$PYTHON" -c 'import sys; print(sys.executable)')
  "$RUNPY" -m pip install -q --no-deps --no-build-isolation -e "$REPO"
  # The pinned requirements (pyproject.toml, torch aside) that the image does not have at all.
  missing=$("$RUNPY" - "$REPO/pyproject.toml" <<'PY'
import sys, tomllib
from importlib.metadata import PackageNotFoundError, version
deps = tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]
for dep in deps:
    name = dep.split("==")[0].split("[")[0].strip()
    if name == "torch" or name == "unidic-lite":   # the image's torch; a Japanese-only dictionary (47 MB)
        continue
    try:
        have = version(name)
        if dep != f"{name}=={have}":
            print(f"note: keeping the image's {name} {have} (pyproject pins {dep})", file=sys.stderr)
    except PackageNotFoundError:
        print(dep)
PY
)
  if [ -n "$missing" ]; then
    echo "installing: $(echo $missing)"
    # shellcheck disable=SC2086  # one requirement per word
    "$RUNPY" -m pip install -q "${pip_src[@]}" $missing
  fi
else
  echo "no CUDA torch in $PYTHON: installing the pinned torch==2.13.0 (PyPI's Linux wheel is the CUDA build)"
  "$PYTHON" -m venv "$VENV"
  RUNPY=$VENV/bin/python
  pip_src=()             # the index is needed for torch anyway: WHEELS is for image mode only
  "$RUNPY" -m pip install -q -e "$REPO"
fi
"$RUNPY" -m pip install -q "${pip_src[@]}" --no-deps hanja==0.15.1 || echo "note: hanja not installed (Korean only; unused here)"
"$RUNPY" - <<'PY'
import sys, torch
print(f"torch {torch.__version__}, CUDA {torch.version.cuda}, GPU: {torch.cuda.is_available()}")
if not torch.cuda.is_available():
    sys.exit("error: torch sees no GPU (a CPU build, or no driver); this script is for a GPU machine")
print("device:", torch.cuda.get_device_name(0))
PY

step "backbone -> $BACKBONE"
PATH="$(dirname "$RUNPY"):$PATH" "$SHARED/tools/make-backbone" "$BACKBONE"

step "data, dictionary and the two runs (paper_zh_vi.py; budget ${BUDGET_S} s from the start of this script)"
# The driver's own guard ends training in time; this hard stop (GRACE_S past the budget) only catches what
# the guard cannot (e.g. a final evaluation far slower than --tail-s). The JSON then holds the runs that
# finished before it, with complete: false.
left=$(( START + BUDGET_S + ${GRACE_S:-60} - $(date +%s) ))
[ "$left" -gt 0 ] || { echo "error: the budget was spent before training (install/backbone took too long)" >&2; exit 3; }
rc=0
timeout -k 10 "$left" "$RUNPY" "$REPO/benchmarks/gpu/paper_zh_vi.py" --backbone "$BACKBONE" --shared "$SHARED" \
  --out "$OUT_DIR" --epochs "$EPOCHS" --budget-s "$BUDGET_S" --started-at "$START" || rc=$?
if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
  echo "hard stop: the driver ran ${GRACE_S:-60} s past the budget and was killed"
fi
step "done (rc $rc): $OUT_DIR/paper_zh_vi.json"
exit "$rc"
