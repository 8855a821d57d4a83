#!/bin/sh
# Acceptance 3 at full scale: `sacrum synth --patients 183 --seed 1` twice gives byte-identical trees,
# and the wall time of each run (the BENCHMARKS.md figure). Usage: testdata/repro183.sh [SACRUM_BINARY]
set -eu
bin=${1:-sacrum}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for run in a b; do
	start=$(date +%s.%N)
	"$bin" synth --out "$tmp/$run" --patients 183 --seed 1 --quiet >/dev/null
	end=$(date +%s.%N)
	echo "run $run: $(awk "BEGIN{printf \"%.1f\", $end - $start}") s, $(find "$tmp/$run" -type f | wc -l) files, $(du -sm "$tmp/$run" | cut -f1) MB"
done
if diff -r "$tmp/a" "$tmp/b" >/dev/null; then
	echo "byte-identical: yes"
else
	echo "byte-identical: NO" >&2
	exit 1
fi
