#!/usr/bin/env bash
# Run on a lent GPU machine, in one device call of about 5 minutes (prepare it here first:
# prepare_gpu_session.sh; carry [".whl", ".gpu-data"]): the wheels it lacks installed, the device
# tests (the default engine's device path and the CuPy solvers against the CPU's answers), numba's
# kernels compiled, then the speed table of the default engine and exact Levin on the GPU beside
# this machine's CPU (benchmarks/gpu_engine.py: 1, 12, 40 MP; first solve and one stroke's edit),
# all into $OUT. Copy $OUT/gpu_*.md and .json into benchmarks/results/ afterwards.
#   --dry-run   the same steps with NumPy in CuPy's place, tiny sizes: checks this script anywhere.
# Limits (seconds, environment): TESTS_LIMIT (50), WARM_LIMIT (40), TABLE_BUDGET (170).
set -uo pipefail
cd "$(dirname "$0")/.."
dry=""
[ "${1:-}" = "--dry-run" ] && dry="--dry-run"
out=${OUT:-out/gpu}
mkdir -p "$out"
python=${PYTHON:-python3}
start=$SECONDS
if [ -z "$dry" ] && compgen -G ".whl/*.whl" > /dev/null; then
    "$python" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 VARCOLOR_DATA=${VARCOLOR_DATA:-$PWD/.gpu-data}
export VARCOLOR_BACKGROUND_WARM=0
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>&1 || echo "no nvidia-smi"; "$python" -c \
    'import numba, numpy, scipy; print("numba", numba.__version__, "numpy", numpy.__version__, "scipy", scipy.__version__)'
  "$python" -c 'import cupy; print("cupy", cupy.__version__)' 2>&1 | tail -1
} 2>&1 | tee "$out/machine.txt"
tests="tests/methods/test_multiscale_device.py tests/solvers/test_schwarz.py tests/solvers/test_aggregation.py tests/test_painting.py"
[ -z "$dry" ] && tests="$tests tests/solvers/test_gpu.py"
# shellcheck disable=SC2086  # the test files, one word each
timeout "${TESTS_LIMIT:-50}" "$python" -m pytest -q -p no:cacheprovider -rs $tests 2>&1 | tee "$out/tests.log"
if [ -z "$dry" ]; then  # numba's kernels compiled before the table (its rows also warm up, untimed)
    SECONDS_BEFORE=$SECONDS
    timeout "${WARM_LIMIT:-40}" "$python" -c \
        'import sys; from varcolor.cli import main; sys.exit(main(["warm", "--runs", "cues,edits,levin", "-q"]))' \
        2>&1 | tee "$out/warm.log"
    echo "varcolor warm: $((SECONDS - SECONDS_BEFORE)) s" | tee -a "$out/warm.log"
fi
# shellcheck disable=SC2086  # --dry-run or nothing
"$python" benchmarks/gpu_engine.py $dry --out "$out" --budget "${TABLE_BUDGET:-170}" 2>&1 | tee "$out/table.log"
echo "session: $((SECONDS - start)) s" | tee -a "$out/table.log"
