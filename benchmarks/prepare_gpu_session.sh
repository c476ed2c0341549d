#!/usr/bin/env bash
# Run here, before a device call: puts what a lent GPU machine lacks where the call can carry it.
#   .whl/       wheels of our dependencies missing from its image (pyamg, pypng, imagecodecs; Python 3.12
#               there; av and Dask are not needed: nothing the session runs imports them)
#   .gpu-data/  the photo gpu_engine.py reads (kodim05) and the images speed.py reads (Levin's example scribbles)
# Both are ignored by git. Then: device run, carry [".whl", ".gpu-data"], command
# "bash benchmarks/gpu_session.sh" (README, "On a GPU").
set -euo pipefail
cd "$(dirname "$0")/.."
shared=${VARCOLOR_DATA:-../shared/data}
python=${PYTHON:-.venv/bin/python}
mkdir -p .whl .gpu-data/kodak .gpu-data/scribbles/levin_original
"$python" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 \
    -d .whl "pyamg==$("$python" -c 'import pyamg; print(pyamg.__version__)')" pypng==0.20220715.0 \
    "imagecodecs==$("$python" -c 'import imagecodecs; print(imagecodecs.__version__)')"
cp "$shared/kodak/kodim05.png" .gpu-data/kodak/
cp "$shared/scribbles/levin_original/example.png" "$shared/scribbles/levin_original/example_marked.png" \
    .gpu-data/scribbles/levin_original/
du -sh .whl .gpu-data
