#!/usr/bin/env bash
# Gantry host bootstrap: idempotent venv, PyTorch (CUDA build matching the driver, or reused from
# the chosen python), the Atari backend ale-py (EnvPool too with --envpool), and a smoke test.
#
#   bash setup.sh [--root DIR] [--python PY] [--pip-args "ARGS"] [--stamp ID] [--envpool] [--force]
#
# --envpool also installs EnvPool (Linux x86_64 wheels for CPython <= 3.11 only); ale-py (wheels for
# every current CPython, ROMs included) is the default Atari backend either way.
#
# Progress is machine-readable, one line per change:
#   GANTRY_STEP <id> running|ok|skip|warn|fail <message>
# and the last line is always
#   GANTRY_RESULT {"ok": true|false, ...}
# Everything else is ordinary output for the human watching the terminal.
# A run whose --stamp matches the last successful run (and whose venv still imports torch) skips
# the installs and the smoke test, so re-running on a ready host takes seconds.
set -u
set -o pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="${GANTRY_ROOT:-$HOME/.gantry}"
PYTHON="${GANTRY_PYTHON:-}"
PIP_ARGS=""
STAMP=""
FORCE=0
WANT_ENVPOOL=0
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT="$2"; shift 2 ;;
    --python) PYTHON="$2"; shift 2 ;;
    --pip-args) PIP_ARGS="$2"; shift 2 ;;
    --stamp) STAMP="$2"; shift 2 ;;
    --force) FORCE=1; shift ;;
    --envpool) WANT_ENVPOOL=1; shift ;;
    -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
read -r -a PIP_EXTRA <<< "$PIP_ARGS"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
VENV="$ROOT/venv"
VPY="$VENV/bin/python"
STAMP_FILE="$VENV/.gantry-setup"
FAILED=0
LAST_STEP=""
TORCH_INFO="null"
BACKENDS="[]"

json_str() { "${SYS_PY:-python3}" -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1" 2>/dev/null || printf '"%s"' "$1"; }
step() { LAST_STEP="$1"; echo "GANTRY_STEP $1 $2 ${3:-}"; }
result() {
  local ok=true; [ "$FAILED" = 0 ] || ok=false
  echo "GANTRY_RESULT {\"ok\": $ok, \"failed_step\": $(json_str "${1:-}"), \"venv\": $(json_str "$VENV"), \"torch\": $TORCH_INFO, \"backends\": $BACKENDS, \"stamp\": $(json_str "$STAMP")}"
}
fail() { FAILED=1; step "$1" fail "$2"; result "$1"; exit 1; }
# Run a command, streaming its output; on failure remember its last line for the checklist.
run_logged() {
  local log; log="$(mktemp)"
  "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  LAST_LINE="$(grep -v '^[[:space:]]*$' "$log" | tail -n 1)"
  rm -f "$log"
  return "$rc"
}

mkdir -p "$ROOT" || { FAILED=1; echo "GANTRY_STEP python fail cannot create $ROOT"; result python; exit 1; }

# --- python --------------------------------------------------------------------------------------
step python running "choosing a Python"
if [ -z "$PYTHON" ]; then
  # EnvPool ships wheels for CPython <= 3.11 only: prefer those when it is asked for.
  CANDIDATES="python3"
  [ "$WANT_ENVPOOL" = 1 ] && CANDIDATES="python3.11 python3.10 python3"
  for cand in $CANDIDATES ; do
    if command -v "$cand" >/dev/null 2>&1; then PYTHON="$(command -v "$cand")"; break; fi
  done
fi
[ -n "$PYTHON" ] && "$PYTHON" -c 'import sys; assert sys.version_info >= (3, 8)' 2>/dev/null \
  || fail python "no Python 3.8+ found (tried ${PYTHON:-$CANDIDATES}); install python3 and python3-venv"
SYS_PY="$PYTHON"
PY_VERSION="$("$PYTHON" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"
step python ok "$PYTHON ($PY_VERSION)"

# --- already set up? -----------------------------------------------------------------------------
if [ "$FORCE" = 0 ] && [ -n "$STAMP" ] && [ -f "$STAMP_FILE" ] && [ "$(cat "$STAMP_FILE")" = "$STAMP" ] \
   && "$VPY" -c 'import torch' >/dev/null 2>&1; then
  TORCH_INFO="$("$VPY" -c 'import json, torch; print(json.dumps({"version": torch.__version__, "cuda": torch.cuda.is_available()}))')"
  for s in venv torch packages atari cuda smoke_env smoke_train; do step "$s" skip "already set up ($STAMP)"; done
  BACKENDS="$(cat "$VENV/.gantry-backends" 2>/dev/null || echo '["builtin"]')"
  result
  exit 0
fi

# --- venv ----------------------------------------------------------------------------------------
step venv running "creating $VENV"
SYSTEM_TORCH=0
"$PYTHON" -c 'import torch' >/dev/null 2>&1 && SYSTEM_TORCH=1
if [ -x "$VPY" ] && "$VPY" -c 'import sys' >/dev/null 2>&1; then
  step venv ok "reusing $VENV"
else
  VENV_ARGS=()
  [ "$SYSTEM_TORCH" = 1 ] && VENV_ARGS+=(--system-site-packages)
  run_logged "$PYTHON" -m venv "${VENV_ARGS[@]}" "$VENV" \
    || fail venv "python -m venv failed: ${LAST_LINE:-?} (on Debian/Ubuntu: apt-get install python3-venv)"
  if [ "$SYSTEM_TORCH" = 1 ]; then
    # --system-site-packages reaches the base interpreter's packages only; when the chosen
    # python is itself a venv, point at its site-packages too so its torch is reused.
    SRC_SITE="$("$PYTHON" -c 'import sys, sysconfig; print(sysconfig.get_paths()["purelib"] if sys.prefix != sys.base_prefix else "")')"
    if [ -n "$SRC_SITE" ]; then
      DST_SITE="$("$VPY" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
      echo "$SRC_SITE" > "$DST_SITE/gantry-reuse-python.pth"
      echo "Reusing packages of $SRC_SITE"
    fi
  fi
  step venv ok "$VENV$([ "$SYSTEM_TORCH" = 1 ] && echo ' (reusing the system PyTorch)')"
fi
rm -f "$STAMP_FILE"

pip_install() { run_logged "$VPY" -m pip install "${PIP_EXTRA[@]}" "$@"; }

# --- torch ---------------------------------------------------------------------------------------
step torch running "checking PyTorch"
CUDA_DRIVER=""
if command -v nvidia-smi >/dev/null 2>&1; then
  CUDA_DRIVER="$(nvidia-smi 2>/dev/null | sed -n 's/.*CUDA Version: *\([0-9][0-9]*\.[0-9]*\).*/\1/p' | head -n 1)"
fi
if "$VPY" -c 'import torch' >/dev/null 2>&1; then
  step torch ok "reusing torch $("$VPY" -c 'import torch; print(torch.__version__)')"
else
  TAG=cpu
  if [ -n "$CUDA_DRIVER" ]; then
    case "$CUDA_DRIVER" in
      11.[89]*) TAG=cu118 ;;
      12.[0-3]*) TAG=cu121 ;;
      12.[4-5]*) TAG=cu124 ;;
      12.*|13.*) TAG=cu126 ;;
      *) TAG=cpu; echo "Driver CUDA $CUDA_DRIVER is older than 11.8: installing the CPU build; update the NVIDIA driver for GPU training." ;;
    esac
  fi
  echo "Installing torch ($TAG) for driver CUDA ${CUDA_DRIVER:-none}"
  pip_install torch --extra-index-url "https://download.pytorch.org/whl/$TAG" \
    || fail torch "pip could not install torch ($TAG): ${LAST_LINE:-?}"
  step torch ok "installed torch $("$VPY" -c 'import torch; print(torch.__version__)') ($TAG)"
fi

# --- packages ------------------------------------------------------------------------------------
step packages running "numpy, onnx, onnxruntime, gymnasium"
REQ="$(mktemp)"
grep -v -E '^[[:space:]]*(torch|#|$)' "$HERE/requirements.txt" > "$REQ"
pip_install -r "$REQ" || { rm -f "$REQ"; fail packages "pip install failed: ${LAST_LINE:-?}"; }
rm -f "$REQ"
step packages ok "$(tr '\n' ' ' < <(grep -v -E '^[[:space:]]*(torch|#|$)' "$HERE/requirements.txt" | sed 's/[<>=].*//'))"

# --- atari backends ------------------------------------------------------------------------------
step atari running "ale-py$([ "$WANT_ENVPOOL" = 1 ] && echo ' and EnvPool')"
BACKEND_LIST="builtin"
if "$VPY" -c 'import envpool' >/dev/null 2>&1; then
  BACKEND_LIST="envpool,$BACKEND_LIST"
elif [ "$WANT_ENVPOOL" = 1 ]; then
  if ! "$VPY" -c 'import sys, platform; assert sys.version_info < (3, 12) and platform.machine() in ("x86_64", "AMD64")' 2>/dev/null; then
    echo "EnvPool was asked for, but it has wheels only for Linux x86_64 CPython <= 3.11 (this venv: Python $PY_VERSION); continuing with ale-py"
  elif pip_install envpool; then
    BACKEND_LIST="envpool,$BACKEND_LIST"
  fi
fi
# ale-py >= 0.12.1: its C++ vector env (OpenCV built in) and the ROMs; 0.12.0 was yanked.
if "$VPY" -c 'from ale_py.vector_env import AtariVectorEnv' >/dev/null 2>&1 || pip_install "ale-py>=0.12.1" gymnasium; then
  BACKEND_LIST="ale,$BACKEND_LIST"
fi
case "$BACKEND_LIST" in
  builtin) step atari warn "neither envpool nor ale-py could be installed (${LAST_LINE:-?}); only the built-in games can train" ;;
  *) step atari ok "backends: $BACKEND_LIST" ;;
esac
BACKENDS="$("$VPY" -c 'import json, sys; print(json.dumps(sys.argv[1].split(",")))' "$BACKEND_LIST")"

# --- cuda ----------------------------------------------------------------------------------------
step cuda running "torch.cuda"
TORCH_INFO="$("$VPY" -c 'import json, torch; print(json.dumps({"version": torch.__version__, "cuda": torch.cuda.is_available(), "cuda_build": torch.version.cuda, "gpus": torch.cuda.device_count()}))')" \
  || fail cuda "importing torch failed"
if "$VPY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)'; then
  step cuda ok "$("$VPY" -c 'import torch; print("%d GPU(s): %s" % (torch.cuda.device_count(), torch.cuda.get_device_name(0)))')"
elif [ -n "$CUDA_DRIVER" ]; then
  step cuda warn "the NVIDIA driver (CUDA $CUDA_DRIVER) is there but torch cannot use it; reinstall with --force"
else
  step cuda warn "no NVIDIA GPU: training runs on the CPU (slow)"
fi

# --- smoke: one step of each backend -------------------------------------------------------------
step smoke_env running "one environment step per backend"
WORKING="builtin"
for backend in ${BACKEND_LIST//,/ }; do
  echo "Stepping the $backend backend"
  if run_logged env PYTHONPATH="$HERE" "$VPY" - "$backend" <<'PY'
import sys, torch
from gantry_remote.backends import make_env
backend = sys.argv[1]
env = make_env(backend, {"builtin": "breakout"}.get(backend, "Breakout"), 2, "cpu", 1)
env.reset()
env.step(torch.zeros(2, dtype=torch.long))
print("env ok:", backend)
PY
  then
    [ "$backend" = builtin ] || WORKING="$backend,$WORKING"
  elif [ "$backend" = builtin ]; then
    fail smoke_env "the built-in games failed: ${LAST_LINE:-?}"
  else
    SMOKE_WARN="$backend: ${LAST_LINE:-?}"
  fi
done
BACKEND_LIST="$WORKING"
BACKENDS="$("$VPY" -c 'import json, sys; print(json.dumps(sys.argv[1].split(",")))' "$BACKEND_LIST")"
if [ -n "${SMOKE_WARN:-}" ]; then
  step smoke_env warn "works: $BACKEND_LIST; dropped $SMOKE_WARN"
else
  step smoke_env ok "$BACKEND_LIST"
fi

# --- smoke: a 200-step training run --------------------------------------------------------------
step smoke_train running "200 training steps of the built-in Breakout"
SMOKE_DIR="$ROOT/smoke/$(date +%s)-$$"
run_logged env PYTHONPATH="$HERE" "$VPY" -m gantry_remote train --game breakout --backend builtin --run-dir "$SMOKE_DIR" \
    --total-steps 200 --num-envs 8 --num-steps 25 --minibatch-size 50 --update-epochs 1 --device auto \
  || fail smoke_train "training failed: ${LAST_LINE:-?} (log above)"
rm -rf "$ROOT/smoke"
step smoke_train ok "trained 200 steps"

echo "$BACKENDS" > "$VENV/.gantry-backends"
[ -n "$STAMP" ] && echo "$STAMP" > "$STAMP_FILE"
result
