#!/usr/bin/env bash
# make.sh rebuilds the demonstration bundle models/dlrc-synthetic from nothing:
#   1. sacrum synth --patients 183 --seed 1       the synthetic cohort (about 1 GB, 1-2 min)
#   2. sacrum features                             radiomics and deep features of both readers'
#                                                  segmentations (1-3 min)
#   3. sacrum train --endpoint both                this bundle (seconds)
#   4. sacrum evaluate                             the oracle AUC of truth.csv on the test split
# The intermediate files stay in $WORK (default: a temporary directory, removed at the end).
# Deep features come from models/deep-encoder (its name, version and sha256 go into bundle.json);
# ONNX Runtime must be installed (scripts/setup.sh).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
keep=${WORK:-}
work=${WORK:-$(mktemp -d)}
[ -n "$keep" ] || trap 'rm -rf "$work"' EXIT
mkdir -p "$work"
cd "$root"
go build -o "$work/sacrum" ./cmd/sacrum
params=pipeline/radiomics/params/pyradiomics-default.yaml
printf 'pipeline:\n  feature_models: [models/deep-encoder/model.yaml]\n  radiomics_params: %s\n' "$root/$params" \
	>"$work/config.yaml"

[ -f "$work/cohort/clinical.csv" ] || "$work/sacrum" synth --out "$work/cohort" --patients 183 --seed 1 --quiet
[ -f "$work/features.csv" ] || "$work/sacrum" features --cohort "$work/cohort" --config "$work/config.yaml" \
	--params "$params" --out "$work/features.csv" --quiet
"$work/sacrum" train --features "$work/features.csv" --clinical "$work/cohort/clinical.csv" --endpoint both \
	--config "$here/train.yaml" --out "$here"

# Oracle: the generating model's true probabilities (truth.csv, same row order as clinical.csv)
# on the test split.
paste -d, <(cut -d, -f1,13,14,15 "$work/cohort/clinical.csv") <(cut -d, -f2,3 "$work/cohort/truth.csv") |
	awk -F, 'NR == 1 || $4 == "test"' | cut -d, -f2,3,5,6 >"$work/oracle-test.csv"
echo "oracle (truth.csv) on the test split:"
cut -d, -f2,4 "$work/oracle-test.csv" | "$work/sacrum" evaluate --predictions /dev/stdin --outcome asas40 | sed -n '3,4p'
cut -d, -f1,3 "$work/oracle-test.csv" | "$work/sacrum" evaluate --predictions /dev/stdin --outcome asas20 | sed -n '3,4p'
