#!/bin/sh
# Recipe of the shipped network, ideepcolor-w025 (its card: varcolor/neural/models/README.md).
# Trains it again from the photos named on the card and prints the new file's SHA-256 beside the
# shipped one's. DATA holds imagenet-sample/ and bsds500/ (not redistributed with varcolor: see
# the card's data terms). 86 minutes on 2 CPU cores; on a GPU add --device cuda.
set -eu
DATA=${1:-../shared/data}
OUT=${2:-run}
varcolor train "$DATA/imagenet-sample/train" "$DATA/bsds500/train" --validation "$DATA/bsds500/val" -o "$OUT" --threads 2
sha256sum "$OUT/model.safetensors" varcolor/neural/models/ideepcolor-w025.safetensors
