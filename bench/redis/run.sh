#!/usr/bin/env bash
# Several nodes through Redis (issue 5): two Herald nodes sharing one redis-server, SUBS_PER_NODE subscribers on
# each, publishes on both, against one Herald node on SQLite with the same total of subscribers at the same rate,
# measured in the same run with bench/realtime's load generator.
#
# Per configuration: warm-up, then RATE events/s for DURATION s (no step-up). Latency = receipt - publish time on
# the load generator's monotonic clock (publishers and subscribers are one process); lost / duplicated per stream
# by seq, reordered per stream by event id. Redis CPU per 1,000 events from /proc/<redis pid>/stat (utime + stime)
# over the main run. Servers (the nodes and redis-server, or the single node) pinned to SERVER_CPU, the load
# generator to CLIENT_CPU: the same one core for all server-side work in both configurations.
# Writes bench/results/redis-<UTC>.json and the "Several nodes through Redis" section of BENCHMARKS.md.
#
# Environment (defaults in brackets):
#   SUBS_PER_NODE [5000]   subscribers per Redis node; the SQLite node gets 2 x SUBS_PER_NODE
#   STREAMS [100]          subscriber streams per connection
#   RATE [10]              events/s (both configurations; bench/realtime found its client saturates above ~12
#                          events/s at 10,000 subscribers on a 2-core machine)
#   DURATION [60]  WARMUP [10]  P99_LIMIT_MS [100]
#   CONFIGS ["sqlite sqlite-normal redis"]   which configurations to run, in this order; sqlite-normal is the
#                          single node with --sqlite-full-sync false (no fsync per commit, closer to Redis's
#                          appendfsync everysec); the target is judged against sqlite (Herald's defaults)
#   REDIS_SERVER [redis-server]  REDIS_APPENDFSYNC [everysec] (AOF on; "no" or "always" possible)
#   HERALD_JAR [<repo>/target/herald.jar]
#   HERALD_JAVA_OPTS ["-XX:ActiveProcessorCount=1 -Xms1g -Xmx1g -XX:+AlwaysPreTouch"]
#   LOADGEN_JAVA_OPTS ["-Xms1g -Xmx2g"]
#   SERVER_CPU [0], CLIENT_CPU [1]
#   OFFLINE [0]            1: build the load generator with mvnw -o
#   RESULTS_DIR [<repo>/bench/results], BENCHMARKS_MD [<repo>/BENCHMARKS.md]
#   KEEP_TMP [0]           keep the temp dir (server logs, raw load generator output)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

ENV_PREFIX=""
for v in SUBS_PER_NODE STREAMS RATE DURATION WARMUP P99_LIMIT_MS CONFIGS REDIS_APPENDFSYNC HERALD_JAR HERALD_JAVA_OPTS \
         LOADGEN_JAVA_OPTS SERVER_CPU CLIENT_CPU; do
  if [ -n "${!v+x}" ]; then ENV_PREFIX+="$v=$(printf '%q' "${!v}") "; fi
done

SUBS_PER_NODE="${SUBS_PER_NODE:-5000}"
STREAMS="${STREAMS:-100}"
RATE="${RATE:-10}"
DURATION="${DURATION:-60}"
WARMUP="${WARMUP:-10}"
P99_LIMIT_MS="${P99_LIMIT_MS:-100}"
CONFIGS="${CONFIGS:-sqlite sqlite-normal redis}"
REDIS_SERVER="${REDIS_SERVER:-redis-server}"
REDIS_APPENDFSYNC="${REDIS_APPENDFSYNC:-everysec}"
HERALD_JAR="${HERALD_JAR:-$REPO_ROOT/target/herald.jar}"
HERALD_JAVA_OPTS="${HERALD_JAVA_OPTS:--XX:ActiveProcessorCount=1 -Xms1g -Xmx1g -XX:+AlwaysPreTouch}"
export -n HERALD_JAR HERALD_JAVA_OPTS # the benchmark's own: Herald warns about HERALD_* names it does not know
LOADGEN_JAVA_OPTS="${LOADGEN_JAVA_OPTS:--Xms1g -Xmx2g}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
OFFLINE="${OFFLINE:-0}"
RESULTS_DIR="${RESULTS_DIR:-$REPO_ROOT/bench/results}"
BENCHMARKS_MD="${BENCHMARKS_MD:-$REPO_ROOT/BENCHMARKS.md}"
KEEP_TMP="${KEEP_TMP:-0}"

SUBS=$(( 2 * SUBS_PER_NODE ))
if [ "$SUBS_PER_NODE" -lt "$STREAMS" ]; then STREAMS="$SUBS_PER_NODE"; fi
[ $(( SUBS_PER_NODE % STREAMS )) -eq 0 ] || { echo "SUBS_PER_NODE ($SUBS_PER_NODE) must be a multiple of STREAMS ($STREAMS)" >&2; exit 64; }
CONNECTIONS=$(( SUBS / STREAMS ))   # even: spread round robin, half on each Redis node

log() { printf '[redis-bench] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

TMP="$(mktemp -d /tmp/herald-redis-bench.XXXXXX)"
PIDS=()
# shellcheck source=../lib.sh
source "$SCRIPT_DIR/../lib.sh"
trap cleanup EXIT

for t in java taskset setsid curl timeout python3 "$REDIS_SERVER"; do
  command -v "$t" >/dev/null 2>&1 || die "missing $t (redis-server: apt-get install redis-server)"
done
[ -f "$HERALD_JAR" ] || die "no $HERALD_JAR (build it with ./mvnw -B -ntp -q -DskipTests package)"

cpu_seconds() { # pid -> utime + stime in seconds, from /proc/<pid>/stat
  python3 -c 'import sys; f=open(f"/proc/{sys.argv[1]}/stat").read().rsplit(")",1)[1].split(); print((int(f[11])+int(f[12]))/100)' "$1"
}

# ---------------------------------------------------------------------------------------------------------------
# The load generator: bench/realtime's, which takes several ports (subscribers round robin, one publisher each)
# ---------------------------------------------------------------------------------------------------------------
log "building the load generator (bench/realtime/loadgen)"
MVN_FLAGS=(-q -B -ntp)
[ "$OFFLINE" = "1" ] && MVN_FLAGS+=(-o)
(cd "$REPO_ROOT" && ./mvnw "${MVN_FLAGS[@]}" -f bench/realtime/loadgen/pom.xml -Dloadgen.build.dir="$TMP/loadgen-build" \
    package) || die "the load generator did not build"
LOADGEN_JAR="$TMP/loadgen-build/realtime-loadgen.jar"
[ -f "$LOADGEN_JAR" ] || die "no $LOADGEN_JAR"

# ---------------------------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------------------------
mkdir -p "$TMP/site"
echo '<!doctype html><title>bench</title>' >"$TMP/site/index.html"

start_herald() { # name port extra-args... ; sets LAST_PID
  local name="$1" port="$2"
  shift 2
  mkdir -p "$TMP/$name-data"
  # shellcheck disable=SC2086
  setsid taskset -c "$SERVER_CPU" java $HERALD_JAVA_OPTS -jar "$HERALD_JAR" serve "$TMP/site" --host 127.0.0.1 --port -1 \
      --http-port "$port" --data-dir "$TMP/$name-data" --access-log false "$@" >"$TMP/$name.log" 2>&1 &
  LAST_PID=$!
  PIDS+=("$LAST_PID")
}

start_redis() { # port ; sets REDIS_PID
  mkdir -p "$TMP/redis"
  setsid taskset -c "$SERVER_CPU" "$REDIS_SERVER" --port "$1" --bind 127.0.0.1 --dir "$TMP/redis" --save "" \
      --appendonly yes --appendfsync "$REDIS_APPENDFSYNC" --daemonize no >"$TMP/redis.log" 2>&1 &
  REDIS_PID=$!
  PIDS+=("$REDIS_PID")
}

stop_pid() {
  kill -- "-$1" 2>/dev/null || true
  local i
  for (( i = 0; i < 50; i++ )); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  kill -9 -- "-$1" 2>/dev/null || true
}

ready_herald() { # name port pid
  wait_port "$2" 60 || { tail -20 "$TMP/$1.log" >&2; die "$1 did not start on port $2"; }
  sleep 0.5
  check_pinned "$3" "$SERVER_CPU"
  local status
  status="$(curl -s -o "$TMP/$1.check" -w '%{http_code}' --http2-prior-knowledge -X POST \
      -H 'content-type: application/json' -d '{"check":true}' "http://127.0.0.1:$2/topics/bench-check" || true)"
  [ "$status" = "201" ] || { cat "$TMP/$1.check" >&2 || true; tail -20 "$TMP/$1.log" >&2; die "$1: POST /topics/bench-check answered $status"; }
}

loadgen() { # label ports server-pids out extra...
  local label="$1" ports="$2" pids="$3" out="$4"
  shift 4
  # shellcheck disable=SC2086
  taskset -c "$CLIENT_CPU" java $LOADGEN_JAVA_OPTS -jar "$LOADGEN_JAR" --connections "$CONNECTIONS" --streams "$STREAMS" \
      --p99-limit-ms "$P99_LIMIT_MS" --port "$ports" --server-pid "$pids" --label "$label" --rate "$RATE" \
      --duration "$DURATION" --warmup "$WARMUP" --steps false --out "$out" "$@" \
      2> >(tee "$TMP/$label.load.log" >&2) || log "$label: the load generator exited with $?"
}

run_sqlite() { # name extra-args...
  local name="$1" port
  shift
  port="$(free_port)"
  start_herald "$name" "$port" "$@"
  local pid=$LAST_PID
  ready_herald "$name" "$port" "$pid"
  log "$name: one node, $SUBS subscribers, $RATE events/s for $DURATION s after $WARMUP s"
  loadgen "$name" "$port" "$pid" "$TMP/$name.load.json"
  kill -0 "$pid" 2>/dev/null || { echo "server died during the run" >"$TMP/$name.died"; tail -20 "$TMP/$name.log" >&2; }
  stop_pid "$pid"
}

run_redis() {
  local rport p1 p2
  rport="$(free_port)"
  start_redis "$rport"
  wait_port "$rport" 20 || { cat "$TMP/redis.log" >&2; die "redis-server did not start on port $rport"; }
  check_pinned "$REDIS_PID" "$SERVER_CPU"
  local url="redis://127.0.0.1:$rport"
  p1="$(free_port)"
  start_herald node-a "$p1" --store "$url"
  local pa=$LAST_PID
  p2="$(free_port)"
  start_herald node-b "$p2" --store "$url"
  local pb=$LAST_PID
  ready_herald node-a "$p1" "$pa"
  ready_herald node-b "$p2" "$pb"
  local cpu0 cpu1
  cpu0="$(cpu_seconds "$REDIS_PID")"
  log "redis: two nodes on $url, $SUBS_PER_NODE subscribers each, publishes on both, $RATE events/s"
  loadgen redis "$p1,$p2" "$pa,$pb" "$TMP/redis.load.json" --watch-pids "redis=$REDIS_PID,node-a=$pa,node-b=$pb"
  cpu1="$(cpu_seconds "$REDIS_PID")"
  printf '{"port": %s, "appendonly": "yes", "appendfsync": "%s", "version": "%s", "cpuSecondsWholeRun": %s}\n' \
      "$rport" "$REDIS_APPENDFSYNC" "$("$REDIS_SERVER" --version | sed 's/.* v=\([^ ]*\).*/\1/')" \
      "$(python3 -c "print(round($cpu1 - $cpu0, 2))")" >"$TMP/redis.server.json"
  for n in node-a:"$pa" node-b:"$pb"; do
    kill -0 "${n#*:}" 2>/dev/null || { echo "${n%%:*} died during the run" >>"$TMP/redis.died"; tail -20 "$TMP/${n%%:*}.log" >&2; }
  done
  stop_pid "$pa"
  stop_pid "$pb"
  stop_pid "$REDIS_PID"
}

TS="$(date -u +%Y%m%dT%H%M%SZ)"
UPTIME_BEFORE="$(uptime)"
log "run $TS; $UPTIME_BEFORE"
case "$(cut -d' ' -f1 /proc/loadavg)" in 0.*) ;; *) log "warning: load average above 1 at start; numbers will be noisy" ;; esac

for c in $CONFIGS; do
  case "$c" in
    sqlite) run_sqlite sqlite ;;
    sqlite-normal) run_sqlite sqlite-normal --sqlite-full-sync false ;;
    redis) run_redis ;;
    *) die "unknown configuration $c" ;;
  esac
done
UPTIME_AFTER="$(uptime)"
log "done; $UPTIME_AFTER"

# ---------------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------------
q() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }
HERALD_VERSION="$(timeout 20 java -jar "$HERALD_JAR" --version 2>/dev/null | head -1 || true) (jar sha256 $(sha256sum "$HERALD_JAR" | cut -c1-12))"
cat >"$TMP/meta.json" <<JSON
{
  "timestamp": "$TS",
  "machine": {"nproc": $(nproc), "cpu": $(q "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"),
              "kernel": "$(uname -sr)", "uptimeBefore": $(q "$UPTIME_BEFORE"), "uptimeAfter": $(q "$UPTIME_AFTER")},
  "versions": {"herald": $(q "$HERALD_VERSION"), "java": $(q "$(java -version 2>&1 | head -1)"),
               "redis": $(q "$("$REDIS_SERVER" --version)")},
  "settings": {"subscribersPerRedisNode": $SUBS_PER_NODE, "subscribers": $SUBS, "connections": $CONNECTIONS,
               "streamsPerConnection": $STREAMS, "rate": $RATE, "durationSeconds": $DURATION, "warmupSeconds": $WARMUP,
               "p99LimitMs": $P99_LIMIT_MS, "serverCpu": "$SERVER_CPU", "clientCpu": "$CLIENT_CPU",
               "redisAppendfsync": "$REDIS_APPENDFSYNC", "configs": "$CONFIGS"},
  "commands": {"sqlite-normal": "(the sqlite command) --sqlite-full-sync false",
               "sqlite": "taskset -c $SERVER_CPU java $HERALD_JAVA_OPTS -jar herald.jar serve SITE --host 127.0.0.1 --port -1 --http-port PORT --data-dir TMP/sqlite-data --access-log false",
               "redis-server": "taskset -c $SERVER_CPU redis-server --port RPORT --bind 127.0.0.1 --dir TMP/redis --save '' --appendonly yes --appendfsync $REDIS_APPENDFSYNC",
               "redis-nodes": "(the sqlite command, twice, ports PORT_A/PORT_B, data dirs node-a-data/node-b-data) --store redis://127.0.0.1:RPORT",
               "loadgen": "taskset -c $CLIENT_CPU java $LOADGEN_JAVA_OPTS -jar realtime-loadgen.jar --connections $CONNECTIONS --streams $STREAMS --rate $RATE --duration $DURATION --warmup $WARMUP --steps false --port PORT | PORT_A,PORT_B --watch-pids redis=PID,...",
               "run": $(q "${ENV_PREFIX}bench/redis/run.sh")}
}
JSON
mkdir -p "$RESULTS_DIR"
python3 "$SCRIPT_DIR/report.py" --tmp "$TMP" --configs "$CONFIGS" --results-dir "$RESULTS_DIR" \
    --benchmarks-md "$BENCHMARKS_MD" --repo-root "$REPO_ROOT" || { KEEP_TMP=1; die "the report failed; raw output kept"; }
