#!/usr/bin/env bash
# fuzz-targets.sh lists every fuzz target in the module as package:FuncName:executions, one a line,
# with the execution budget from scripts/fuzz-budgets.txt. A target without a budget is an error.
set -euo pipefail
cd "$(dirname "$0")/.."
budgets=scripts/fuzz-budgets.txt
grep -rl --include='*_test.go' -E '^func Fuzz[A-Za-z0-9_]+\(f \*testing\.F\)' . | sort | while read -r f; do
	pkg=./$(dirname "${f#./}")
	grep -oE '^func Fuzz[A-Za-z0-9_]+' "$f" | sed 's/^func //' | while read -r fn; do
		n=$(awk -v fn="$fn" '$1 == fn { print $2 }' "$budgets")
		if [[ -z "$n" ]]; then
			echo "fuzz-targets.sh: $fn ($pkg) has no execution budget in $budgets" >&2
			exit 1
		fi
		echo "$pkg:$fn:$n"
	done
done
