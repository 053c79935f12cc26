#!/usr/bin/env bash
# Packs bench/study-gpu for the GPU machine (no Node there): the built project as a gpu-kit tree
# (../shared/tools/gpu-kit/pack-tree.sh: node, Dawn, packages/*/dist, production node_modules) plus the
# THINGS behavioural files the synthetic study needs, into .gpu-kit/ (git-ignored). Run after `npx tsc -b`.
#   bash bench/study-gpu/prepare.sh [META_DIR=../shared/data/things]
# then: run(command="bash .gpu-kit/run-tree.sh bench/study-gpu/run.mjs --meta $PWD/.gpu-kit/things-meta", carry=[".gpu-kit"])
set -euo pipefail
META=${1:-../shared/data/things}
bash ../shared/tools/gpu-kit/pack-tree.sh .gpu-kit
mkdir -p .gpu-kit/things-meta
for f in spose_embedding66d_rescaled.csv triplet48_index.npy RDM48_triplet.mat spose_dimensions66.txt; do cp "$META/$f" .gpu-kit/things-meta/; done
du -sh .gpu-kit
