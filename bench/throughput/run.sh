#!/usr/bin/env bash
# Throughput of Herald against anchor HTTP/2 servers (nghttpd, nginx, h2o), measured in the same run.
#
# Every server serves the same 1 KiB static file, pinned to CPU 0 with one worker/thread; h2load is pinned to
# CPU 1 and runs `-c CLIENTS -m STREAMS -n N` over h2c (prior knowledge) and over TLS (ALPN h2). Each
# server/protocol pair is measured REPS times, interleaved, and the median req/s is reported with the ratio
# Herald / anchor. Writes bench/results/throughput-<UTC>.json and the throughput section of BENCHMARKS.md.
#
# Environment (defaults in brackets):
#   N [200000]            requests per measured run
#   REPS [3]              measured runs per server and protocol (the median is reported)
#   CLIENTS [100]         h2load -c (connections)
#   STREAMS [10]          h2load -m (concurrent streams per connection)
#   MAX_SECONDS [120]     cap on one h2load run; a run that hits it is recorded as "timeout"
#   SERVERS ["nghttpd nginx h2o herald"]   which servers to measure
#   PROTOCOLS ["h2c tls"]
#   HERALD_JAR [<repo>/target/herald.jar]  Herald is skipped (with a message) when this file does not exist
#   HERALD_JAVA_OPTS []   extra JVM flags for Herald
#   HERALD_WARMUP_N [2*N] requests per protocol to warm Herald's JIT before measuring
#   ANCHOR_WARMUP_N [10000]  requests per protocol to warm each anchor
#   SERVER_CPU [0], CLIENT_CPU [1]        taskset CPUs
#   RESULTS_DIR [<repo>/bench/results], BENCHMARKS_MD [<repo>/BENCHMARKS.md]
#   INSTALL [1]           install missing anchors with apt-get (0: print what to install and exit 1)
#   KEEP_TMP [0]          keep the temp dir (site, configs, logs, raw h2load output)
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
HELPER="$SCRIPT_DIR/bench.py"

# The settings given in the environment, to print the command that reproduces this run.
ENV_PREFIX=""
for v in N REPS CLIENTS STREAMS MAX_SECONDS SERVERS PROTOCOLS HERALD_JAR HERALD_JAVA_OPTS HERALD_WARMUP_N ANCHOR_WARMUP_N \
         SERVER_CPU CLIENT_CPU; do
  if [ -n "${!v+x}" ]; then ENV_PREFIX+="$v=$(printf '%q' "${!v}") "; fi
done

N="${N:-200000}"
REPS="${REPS:-3}"
CLIENTS="${CLIENTS:-100}"
STREAMS="${STREAMS:-10}"
MAX_SECONDS="${MAX_SECONDS:-120}"
SERVERS="${SERVERS:-nghttpd nginx h2o herald}"
PROTOCOLS="${PROTOCOLS:-h2c tls}"
HERALD_JAR="${HERALD_JAR:-$REPO_ROOT/target/herald.jar}"
HERALD_JAVA_OPTS="${HERALD_JAVA_OPTS:-}"
export -n HERALD_JAR HERALD_JAVA_OPTS # the benchmark's own: Herald warns about HERALD_* names it does not know
HERALD_WARMUP_N="${HERALD_WARMUP_N:-$((2 * N))}"
export -n HERALD_WARMUP_N
ANCHOR_WARMUP_N="${ANCHOR_WARMUP_N:-10000}"
SERVER_CPU="${SERVER_CPU:-0}"
CLIENT_CPU="${CLIENT_CPU:-1}"
RESULTS_DIR="${RESULTS_DIR:-$REPO_ROOT/bench/results}"
BENCHMARKS_MD="${BENCHMARKS_MD:-$REPO_ROOT/BENCHMARKS.md}"
INSTALL="${INSTALL:-1}"
KEEP_TMP="${KEEP_TMP:-0}"
FILE_PATH="/1k.bin"

log() { printf '[throughput] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# ---------------------------------------------------------------------------------------------------------------
# Tools
# ---------------------------------------------------------------------------------------------------------------
ensure_tools() {
  local -A pkg_of=(
    [nghttpd]=nghttp2-server [h2load]=nghttp2-client [nginx]=nginx [h2o]=h2o
    [openssl]=openssl [taskset]=util-linux [setsid]=util-linux [timeout]=coreutils [python3]=python3
  )
  local missing=() pkgs=() t
  for t in nghttpd h2load nginx h2o openssl taskset setsid timeout python3; do
    command -v "$t" >/dev/null 2>&1 || { missing+=("$t"); pkgs+=("${pkg_of[$t]}"); }
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
  if [ "$INSTALL" != "1" ] || [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
    log "missing: ${missing[*]}"
    log "install them with: apt-get update && apt-get install -y ${pkgs[*]}"
    exit 1
  fi
  log "installing ${pkgs[*]} (missing: ${missing[*]})"
  # Keep the packages' init scripts from starting system-wide nginx/h2o services on port 80/443.
  local policy=/usr/sbin/policy-rc.d added_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added_policy=1
  fi
  local rc=0
  { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${pkgs[@]}"; } \
    >&2 || rc=$?
  [ "$added_policy" = 1 ] && rm -f "$policy"
  [ "$rc" -eq 0 ] || die "apt-get install ${pkgs[*]} failed (rc=$rc)"
  for t in "${missing[@]}"; do command -v "$t" >/dev/null 2>&1 || die "$t still missing after install"; done
}

ensure_tools

RUN_HERALD=0
SKIP_REASON=""
if [[ " $SERVERS " == *" herald "* ]]; then
  if [ -f "$HERALD_JAR" ]; then
    HERALD_JAR="$(realpath "$HERALD_JAR")"
    command -v java >/dev/null 2>&1 || die "java not found (needed for $HERALD_JAR); apt-get install -y openjdk-17-jre-headless"
    RUN_HERALD=1
  else
    SKIP_REASON="HERALD_JAR $HERALD_JAR does not exist"
    log "SKIPPING Herald: $SKIP_REASON (build it with ./mvnw -B -DskipTests package, or set HERALD_JAR)"
  fi
fi

# ---------------------------------------------------------------------------------------------------------------
# Process management: every server runs in its own process group (setsid); the EXIT trap ends each group.
# ---------------------------------------------------------------------------------------------------------------
TMP="$(mktemp -d /tmp/herald-throughput.XXXXXX)"
chmod 755 "$TMP"
declare -a PIDS=()
CLIENT_PID=""
declare -A PID_NAME=()

cleanup() {
  local rc=$? pid
  trap - EXIT INT TERM
  if [ -n "$CLIENT_PID" ]; then kill -TERM "$CLIENT_PID" 2>/dev/null || true; wait "$CLIENT_PID" 2>/dev/null || true; fi
  for pid in "${PIDS[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "${PID_NAME[$pid]} (pid $pid) ignored SIGTERM; killing"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
    # A group member may outlive its leader (nginx worker, h2o helper).
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  # Leave nothing behind: wait (briefly) until no live process remains in the groups started here.
  local pgids=" ${PIDS[*]} " left
  for _ in $(seq 30); do
    left="$(ps -e -o pgid=,stat= | awk -v g="$pgids" 'index(g, " " $1 " ") && $2 !~ /^Z/' | wc -l)"
    [ "$left" -eq 0 ] && break
    sleep 0.1
  done
  if [ "$KEEP_TMP" = "1" ] || { [ "$rc" -ne 0 ] && [ "$rc" -ne 130 ] && [ "$rc" -ne 143 ]; }; then
    log "temp dir kept: $TMP"
  else
    rm -rf "$TMP"
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start NAME CMD...: run CMD pinned to SERVER_CPU in a new session, output to $TMP/logs/NAME.log
start() {
  local name=$1; shift
  setsid taskset -c "$SERVER_CPU" "$@" >"$TMP/logs/$name.log" 2>&1 </dev/null &
  local pid=$!
  PIDS+=("$pid")
  PID_NAME[$pid]=$name
  eval "PID_$name=$pid"
}

# wait_ready NAME PID SECONDS PORT...: the process is alive and every port accepts connections
wait_ready() {
  local name=$1 pid=$2 secs=$3 port; shift 3
  for port in "$@"; do
    if ! python3 "$HELPER" waitport "$port" "$secs" || ! kill -0 "$pid" 2>/dev/null; then
      log "$name did not come up on port $port; last lines of its log:"
      tail -n 30 "$TMP/logs/$name.log" >&2 || true
      die "$name failed to start"
    fi
  done
}

# h2load_run OUTFILE N CONNS URL: pinned h2load, capped at MAX_SECONDS
h2load_run() {
  local out=$1 n=$2 conns=$3 url=$4 rc=0 streams=$STREAMS
  [ "$n" -lt "$conns" ] && conns=$n
  [ "$conns" -le 1 ] && streams=1
  # In the background and waited for, so that a signal to this script stops it at once (see cleanup).
  timeout --kill-after=5 "$MAX_SECONDS" taskset -c "$CLIENT_CPU" \
    h2load -c "$conns" -m "$streams" -n "$n" "$url" >"$out" 2>&1 </dev/null &
  CLIENT_PID=$!
  wait "$CLIENT_PID" || rc=$?
  CLIENT_PID=""
  if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    echo "TIMED_OUT after ${MAX_SECONDS}s" >>"$out"
  elif [ "$rc" -ne 0 ]; then
    echo "h2load exit code $rc" >>"$out"
  fi
}

# ---------------------------------------------------------------------------------------------------------------
# Site, certificate, ports
# ---------------------------------------------------------------------------------------------------------------
SITE="$TMP/site"
mkdir -p "$SITE" "$TMP/logs" "$TMP/raw" "$TMP/nginx" "$TMP/h2o" "$TMP/herald-data"
head -c 1024 /dev/urandom >"$SITE/1k.bin"
printf '<!doctype html><title>bench</title>\n' >"$SITE/index.html"
[ "$(stat -c %s "$SITE/1k.bin")" -eq 1024 ] || die "could not create the 1 KiB file"
chmod -R a+rX "$SITE"

CERT="$TMP/cert.pem"
KEY="$TMP/key.pem"
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$KEY" -out "$CERT" >/dev/null 2>&1 \
  || die "openssl could not create a self-signed certificate"
chmod 644 "$CERT" "$KEY"

mapfile -t PORTS < <(python3 "$HELPER" freeports 8)
declare -A PORT=(
  [nghttpd.h2c]=${PORTS[0]} [nghttpd.tls]=${PORTS[1]}
  [nginx.h2c]=${PORTS[2]}   [nginx.tls]=${PORTS[3]}
  [h2o.h2c]=${PORTS[4]}     [h2o.tls]=${PORTS[5]}
  [herald.h2c]=${PORTS[6]}  [herald.tls]=${PORTS[7]}
)
url_of() { # SERVER PROTOCOL
  local p=${PORT[$1.$2]}
  if [ "$2" = tls ]; then echo "https://127.0.0.1:$p$FILE_PATH"; else echo "http://127.0.0.1:$p$FILE_PATH"; fi
}

# ---------------------------------------------------------------------------------------------------------------
# Servers
# ---------------------------------------------------------------------------------------------------------------
declare -A SERVER_CMD=()
ACTIVE=()
for s in $SERVERS; do
  case "$s" in
    nghttpd|nginx|h2o) ACTIVE+=("$s") ;;
    herald) [ "$RUN_HERALD" = 1 ] && ACTIVE+=("$s") ;;
    *) die "unknown server '$s' in SERVERS" ;;
  esac
done
[ "${#ACTIVE[@]}" -gt 0 ] || die "no server to measure"

start_nghttpd() {
  # nghttpd serves one protocol per instance: one --no-tls instance for h2c, one with KEY CERT for TLS.
  SERVER_CMD[nghttpd]="nghttpd -n 1 [--no-tls] -a 127.0.0.1 -d SITE PORT [KEY CERT]"
  start nghttpd_h2c nghttpd --no-tls -n 1 -a 127.0.0.1 -d "$SITE" "${PORT[nghttpd.h2c]}"
  start nghttpd_tls nghttpd -n 1 -a 127.0.0.1 -d "$SITE" "${PORT[nghttpd.tls]}" "$KEY" "$CERT"
  wait_ready nghttpd_h2c "$PID_nghttpd_h2c" 10 "${PORT[nghttpd.h2c]}"
  wait_ready nghttpd_tls "$PID_nghttpd_tls" 10 "${PORT[nghttpd.tls]}"
}

start_nginx() {
  local d="$TMP/nginx"
  mkdir -p "$d/logs"
  cat >"$d/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/logs/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    tcp_nodelay on;
    # The default (1000) closes each connection after 1000 requests: h2load counts the rest as failed.
    keepalive_requests 1000000;
    keepalive_timeout 300s;
    client_body_temp_path $d/body;
    proxy_temp_path $d/proxy;
    fastcgi_temp_path $d/fastcgi;
    uwsgi_temp_path $d/uwsgi;
    scgi_temp_path $d/scgi;
    server {
        # "http2" on a plain listener: HTTP/2 with prior knowledge only (h2c), no HTTP/1.1 on that port.
        listen 127.0.0.1:${PORT[nginx.h2c]} http2;
        listen 127.0.0.1:${PORT[nginx.tls]} ssl http2;
        ssl_certificate $CERT;
        ssl_certificate_key $KEY;
        root $SITE;
    }
}
EOF
  SERVER_CMD[nginx]="nginx -p DIR -e DIR/logs/error.log -c nginx.conf (worker_processes 1, keepalive_requests 1000000, listen ... http2 / ssl http2)"
  nginx -t -q -p "$d" -e "$d/logs/error.log" -c "$d/nginx.conf" >"$TMP/logs/nginx-t.log" 2>&1 \
    || { cat "$TMP/logs/nginx-t.log" >&2; die "nginx rejected its configuration"; }
  start nginx nginx -p "$d" -e "$d/logs/error.log" -c "$d/nginx.conf"
  wait_ready nginx "$PID_nginx" 10 "${PORT[nginx.h2c]}" "${PORT[nginx.tls]}"
}

start_h2o() {
  local d="$TMP/h2o" user_line=""
  if [ "$(id -u)" = 0 ]; then
    # h2o refuses to keep root: it drops to "nobody", which must still write its pid file and error log.
    user_line="user: nobody"
    chown nobody "$d"
  fi
  cat >"$d/h2o.conf" <<EOF
num-threads: 1
$user_line
pid-file: $d/h2o.pid
error-log: $d/error.log
listen:
  host: 127.0.0.1
  port: ${PORT[h2o.h2c]}
listen:
  host: 127.0.0.1
  port: ${PORT[h2o.tls]}
  ssl:
    certificate-file: $CERT
    key-file: $KEY
    ocsp-update-interval: 0
hosts:
  default:
    paths:
      /:
        file.dir: $SITE
EOF
  SERVER_CMD[h2o]="h2o -c h2o.conf (num-threads: 1, plain listener for h2c, ssl listener for TLS, file.dir)"
  h2o -t -c "$d/h2o.conf" >"$TMP/logs/h2o-t.log" 2>&1 \
    || { cat "$TMP/logs/h2o-t.log" >&2; die "h2o rejected its configuration"; }
  start h2o h2o -c "$d/h2o.conf"
  wait_ready h2o "$PID_h2o" 10 "${PORT[h2o.h2c]}" "${PORT[h2o.tls]}"
}

start_herald() {
  # shellcheck disable=SC2086  # HERALD_JAVA_OPTS is a list of flags
  SERVER_CMD[herald]="java -XX:ActiveProcessorCount=1 ${HERALD_JAVA_OPTS:+$HERALD_JAVA_OPTS }-jar herald.jar serve SITE --host 127.0.0.1 --port TLSPORT --http-port H2CPORT --cert CERT --key KEY --data-dir DIR --access-log false"
  # Herald reads herald.yaml from its working directory and HERALD_* variables (this script's own settings
  # among them): start it in an empty directory with those variables removed, so only the flags apply.
  local unset_env=() v
  for v in $(compgen -e); do [[ "$v" == HERALD_* ]] && unset_env+=(-u "$v"); done
  mkdir -p "$TMP/herald-cwd"
  # shellcheck disable=SC2086
  start herald env -C "$TMP/herald-cwd" "${unset_env[@]}" java -XX:ActiveProcessorCount=1 $HERALD_JAVA_OPTS \
    -jar "$HERALD_JAR" serve "$SITE" \
    --host 127.0.0.1 --port "${PORT[herald.tls]}" --http-port "${PORT[herald.h2c]}" \
    --cert "$CERT" --key "$KEY" --data-dir "$TMP/herald-data" --access-log false
  wait_ready herald "$PID_herald" 60 "${PORT[herald.tls]}" "${PORT[herald.h2c]}"
}

for s in "${ACTIVE[@]}"; do
  log "starting $s"
  "start_$s"
done

# Every thread of every server process (nginx workers included) may run on SERVER_CPU only.
for leader in "${PIDS[@]}"; do
  for pid in $(ps -e -o pid=,pgid= | awk -v g="$leader" '$2 == g { print $1 }'); do
    for st in /proc/"$pid"/task/*/status; do
      allowed="$(awk '/^Cpus_allowed_list:/ { print $2 }' "$st" 2>/dev/null || true)"
      [ -z "$allowed" ] || [ "$allowed" = "$SERVER_CPU" ] \
        || die "${PID_NAME[$leader]}: $st may run on CPUs $allowed, expected $SERVER_CPU only"
    done
  done
done

# Sanity check: one request per server and protocol returns a 2xx with exactly the file's 1024 bytes.
for s in "${ACTIVE[@]}"; do
  for p in $PROTOCOLS; do
    out="$TMP/raw/check-$s-$p.txt"
    h2load_run "$out" 1 1 "$(url_of "$s" "$p")"
    res="$(python3 "$HELPER" parse "$out")"
    if ! python3 -c 'import json,sys; r=json.loads(sys.argv[1]); sys.exit(0 if r.get("status")=="ok" and r.get("data_bytes")==1024 else 1)' "$res"; then
      cat "$out" >&2
      die "$s over $p did not serve $FILE_PATH (1024 bytes) correctly: $res"
    fi
  done
done
log "all servers answer: ${ACTIVE[*]} over ${PROTOCOLS}"
read -r LOAD1 _ </proc/loadavg
if awk -v l="$LOAD1" 'BEGIN { exit !(l >= 1) }'; then
  log "WARNING: load average $LOAD1: the machine is busy, absolute numbers will be low and noisy (compare ratios)"
fi

# ---------------------------------------------------------------------------------------------------------------
# Metadata (taken before the load so the load average reflects the machine, not this run)
# ---------------------------------------------------------------------------------------------------------------
TS="$(date -u +%Y%m%dT%H%M%SZ)"
RESULTS_FILE="throughput-$TS.json"
HERALD_VERSION="not run"
if [ "$RUN_HERALD" = 1 ]; then
  HERALD_VERSION="$(timeout 30 java -jar "$HERALD_JAR" --version 2>/dev/null | head -n 1 || true)"
  HERALD_VERSION="${HERALD_VERSION:-unknown} (jar sha256 $(sha256sum "$HERALD_JAR" | cut -c1-12))"
fi
export TS RESULTS_FILE N REPS CLIENTS STREAMS MAX_SECONDS PROTOCOLS HERALD_WARMUP_N ANCHOR_WARMUP_N \
  SERVER_CPU CLIENT_CPU FILE_PATH HERALD_VERSION SKIP_REASON HERALD_JAVA_OPTS
export SERVERS_LIST="$SERVERS"
export COMMAND="${ENV_PREFIX}bench/throughput/run.sh"
export H2LOAD_COMMAND="taskset -c $CLIENT_CPU h2load -c $CLIENTS -m $STREAMS -n $N {http|https}://127.0.0.1:PORT$FILE_PATH"
export V_NGHTTPD="$(nghttpd --version 2>&1 | head -n 1)"
export V_H2LOAD="$(h2load --version 2>&1 | head -n 1)"
export V_NGINX="$(nginx -v 2>&1 | head -n 1 | sed 's/^nginx version: //')"
export V_H2O="$(h2o --version 2>&1 | head -n 1)"
export V_OPENSSL="$(openssl version 2>&1 | head -n 1)"
export V_JAVA=""
command -v java >/dev/null 2>&1 && V_JAVA="$(java -version 2>&1 | head -n 2 | tr '\n' ' ' | sed 's/ *$//')"
SERVER_CMDS_JSON="{"
for s in "${!SERVER_CMD[@]}"; do
  SERVER_CMDS_JSON+="$(python3 -c 'import json,sys; print(json.dumps(sys.argv[1])+":"+json.dumps(sys.argv[2]))' "$s" "${SERVER_CMD[$s]}"),"
done
export SERVER_CMDS_JSON="${SERVER_CMDS_JSON%,}}"

python3 - "$TMP/meta.json" <<'EOF'
import json, os, platform, sys
e = os.environ
cpu = "unknown"
with open("/proc/cpuinfo") as f:
    for line in f:
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
with open("/proc/loadavg") as f:
    load = " ".join(f.read().split()[:3])
servers = [s for s in e["SERVERS_LIST"].split()]
meta = {
    "timestamp": e["TS"],
    "results_file": e["RESULTS_FILE"],
    "machine": {"nproc": os.cpu_count() if not hasattr(os, "sched_getaffinity") else len(os.sched_getaffinity(0)),
                "cpu_model": cpu, "kernel": platform.release(), "loadavg": load},
    "versions": {
        "herald": e["HERALD_VERSION"], "nghttpd": e["V_NGHTTPD"], "nginx": e["V_NGINX"], "h2o": e["V_H2O"],
        "h2load": e["V_H2LOAD"], "java": e["V_JAVA"] or "not found", "openssl": e["V_OPENSSL"],
    },
    "config": {
        "requests_per_run": int(e["N"]), "repetitions": int(e["REPS"]), "clients": int(e["CLIENTS"]),
        "streams_per_client": int(e["STREAMS"]), "max_seconds_per_run": int(e["MAX_SECONDS"]),
        "file": e["FILE_PATH"], "file_bytes": 1024, "server_cpu": e["SERVER_CPU"], "client_cpu": e["CLIENT_CPU"],
        "herald_warmup_requests_per_protocol": int(e["HERALD_WARMUP_N"]),
        "anchor_warmup_requests_per_protocol": int(e["ANCHOR_WARMUP_N"]),
        "herald_java_opts": e.get("HERALD_JAVA_OPTS", ""),
    },
    "servers": servers,
    "protocols": e["PROTOCOLS"].split(),
    "skipped": {"herald": e["SKIP_REASON"]} if e["SKIP_REASON"] else {},
    "server_commands": json.loads(e["SERVER_CMDS_JSON"]),
    "h2load_command": e["H2LOAD_COMMAND"],
    "command": e["COMMAND"],
}
with open(sys.argv[1], "w") as f:
    json.dump(meta, f)
EOF
# nproc as the machine reports it (the python fallback above counts the CPUs this process may use).
python3 - "$TMP/meta.json" "$(nproc --all)" <<'EOF'
import json, sys
m = json.load(open(sys.argv[1])); m["machine"]["nproc"] = int(sys.argv[2]); json.dump(m, open(sys.argv[1], "w"))
EOF

# ---------------------------------------------------------------------------------------------------------------
# Warm-up, then measured runs interleaved across servers (a busy moment hits every server, not just one)
# ---------------------------------------------------------------------------------------------------------------
for s in "${ACTIVE[@]}"; do
  for p in $PROTOCOLS; do
    wn=$ANCHOR_WARMUP_N
    [ "$s" = herald ] && wn=$HERALD_WARMUP_N
    [ "$wn" -gt 0 ] || continue
    log "warm-up $s $p: $wn requests"
    h2load_run "$TMP/raw/warmup-$s-$p.txt" "$wn" "$CLIENTS" "$(url_of "$s" "$p")"
  done
done

RUNS="$TMP/runs.jsonl"
: >"$RUNS"
for rep in $(seq 1 "$REPS"); do
  for s in "${ACTIVE[@]}"; do
    for p in $PROTOCOLS; do
      out="$TMP/raw/run-$s-$p-$rep.txt"
      h2load_run "$out" "$N" "$CLIENTS" "$(url_of "$s" "$p")"
      res="$(python3 "$HELPER" parse "$out")"
      python3 -c 'import json,sys; r=json.loads(sys.argv[1]); r.update(server=sys.argv[2], protocol=sys.argv[3], rep=int(sys.argv[4])); print(json.dumps(r))' \
        "$res" "$s" "$p" "$rep" >>"$RUNS"
      python3 -c 'import json,sys; r=json.loads(sys.argv[1]); print("[throughput] run %s/%s %-7s %-3s %12s req/s  %s%s" % (sys.argv[4], sys.argv[5], sys.argv[2], sys.argv[3], ("%.0f" % r["req_per_s"]) if "req_per_s" in r else "-", r["status"], (" (%d failed)" % r["failures"]) if r.get("failures") else (" " + r.get("detail","")) if r["status"] not in ("ok","failures") else ""))' \
        "$res" "$s" "$p" "$rep" "$REPS" >&2
    done
  done
done

mkdir -p "$RESULTS_DIR"
python3 "$HELPER" report "$RUNS" "$TMP/meta.json" "$RESULTS_DIR/$RESULTS_FILE" "$BENCHMARKS_MD"
log "wrote $RESULTS_DIR/$RESULTS_FILE and the throughput section of $BENCHMARKS_MD"
