#!/usr/bin/env bash
# Fan-out benchmark of Herald's topics (issue 4) against a Node.js http2 baseline, measured in the same run.
#
# SUBS subscribers (CONNECTIONS x STREAMS, h2c prior knowledge, GET /topics/bench, NDJSON) on one topic; one
# more connection publishes RATE events/s for DURATION s (after WARMUP s at the same rate), then a step-up
# (RATE, 2*RATE, 4*RATE, ... STEP_SECONDS each) until p99 passes P99_LIMIT_MS or an event is lost, reordered or
# duplicated (if the first step already fails: halving down to STEP_MIN). Latency = receipt - publish time on the
# load generator's monotonic clock (publisher and subscribers are one process). Memory: heap (after a full GC)
# and RSS of the server with SUBS idle subscribers vs none, in a second hold cycle (the first pays one-time
# costs) -> bytes per idle subscriber stream.
# Servers pinned to SERVER_CPU, the load generator to CLIENT_CPU. Writes bench/results/realtime-<UTC>.json,
# bench/results/realtime-<UTC>-latency.png (.svg without matplotlib) and the realtime section of BENCHMARKS.md.
#
# Environment (defaults in brackets):
#   SUBS [10000]           subscribers in total; CONNECTIONS = SUBS / STREAMS
#   STREAMS [100]          subscriber streams per connection
#   RATE [100]             events/s of the main run (and the first step)
#   DURATION [60]          seconds of the main run
#   WARMUP [10]            seconds at RATE before the main run (JIT warm-up; reported, not judged)
#   STEPS [1]              0: no step search
#   STEP_START [RATE/4]    first rate of the step search, which runs on a fresh server after the main run
#   STEP_SECONDS [10]  STEP_MAX [102400]  STEP_MIN [1]  P99_LIMIT_MS [100]
#                          (the main run counts as the first step; from it up by doubling, or down by halving
#                          when it is not within the limits; then bisecting between the last rate within the
#                          limits and the first over them until the gap is within an eighth of the former)
#   SERVERS ["herald herald-normal node"]   herald-normal: Herald with --sqlite-full-sync false (synchronous=NORMAL,
#                          no fsync per commit), to tell the store's commit latency from the fan-out's
#   HERALD_ARGS []         extra arguments for `herald serve` (both Herald variants)
#   HERALD_LAG_ARGS ["--streams-max-lag-events 100000 --streams-max-lag-bytes 64MiB"]   Herald's slow-subscriber
#                          bounds for the run: an overloaded step then shows as latency, as it does for Node (which
#                          buffers without bound), instead of ending streams, after which the step-up has to stop
#                          (later steps would measure fewer subscribers). The memory measurement is unaffected.
#   HERALD_JAR [<repo>/target/herald.jar]   Herald is skipped (with a message) when missing or without /topics
#   HERALD_JAVA_OPTS ["-XX:ActiveProcessorCount=1 -Xms1g -Xmx1g -XX:+AlwaysPreTouch"]
#   NODE [node]  NODE_OPTS ["--expose-gc"]
#   LOADGEN_JAVA_OPTS ["-Xms1g -Xmx2g"]
#   MEMORY [1]             0: skip the idle-memory measurement
#   SERVER_CPU [0], CLIENT_CPU [1]
#   OFFLINE [0]            1: build the load generator with mvnw -o
#   RESULTS_DIR [<repo>/bench/results], BENCHMARKS_MD [<repo>/BENCHMARKS.md]
#   KEEP_TMP [0]           keep the temp dir (logs, raw load generator output)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"

ENV_PREFIX=""
for v in SUBS STREAMS RATE DURATION WARMUP STEPS STEP_START STEP_SECONDS STEP_MAX STEP_MIN P99_LIMIT_MS SERVERS HERALD_JAR \
         HERALD_JAVA_OPTS HERALD_ARGS HERALD_LAG_ARGS NODE_OPTS LOADGEN_JAVA_OPTS MEMORY SERVER_CPU CLIENT_CPU; do
  if [ -n "${!v+x}" ]; then ENV_PREFIX+="$v=$(printf '%q' "${!v}") "; fi
done

SUBS="${SUBS:-10000}"
STREAMS="${STREAMS:-100}"
RATE="${RATE:-100}"
DURATION="${DURATION:-60}"
WARMUP="${WARMUP:-10}"
STEPS="${STEPS:-1}"
STEP_START="${STEP_START:-$(( RATE / 4 > 0 ? RATE / 4 : 1 ))}"
STEP_SECONDS="${STEP_SECONDS:-10}"
STEP_MAX="${STEP_MAX:-102400}"
STEP_MIN="${STEP_MIN:-1}"
P99_LIMIT_MS="${P99_LIMIT_MS:-100}"
SERVERS="${SERVERS:-herald herald-normal node}"
HERALD_ARGS="${HERALD_ARGS:-}"
HERALD_LAG_ARGS="${HERALD_LAG_ARGS---streams-max-lag-events 100000 --streams-max-lag-bytes 64MiB}"
HERALD_JAR="${HERALD_JAR:-$REPO_ROOT/target/herald.jar}"
HERALD_JAVA_OPTS="${HERALD_JAVA_OPTS:--XX:ActiveProcessorCount=1 -Xms1g -Xmx1g -XX:+AlwaysPreTouch}"
export -n HERALD_JAR HERALD_JAVA_OPTS HERALD_ARGS HERALD_LAG_ARGS # the benchmark's own: Herald warns about HERALD_* names it does not know
NODE="${NODE:-node}"
NODE_OPTS="${NODE_OPTS:---expose-gc}"
LOADGEN_JAVA_OPTS="${LOADGEN_JAVA_OPTS:--Xms1g -Xmx2g}"
MEMORY="${MEMORY:-1}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
OFFLINE="${OFFLINE:-0}"
RESULTS_DIR="${RESULTS_DIR:-$REPO_ROOT/bench/results}"
BENCHMARKS_MD="${BENCHMARKS_MD:-$REPO_ROOT/BENCHMARKS.md}"
KEEP_TMP="${KEEP_TMP:-0}"

if [ "$SUBS" -lt "$STREAMS" ]; then STREAMS="$SUBS"; fi
CONNECTIONS=$(( SUBS / STREAMS ))
[ $(( CONNECTIONS * STREAMS )) -eq "$SUBS" ] || { echo "SUBS ($SUBS) must be a multiple of STREAMS ($STREAMS)" >&2; exit 64; }

log() { printf '[realtime] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

TMP="$(mktemp -d /tmp/herald-realtime.XXXXXX)"
PIDS=()
# shellcheck source=../lib.sh
source "$SCRIPT_DIR/../lib.sh"
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------------------------
for t in java jcmd jstat taskset setsid curl timeout python3; do
  command -v "$t" >/dev/null 2>&1 || die "missing $t"
done
if [[ " $SERVERS " == *" node "* ]]; then command -v "$NODE" >/dev/null 2>&1 || die "missing node (Node.js 20)"; fi
# The chart: matplotlib from Debian's python3-matplotlib (installed with apt-get when running as root), else SVG.
PY=python3
if /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
  PY=/usr/bin/python3
elif [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  log "installing python3-matplotlib for the chart"
  if DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-matplotlib >"$TMP/apt.log" 2>&1 \
      && /usr/bin/python3 -c 'import matplotlib' 2>/dev/null; then
    PY=/usr/bin/python3
  else
    log "python3-matplotlib not installable: the chart will be a hand-written SVG"
  fi
fi

# ---------------------------------------------------------------------------------------------------------------
# Load generator
# ---------------------------------------------------------------------------------------------------------------
log "building the load generator"
MVN_FLAGS=(-q -B)
[ "$OFFLINE" = "1" ] && MVN_FLAGS+=(-o)
(cd "$REPO_ROOT" && ./mvnw "${MVN_FLAGS[@]}" -f bench/realtime/loadgen/pom.xml -Dloadgen.build.dir="$TMP/loadgen-build" \
    package) || die "the load generator did not build"
LOADGEN_JAR="$TMP/loadgen-build/realtime-loadgen.jar"
[ -f "$LOADGEN_JAR" ] || die "no $LOADGEN_JAR"

loadgen() { # args...
  # shellcheck disable=SC2086
  taskset -c "$CLIENT_CPU" java $LOADGEN_JAVA_OPTS -jar "$LOADGEN_JAR" --connections "$CONNECTIONS" --streams "$STREAMS" \
      --p99-limit-ms "$P99_LIMIT_MS" "$@"
}

# ---------------------------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------------------------
SERVER_PID=""
start_herald() { # name port extra-args...
  local name="$1" port="$2"
  shift 2
  rm -rf "$TMP/$name-data"
  mkdir -p "$TMP/site" "$TMP/$name-data"
  echo '<!doctype html><title>bench</title>' >"$TMP/site/index.html"
  # shellcheck disable=SC2086
  setsid taskset -c "$SERVER_CPU" java $HERALD_JAVA_OPTS -jar "$HERALD_JAR" serve "$TMP/site" --host 127.0.0.1 --port -1 \
      --http-port "$port" --data-dir "$TMP/$name-data" --access-log false $HERALD_LAG_ARGS $HERALD_ARGS "$@" >"$TMP/$name.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
}

start_node() { # port
  # shellcheck disable=SC2086
  setsid taskset -c "$SERVER_CPU" "$NODE" $NODE_OPTS "$SCRIPT_DIR/node-baseline/server.js" "$1" 127.0.0.1 \
      >"$TMP/node.log" 2>&1 &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
}

stop_server() {
  kill -- "-$SERVER_PID" 2>/dev/null || true
  local i
  for (( i = 0; i < 50; i++ )); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
  kill -9 -- "-$SERVER_PID" 2>/dev/null || true
}

rss_bytes() { awk '/^VmRSS:/ { print $2 * 1024 }' "/proc/$1/status"; }

# Heap in use after a full GC (bytes): Herald via jcmd GC.class_histogram (live objects); Node via its /_stats
# (global.gc()).
heap_bytes() { # server pid port
  if [ "$1" != "node" ]; then
    # The live objects' total from a class histogram (it runs a full GC first). jstat's region usage after
    # GC.run was not repeatable: two readings a second apart differed by 11 MB with 10,000 idle streams.
    jcmd "$2" GC.class_histogram | awk '$1 == "Total" { print $3 }'
  else
    curl -s --http2-prior-knowledge "http://127.0.0.1:$3/_stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["heapUsed"])'
  fi
}

memory_sample() { # server pid port -> JSON object
  local heap rss
  heap="$(heap_bytes "$1" "$2" "$3")"
  sleep 1
  rss="$(rss_bytes "$2")"
  printf '{"heapUsedBytes": %s, "rssBytes": %s}' "$heap" "$rss"
}

# Open subscriber streams as the server counts them: Herald's Prometheus gauge, Node's /_stats.
subscriber_count() { # server port
  if [ "$1" != "node" ]; then
    curl -s --http2-prior-knowledge "http://127.0.0.1:$2/metrics" | awk '$1 == "herald_topics_subscribers" { print int($2) }'
  else
    curl -s --http2-prior-knowledge "http://127.0.0.1:$2/_stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["subscribers"])'
  fi
}

# One hold cycle: SUBS idle subscribers connect and sync, HOLD_SAMPLE is taken, they leave, and the server is
# given until it counts none (at most 30 s). Returns 1 when they did not all subscribe.
hold_cycle() { # server pid port tag
  local ready="$TMP/$1.$4.ready" release="$TMP/$1.$4.release" i n
  loadgen --port "$3" --mode hold --label "$1" --ready-file "$ready" --release-file "$release" --hold-seconds 600 \
      --out "$TMP/$1.$4.hold.json" 2>"$TMP/$1.$4.hold.log" &
  local lg=$!
  for (( i = 0; i < 1800; i++ )); do
    [ -f "$ready" ] && break
    kill -0 "$lg" 2>/dev/null || break
    sleep 0.1
  done
  if [ ! -f "$ready" ]; then
    log "$1: the idle subscribers did not all subscribe ($4); memory not measured (see below)"
    tail -5 "$TMP/$1.$4.hold.log" >&2 || true
    touch "$release"; wait "$lg" || true
    return 1
  fi
  sleep 2
  HOLD_SAMPLE="$(memory_sample "$1" "$2" "$3")"
  touch "$release"
  wait "$lg" || true
  for (( i = 0; i < 300; i++ )); do
    n="$(subscriber_count "$1" "$3" || true)"
    [ "$n" = "0" ] && break
    sleep 0.1
  done
  [ "$n" = "0" ] || log "$1: still $n subscribers 30 s after they left"
  # For 1-8 s after 10,000 streams left, Herald's class histogram has counted about 19 MB more int[] (28 arrays
  # of ~690 KB; the streams' objects were gone), then idle again: "after they left" may include them.
  sleep 3
}

# Memory per idle stream is what SUBS more streams cost a server that has served them before: one hold cycle
# first (its samples are kept as "cold"), then the measured one. The first cycle also pays what does not grow
# with the streams: code the JIT compiles on these paths, its compiler arenas, pool chunks (README, "Memory per
# idle stream", has the measurement that shows it).
measure_memory() { # server pid port
  local cold_idle cold_busy idle busy after
  sleep 2
  cold_idle="$(memory_sample "$@")"
  hold_cycle "$1" "$2" "$3" cold || return 0
  cold_busy="$HOLD_SAMPLE"
  idle="$(memory_sample "$@")"
  hold_cycle "$1" "$2" "$3" warm || return 0
  busy="$HOLD_SAMPLE"
  after="$(memory_sample "$@")"
  printf '{"subscribers": %s, "coldIdle": %s, "coldWithSubscribers": %s, "idle": %s, "withSubscribers": %s, "afterRelease": %s}\n' \
      "$SUBS" "$cold_idle" "$cold_busy" "$idle" "$busy" "$after" >"$TMP/$1.memory.json"
  log "$1 memory: first cycle 0 -> $SUBS idle subscribers $cold_idle -> $cold_busy; measured cycle $idle -> $busy, after they left $after"
}

run_server() { # name
  local name="$1" port
  port="$(free_port)"
  if [[ "$name" == herald* ]] && [ ! -f "$HERALD_JAR" ]; then
    log "$name: $HERALD_JAR does not exist; skipped (build it with ./mvnw -B -DskipTests package)"
    echo "skipped: $HERALD_JAR does not exist" >"$TMP/$name.skip"
    return 0
  fi
  start_server "$name" "$port"
  local status
  status="$(curl -s -o "$TMP/$name.check" -w '%{http_code}' --http2-prior-knowledge -X POST \
      -H 'content-type: application/json' -d '{"check":true}' "http://127.0.0.1:$port/topics/bench-check" || true)"
  if [ "$status" != "201" ]; then
    log "$name: POST /topics/bench-check answered $status, not 201: no topics endpoint; skipped"
    echo "skipped: POST /topics/bench-check answered HTTP $status (no topics endpoint in this build)" >"$TMP/$name.skip"
    stop_server
    return 0
  fi
  if [ "$MEMORY" = "1" ] && [ "$name" != "herald-normal" ]; then measure_memory "$name" "$SERVER_PID" "$port"; fi
  log "$name: load run ($SUBS subscribers, $RATE events/s for $DURATION s after $WARMUP s warm-up)"
  loadgen --port "$port" --server-pid "$SERVER_PID" --label "$name" --rate "$RATE" --duration "$DURATION" --warmup "$WARMUP" --steps false \
      --out "$TMP/$name.load.json" 2> >(tee "$TMP/$name.load.log" >&2) || log "$name: the load generator exited with $?"
  check_alive "$name"
  if [ "$STEPS" = "1" ]; then
    # The step search runs on a fresh server: one that fell behind in the main run (Node buffers without bound)
    # would otherwise still be draining that backlog, and every later step would measure the backlog.
    stop_server
    start_server "$name" "$port"
    log "$name: step search from $STEP_START events/s (fresh server, $WARMUP s warm-up at that rate)"
    loadgen --port "$port" --server-pid "$SERVER_PID" --label "$name" --rate "$STEP_START" --duration 0 --warmup "$WARMUP" \
        --steps true --step-start "$STEP_START" --step-seconds "$STEP_SECONDS" --step-max "$STEP_MAX" --step-min "$STEP_MIN" \
        --out "$TMP/$name.steps.json" 2> >(tee "$TMP/$name.steps.log" >&2) || log "$name: the load generator exited with $?"
    check_alive "$name"
  fi
  stop_server
}

check_alive() { # name
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    log "$1: the server died during the run"; echo "server died during the run" >"$TMP/$1.died"
    tail -20 "$TMP/$1.log" >&2 || true
  fi
}

start_server() { # name port
  case "$1" in
    herald) start_herald "$1" "$2" ;;
    herald-normal) start_herald "$1" "$2" --sqlite-full-sync false ;;
    node) start_node "$2" ;;
    *) die "unknown server $1" ;;
  esac
  wait_port "$2" 60 || { tail -20 "$TMP/$1.log" >&2; die "$1 did not start on port $2"; }
  sleep 0.5
  check_pinned "$SERVER_PID" "$SERVER_CPU"
}

TS="$(date -u +%Y%m%dT%H%M%SZ)"
LOAD_AVG="$(cut -d' ' -f1-3 /proc/loadavg)"
log "run $TS, load average $LOAD_AVG"
case "$LOAD_AVG" in 0.*) ;; *) log "warning: load average $LOAD_AVG at start; numbers will be noisy" ;; esac

for s in $SERVERS; do run_server "$s"; done

# ---------------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------------
HERALD_VERSION=""
[ -f "$HERALD_JAR" ] && HERALD_VERSION="$(timeout 20 java -jar "$HERALD_JAR" --version 2>/dev/null | head -1 || true) (jar sha256 $(sha256sum "$HERALD_JAR" | cut -c1-12))"
cat >"$TMP/meta.json" <<JSON
{
  "timestamp": "$TS",
  "machine": {"nproc": $(nproc), "cpu": $(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"),
              "kernel": "$(uname -sr)", "loadAverageAtStart": "$LOAD_AVG"},
  "versions": {"herald": $(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$HERALD_VERSION"),
               "java": $(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$(java -version 2>&1 | head -1)"),
               "node": "$("$NODE" --version 2>/dev/null || echo none)"},
  "settings": {"subscribers": $SUBS, "connections": $CONNECTIONS, "streamsPerConnection": $STREAMS, "rate": $RATE,
               "durationSeconds": $DURATION, "warmupSeconds": $WARMUP, "steps": $STEPS, "stepStart": $STEP_START, "stepSeconds": $STEP_SECONDS,
               "stepMax": $STEP_MAX, "stepMin": $STEP_MIN, "p99LimitMs": $P99_LIMIT_MS, "serverCpu": "$SERVER_CPU",
               "clientCpu": "$CLIENT_CPU", "servers": "$SERVERS"},
  "commands": {"herald": "taskset -c $SERVER_CPU java $HERALD_JAVA_OPTS -jar herald.jar serve SITE --host 127.0.0.1 --port -1 --http-port PORT --data-dir TMP --access-log false${HERALD_LAG_ARGS:+ $HERALD_LAG_ARGS}${HERALD_ARGS:+ $HERALD_ARGS}",
               "herald-normal": "(herald's command) --sqlite-full-sync false",
               "node": "taskset -c $SERVER_CPU node $NODE_OPTS bench/realtime/node-baseline/server.js PORT",
               "loadgen": "taskset -c $CLIENT_CPU java $LOADGEN_JAVA_OPTS -jar realtime-loadgen.jar --connections $CONNECTIONS --streams $STREAMS --rate $RATE --duration $DURATION --warmup $WARMUP --step-seconds $STEP_SECONDS",
               "run": $(python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "${ENV_PREFIX}bench/realtime/run.sh")}
}
JSON
mkdir -p "$RESULTS_DIR"
"$PY" "$SCRIPT_DIR/report.py" --tmp "$TMP" --servers "$SERVERS" --results-dir "$RESULTS_DIR" --benchmarks-md "$BENCHMARKS_MD" \
    --repo-root "$REPO_ROOT"
