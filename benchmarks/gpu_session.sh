#!/usr/bin/env bash
# Run on a lent GPU machine, in one device call (prepare it here first: prepare_gpu_session.sh):
# the CuPy paths' tests against the CPU's answers, the GPU speed table (1, 4, 8 MP), then where a 4 MP row's
# time goes (gpu_profile.py), into $OUT.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-out/gpu}
mkdir -p "$out"
if compgen -G ".whl/*.whl" > /dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        || exit 1
    export PYTHONPATH=/tmp/site
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 VARCOLOR_DATA=${VARCOLOR_DATA:-$PWD/.gpu-data}
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; python3 -c \
    'import cupy, numba, numpy, scipy; print("cupy", cupy.__version__, "numba", numba.__version__, "numpy", numpy.__version__, "scipy", scipy.__version__)'
} 2>&1 | tee "$out/machine.txt"
timeout "${TESTS_LIMIT:-240}" python3 -m pytest -q -p no:cacheprovider -rs tests/solvers/test_gpu.py tests/methods/test_bilaplacian_gtv.py tests/solvers/test_solvers.py \
    tests/solvers/test_multigrid.py 2>&1 | tee "$out/tests.log"
python3 benchmarks/speed.py --device cuda --sizes 1,4,8 --patterns random1 \
    --solvers direct,amg,levin-symmetric-cg,bilaplacian-gtv --updates none --timeout "${MEASURE_LIMIT:-150}" \
    --out "$out" --name speed_gpu 2>&1 | tee "$out/speed.log"
timeout "${PROFILE_LIMIT:-150}" python3 benchmarks/gpu_profile.py --megapixels 4 --out "$out" 2>&1 | tee "$out/profile.log"
