#!/usr/bin/env bash
# Ingest benchmark (issue 2, acceptance 4): DCMTK storescu sends N MR images (256×256, 16-bit) in
# one association, alternately to `sacrum serve` (fsync before each C-STORE success) and to DCMTK
# `storescp -od DIR`, for ROUNDS rounds each; prints images/s for both and the ratio. Then the
# memory check: one ~200 MB instance is sent to a fresh `sacrum serve` and the rise of its peak RSS
# (VmHWM) is reported (goal < 64 MB). For context it also times storescp made durable with
# `--exec-on-reception "sync -f #p/#f" --exec-sync` (not part of the ratio).
#
#   scripts/bench-ingest.sh                 # N=500 ROUNDS=3 BIG_SIDE=10240
#   N=100 ROUNDS=5 scripts/bench-ingest.sh
#   SACRUM_FSYNC=false scripts/bench-ingest.sh   # diagnosis only: no fsync, like storescp
set -euo pipefail

N=${N:-500}
ROUNDS=${ROUNDS:-3}
BIG_SIDE=${BIG_SIDE:-10240} # 10240×10240×2 bytes = 200 MiB of pixel data
PORT_SACRUM=${PORT_SACRUM:-11612}
PORT_STORESCP=${PORT_STORESCP:-11613}
export TCP_NODELAY=1

for tool in storescu storescp go; do
	command -v "$tool" >/dev/null || { echo "bench-ingest: $tool not found (make setup installs DCMTK)" >&2; exit 1; }
done

root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/sacrum-bench-ingest.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

echo "bench-ingest: building sacrum and $N MR images in $work" >&2
(cd "$root" && go build -o "$work/sacrum" ./cmd/sacrum)
(cd "$root" && go run ./dimse/dimsetest/mkmr -n "$N" -rows 256 -cols 256 -seed 11 -out "$work/mr" >/dev/null)

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; } # floating-point arithmetic without bc

wait_port() { # wait until something accepts on 127.0.0.1:$1
	for _ in $(seq 1 200); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
		sleep 0.05
	done
	echo "bench-ingest: nothing listens on port $1" >&2
	return 1
}

start_sacrum() { # $1 = data dir; sets spid
	"$work/sacrum" serve --listen "127.0.0.1:$PORT_SACRUM" --data-dir "$1" --allow-aet STORESCU \
		--admin 127.0.0.1:0 --pipeline none --fsync="${SACRUM_FSYNC:-true}" --log-level warn >"$1.log" 2>&1 &
	spid=$!
	pids+=("$spid")
	wait_port "$PORT_SACRUM"
}

stop() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }

run_sacrum() { # prints seconds
	local d="$work/sacrum-data-$1"
	start_sacrum "$d"
	local t0 t1
	t0=$(now)
	storescu -aet STORESCU -aec SACRUM +sd "127.0.0.1" "$PORT_SACRUM" "$work/mr" >"$d.storescu.log" 2>&1
	t1=$(now)
	stop "$spid"
	local stored
	stored=$(find "$d" -name '*.dcm' -o -name '*.dcm.*' | wc -l)
	[ "$stored" -ge "$N" ] || echo "bench-ingest: warning: sacrum data dir has $stored files, want $N" >&2
	rm -rf "$d"
	calc "$t1 - $t0"
}

run_storescp() { # $1 = round, $2 = "sync" to make storescp durable (sync -f after each file)
	local d="$work/storescp-data-$1${2:-}"
	mkdir -p "$d"
	local durable=()
	if [ "${2:-}" = sync ]; then durable=(--exec-on-reception "sync -f #p/#f" --exec-sync); fi
	storescp -aet STORESCP -od "$d" "${durable[@]}" "$PORT_STORESCP" >"$d.log" 2>&1 &
	local p=$!
	pids+=("$p")
	wait_port "$PORT_STORESCP"
	local t0 t1
	t0=$(now)
	storescu -aet STORESCU -aec STORESCP +sd "127.0.0.1" "$PORT_STORESCP" "$work/mr" >"$d.storescu.log" 2>&1
	t1=$(now)
	stop "$p"
	local stored
	stored=$(ls "$d" | wc -l)
	[ "$stored" -eq "$N" ] || echo "bench-ingest: warning: storescp stored $stored files, want $N" >&2
	rm -rf "$d"
	calc "$t1 - $t0"
}

printf '%-6s %-10s %10s %10s\n' round node seconds images/s
sum_s=0
sum_d=0
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) -eq 1 ]; then order="sacrum storescp"; else order="storescp sacrum"; fi
	for node in $order; do
		if [ "$node" = sacrum ]; then s=$(run_sacrum "$r"); else s=$(run_storescp "$r"); fi
		ips=$(calc "$N / $s")
		printf '%-6s %-10s %10.3f %10.1f\n' "$r" "$node" "$s" "$ips"
		if [ "$node" = sacrum ]; then sum_s=$(calc "$sum_s + $s"); else sum_d=$(calc "$sum_d + $s"); fi
	done
done
ips_s=$(calc "$N * $ROUNDS / $sum_s")
ips_d=$(calc "$N * $ROUNDS / $sum_d")
printf "sacrum serve (fsync=%s): %.1f images/s\n" "${SACRUM_FSYNC:-true}" "$ips_s"
printf 'storescp -od:         %.1f images/s\n' "$ips_d"
printf 'ratio sacrum/storescp: %.2f\n' "$(calc "$ips_s / $ips_d")"

# Context, not part of the ratio: storescp made durable by its own means (a synchronous
# `sync -f` of the file system after each file, which is a fork and a syncfs per instance).
sum_y=0
for r in $(seq 1 "$ROUNDS"); do
	s=$(run_storescp "$r" sync)
	sum_y=$(calc "$sum_y + $s")
done
printf 'storescp -od + sync -f per file (durable reference): %.1f images/s\n' "$(calc "$N * $ROUNDS / $sum_y")"

# Memory: one large instance through a fresh node.
echo "bench-ingest: writing one ${BIG_SIDE}x${BIG_SIDE} instance" >&2
(cd "$root" && go run ./dimse/dimsetest/mkmr -n 1 -rows "$BIG_SIDE" -cols "$BIG_SIDE" -seed 12 -out "$work/big" >/dev/null)
size_mb=$(( $(stat -c %s "$work/big/IMG0001.dcm") / 1048576 ))
d="$work/sacrum-big"
start_sacrum "$d"
kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$spid/status"; }
# Warm up with one small association so the baseline includes a served association.
storescu -aet STORESCU -aec SACRUM "127.0.0.1" "$PORT_SACRUM" "$work/mr/IMG0001.dcm" >/dev/null 2>&1
rss0=$(kb VmRSS)
storescu -aet STORESCU -aec SACRUM "127.0.0.1" "$PORT_SACRUM" "$work/big/IMG0001.dcm" >"$d.storescu.log" 2>&1
hwm1=$(kb VmHWM)
stop "$spid"
printf 'memory: %d MB instance; sacrum RSS before %.1f MB, peak during %.1f MB, increase %.1f MB (goal < 64 MB)\n' \
	"$size_mb" "$(calc "$rss0 / 1024")" "$(calc "$hwm1 / 1024")" "$(calc "($hwm1 - $rss0) / 1024")"
