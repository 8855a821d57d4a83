#!/usr/bin/env bash
# fuzz-targets.sh lists every fuzz target in the module as package:FuncName, one a line.
set -euo pipefail
cd "$(dirname "$0")/.."
grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' . | sort | while read -r f; do
	pkg=./$(dirname "${f#./}")
	grep -oE '^func Fuzz[A-Za-z0-9_]+' "$f" | sed 's/^func //' | while read -r fn; do
		echo "$pkg:$fn"
	done
done
