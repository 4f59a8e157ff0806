#!/usr/bin/env bash
# Runs the same load generator against PostgreSQL 15 (fsync on) and chr2sql
# (one node, and three nodes on this machine) and prints transactions per
# second with the ratio to PostgreSQL. Needs root (PostgreSQL runs as user
# postgres), the postgresql-15 package, jq and Go.
#
#   bench/run.sh [duration]      default 10s per measurement
#   WORKLOADS="insert tpcb" CLIENTS="1 8 32" EFFECT_CLIENTS="1 8" bench/run.sh
#
# The effects workload (chr2sql only: PostgreSQL has no outbox) commits a row
# and an effect per transaction to a webhook sink inside loadgen and reports
# effects delivered per second and commit-to-delivery latency.
set -euo pipefail
cd "$(dirname "$0")/.."
DUR=${1:-10s}
WORKLOADS=${WORKLOADS:-"insert tpcb"}
CLIENTS=${CLIENTS:-"1 8 32"}
EFFECT_CLIENTS=${EFFECT_CLIENTS:-"1 8"}
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
# Random port bases below the kernel's ephemeral range (32768 up), so runs
# beside other servers, or outgoing connections, do not collide.
P=$((20000 + RANDOM % 12000))
work=$(mktemp -d)
chmod 755 $work
trap 'kill $(jobs -p) 2>/dev/null; runuser -u postgres -- $PGBIN/pg_ctl -D $work/pg -m immediate stop >/dev/null 2>&1 || true; rm -rf $work' EXIT

go build -o $work/chr2sql ./cmd/chr2sql
go build -o $work/loadgen ./bench/loadgen

# PostgreSQL yardstick: a fresh cluster, fsync and synchronous_commit on.
mkdir $work/pg && chown postgres $work/pg
runuser -u postgres -- $PGBIN/initdb -D $work/pg -A trust -U postgres >/dev/null
runuser -u postgres -- $PGBIN/pg_ctl -D $work/pg -l $work/pg/server.log -w \
	-o "-p $((P)) -k /tmp -c fsync=on -c synchronous_commit=on -c max_connections=200" start >/dev/null

start_chr2() { # id peers pgport raftport httpport
	$work/chr2sql start --data-dir $work/n$1 --node-id $1 --pg-addr 127.0.0.1:$3 --raft-addr 127.0.0.1:$4 \
		--http-addr 127.0.0.1:$5 ${2:+--peers $2} --log-level warn >$work/n$1.log 2>&1 &
}
wait_ready() {
	for _ in $(seq 300); do curl -sf http://127.0.0.1:$1/readyz >/dev/null && return 0; sleep 0.1; done
	echo "node on $1 not ready; node logs:" >&2; tail -n 20 $work/*.log >&2; exit 1
}

declare -A tps eff
measure() { # target dsn workload clients
	local out
	out=$($work/loadgen -dsn "$2" -workload $3 -clients $4 -duration $DUR -label $1)
	echo "$out" >>$work/results.jsonl
	tps[$1/$3/$4]=$(echo "$out" | sed -E 's/.*"tps":([0-9.]+).*/\1/')
	if [ $3 = effects ]; then
		eff[$1/$4]=$(echo "$out" | jq -r '[.tps, .effects_per_sec, .delivery_p50_ms, .delivery_p99_ms, .effects_delivered, .transactions] | @tsv')
	fi
}

for w in $WORKLOADS; do for c in $CLIENTS; do
	measure pg "postgres://postgres@127.0.0.1:$((P))/postgres" $w $c
done; done

start_chr2 1 "" $((P+1)) $((P+2)) $((P+3)); single=$!; wait_ready $((P+3))
for w in $WORKLOADS; do for c in $CLIENTS; do
	measure chr2-1 "postgres://postgres@127.0.0.1:$((P+1))/postgres" $w $c
done; done
for c in $EFFECT_CLIENTS; do measure chr2-1 "postgres://postgres@127.0.0.1:$((P+1))/postgres" effects $c; done
kill $single; wait $single 2>/dev/null || true

peers="1=127.0.0.1:$((P+21)),2=127.0.0.1:$((P+22)),3=127.0.0.1:$((P+23))"
for i in 1 2 3; do
	$work/chr2sql start --data-dir $work/c$i --node-id $i --pg-addr 127.0.0.1:$((P+10+i)) --raft-addr 127.0.0.1:$((P+20+i)) \
		--http-addr 127.0.0.1:$((P+30+i)) --peers $peers --log-level warn >$work/c$i.log 2>&1 &
done
for i in 1 2 3; do wait_ready $((P+30+i)); done
leader=""
for i in 1 2 3; do
	if curl -s http://127.0.0.1:$((P+30+i))/status | grep '"role": *"leader"' >/dev/null; then leader=$i; break; fi
done
[ -n "$leader" ] || { echo "no leader among the three nodes" >&2; exit 1; }
for w in $WORKLOADS; do for c in $CLIENTS; do
	measure chr2-3 "postgres://postgres@127.0.0.1:$((P+10+leader))/postgres" $w $c
done; done
for c in $EFFECT_CLIENTS; do measure chr2-3 "postgres://postgres@127.0.0.1:$((P+10+leader))/postgres" effects $c; done

printf '\n%-8s %-8s %10s %12s %8s %12s %8s\n' workload clients pg_tps chr2_1node ratio chr2_3nodes ratio
for w in $WORKLOADS; do for c in $CLIENTS; do
	pg=${tps[pg/$w/$c]}; a=${tps[chr2-1/$w/$c]}; b=${tps[chr2-3/$w/$c]}
	printf '%-8s %-8s %10.0f %12.0f %8.2f %12.0f %8.2f\n' $w $c $pg $a $(echo "$a/$pg" | bc -l) $b $(echo "$b/$pg" | bc -l)
done; done
printf '\neffects: %-8s %-7s %10s %12s %10s %10s %10s %12s\n' target clients commit_tps effects_per_s p50_ms p99_ms delivered committed
for t in chr2-1 chr2-3; do for c in $EFFECT_CLIENTS; do
	printf '         %-8s %-7s %10.0f %12.0f %10s %10s %10s %12s\n' $t $c ${eff[$t/$c]}
done; done
echo; echo "raw results:"; cat $work/results.jsonl
