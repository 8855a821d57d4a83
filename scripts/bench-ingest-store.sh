#!/usr/bin/env bash
# bench-ingest-store.sh: C-STORE ingest throughput of `sacrum serve` with the study store as its handler
# (header parse and fsync of each file before success; SHA-256, move into studies/<study>/<series>/,
# directory fsyncs and bbolt records in the batch writer; stable timers running) against DCMTK storescp
# (writes files, no fsync), same files, same run, same number of parallel storescu associations; sacrum
# once durable and once with --fsync=false, which is what storescp does. Prints the best round of each:
# seconds, files/s, MB/s and throughput relative to storescp. The time counts until the last response;
# the script then checks that every instance was recorded.
#
#   PATIENTS=4 ASSOC=4 ROUNDS=3 scripts/bench-ingest-store.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PATIENTS=${PATIENTS:-4}
ASSOC=${ASSOC:-4}
ROUNDS=${ROUNDS:-3}
export TCP_NODELAY=1

work=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

go build -o "$work/sacrum" ./cmd/sacrum
"$work/sacrum" synth --out "$work/in" --patients "$PATIENTS" --seed 1 --quiet >/dev/null
find "$work/in/patients" -path '*/dicom/*' -name '*.dcm' | sort >"$work/files"
nfiles=$(wc -l <"$work/files")
bytes=$(xargs -a "$work/files" du -cb | tail -1 | cut -f1)
split -n "r/$ASSOC" "$work/files" "$work/list."
echo "== $nfiles MR files, $((bytes / 1000000)) MB, $ASSOC parallel associations, $ROUNDS rounds, $(nproc) cores"

# free_port picks a random port nobody listens on, below the kernel's ephemeral range (so the
# client side of some connection cannot take it before the server binds it).
free_port() {
	local p lo
	read -r lo _ </proc/sys/net/ipv4/ip_local_port_range
	while :; do
		p=$(shuf -i 10000-$((lo - 1)) -n 1)
		(exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
	done
}
wait_port() { for _ in $(seq 200); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; return 1; }

# send PORT: every list over its own association, in parallel; prints the wall time in seconds.
send() {
	local start end spids=()
	start=$(date +%s.%N)
	for l in "$work"/list.*; do
		xargs -a "$l" storescu -aet STORESCU -aec SACRUM 127.0.0.1 "$1" &
		spids+=($!)
	done
	for p in "${spids[@]}"; do wait "$p"; done
	end=$(date +%s.%N)
	echo "$end - $start" | bc -l
}

run_storescp() {
	local port out
	port=$(free_port)
	out="$work/scp.$1"
	mkdir -p "$out"
	storescp -aet SACRUM -od "$out" "$port" &
	pids+=($!)
	wait_port "$port"
	send "$port"
	kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
	[ "$(find "$out" -type f | wc -l)" -eq "$nfiles" ] || { echo "storescp stored $(find "$out" -type f | wc -l) files" >&2; exit 1; }
}

# run_sacrum ROUND FSYNC
run_sacrum() {
	local port admin data attempt
	for attempt in 1 2 3; do
		port=$(free_port)
		admin=$(free_port)
		while [ "$admin" = "$port" ]; do admin=$(free_port); done
		data="$work/sacrum.$1.$2.$attempt"
		"$work/sacrum" serve --listen "127.0.0.1:$port" --admin "127.0.0.1:$admin" --data-dir "$data" \
			--allow-aet STORESCU --stable-seconds 3600 --pipeline none --log-level error --fsync="$2" 2>"$data.log" &
		pids+=($!)
		wait_port "$port" && wait_port "$admin" && break
		echo "sacrum serve did not start on ports $port and $admin: $(tail -1 "$data.log")" >&2
		kill "${pids[-1]}" 2>/dev/null; wait "${pids[-1]}" 2>/dev/null || true
		[ "$attempt" -lt 3 ] || exit 1
	done
	send "$port"
	# Records are committed in batches just after the responses: poll until all are there.
	local n=0
	for _ in $(seq 100); do
		n=$("$work/sacrum" status --admin "127.0.0.1:$admin" --json 2>/dev/null | awk '/"instances":/ { gsub(/[^0-9]/, "", $2); n += $2 } END { print n + 0 }')
		[ "$n" -eq "$nfiles" ] && break
		sleep 0.1
	done
	kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
	[ "$n" -eq "$nfiles" ] || { echo "sacrum recorded $n instances" >&2; exit 1; }
}

min() { echo "if ($1 < $2) $1 else $2" | bc -l; }
best_scp=999999
best_sac=999999
best_nos=999999
for r in $(seq "$ROUNDS"); do
	t_scp=$(run_storescp "$r")
	t_sac=$(run_sacrum "$r" true)
	t_nos=$(run_sacrum "$r" false)
	printf 'round %d: storescp %.2f s, sacrum (store, fsync) %.2f s, sacrum (store, --fsync=false) %.2f s\n' "$r" "$t_scp" "$t_sac" "$t_nos"
	best_scp=$(min "$t_scp" "$best_scp")
	best_sac=$(min "$t_sac" "$best_sac")
	best_nos=$(min "$t_nos" "$best_nos")
done
line() { printf '%-34s %6.2f s  %5.0f files/s  %6.1f MB/s  %.2fx storescp\n' "$1" "$2" "$(echo "$nfiles / $2" | bc -l)" \
	"$(echo "$bytes / 1000000 / $2" | bc -l)" "$(echo "$best_scp / $2" | bc -l)"; }
echo "best of $ROUNDS:"
line "DCMTK storescp (no fsync)" "$best_scp"
line "sacrum serve, store, fsync" "$best_sac"
line "sacrum serve, store, --fsync=false" "$best_nos"
