#!/usr/bin/env bash
# bench-ingest-ab.sh: the ingest benchmark of issue 2 (N MR images 256×256 16-bit, DCMTK storescu +sd,
# one association) for several nodes in one run, the order rotating each round so that drifts of the
# machine fall on all alike. A node is the path of a sacrum binary (run as `serve --pipeline none`, fsync
# unless FSYNC=false), `storescp` (DCMTK storescp -od DIR) or `storescp-ignore` (storescp --ignore:
# receives and drops, the floor set by storescu and the network). Prints images/s per round and overall.
#
#   go build -o /tmp/new ./cmd/sacrum; git stash; go build -o /tmp/old ./cmd/sacrum; git stash pop
#   ROUNDS=8 scripts/bench-ingest-ab.sh /tmp/old /tmp/new storescp
set -euo pipefail
N=${N:-500}
ROUNDS=${ROUNDS:-5}
PORT=${PORT:-11614}
export TCP_NODELAY=1
[ $# -gt 0 ] || { echo "usage: $0 NODE..." >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/sacrum-bench-ab.XXXXXX")
trap 'rm -rf "$work"' EXIT
(cd "$root" && go run ./dimse/dimsetest/mkmr -n "$N" -rows 256 -cols 256 -seed 11 -out "$work/mr" >/dev/null)

wait_port() {
	for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done
	echo "nothing listens on port $1" >&2
	return 1
}

run() { # $1 = node; prints seconds
	local d="$work/data" p aec=SACRUM t0 t1
	mkdir -p "$d"
	case "$1" in
	storescp) storescp -aet SACRUM -od "$d" "$PORT" & p=$! ;;
	storescp-ignore) storescp -aet SACRUM --ignore -od "$d" "$PORT" & p=$! ;;
	*) "$1" serve --listen "127.0.0.1:$PORT" --data-dir "$d" --allow-aet STORESCU --admin 127.0.0.1:0 \
		--pipeline none --fsync="${FSYNC:-true}" --log-level warn >"$work/serve.log" 2>&1 & p=$! ;;
	esac
	wait_port "$PORT"
	t0=$(date +%s.%N)
	storescu -aet STORESCU -aec "$aec" +sd 127.0.0.1 "$PORT" "$work/mr" >"$work/storescu.log" 2>&1 ||
		{ echo "storescu to $1 failed:" >&2; tail -5 "$work/storescu.log" >&2; kill "$p"; exit 1; }
	t1=$(date +%s.%N)
	kill "$p"; wait "$p" 2>/dev/null || true
	rm -rf "$d"
	awk "BEGIN { print $t1 - $t0 }"
}

nodes=("$@")
declare -A total
for r in $(seq "$ROUNDS"); do
	line="round $r:"
	for k in $(seq 0 $((${#nodes[@]} - 1))); do
		b=${nodes[$(((k + r) % ${#nodes[@]}))]}
		s=$(run "$b")
		total[$b]=$(awk "BEGIN { print ${total[$b]:-0} + $s }")
		line="$line  $(basename "$b") $(awk "BEGIN { printf \"%.0f\", $N / $s }")"
	done
	echo "$line"
done
for b in "${nodes[@]}"; do
	printf '%-40s %6.0f images/s\n' "$b" "$(awk "BEGIN { print $N * $ROUNDS / ${total[$b]} }")"
done
