#!/usr/bin/env bash
# bench.sh runs every benchmark: the Go benchmarks of all packages, then each scripts/bench-*.sh.
# Numbers are recorded by hand in BENCHMARKS.md with the machine they ran on.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
go test -run='^$' -bench=. -benchmem -count=1 ./...
for s in scripts/bench-*.sh; do
	[ -e "$s" ] || continue
	echo "== $s"
	"$s"
done
