#!/usr/bin/env bash
# Push benchmark (issue 3): page load under latency, Herald with and without push next to nghttpd -p, nginx 1.22
# http2_push and h2o 2.2.5 (mruby Link push), plus Chromium with and without Herald's 103 Early Hints.
#
# The page (bench/push/fixture.py, ~98 KB): index.html -> style.css -> font.woff2, index.html -> app.js (module).
# Network: ../shared/tools/netdelay (two namespaces, fixed RTT, no loss); servers in hd-srv (10.201.0.1), clients
# in hd-cli. All over TLS (h2 by ALPN), one self-signed P-256 certificate shared by every server.
# Client: bench/push/client PageLoad (Netty + jsoup, discovers HTML -> CSS -> font like a browser, uses pushes);
# one new connection per load; load time = TCP connect start .. last needed body complete.
# Think time (the server's delay before the page's response, pushes may go out meanwhile):
#   herald: bench/push/herald/BenchHerald.java (Herald's public API: the page handler announces at once, answers
#           after THINK ms); nginx: proxy_pass of /index.html to bench/push/backend.py (sleeps THINK ms);
#   h2o: mruby handler returns 399 + Link (push starts at once), then proxy.reverse to the same backend;
#   nghttpd: no way to delay a response -> think 0 only.
# Writes bench/results/push-<UTC>.json, bench/results/push-<UTC>.png and the push section of BENCHMARKS.md.
#
# Environment (defaults in brackets):
#   RTTS ["100 20"]         round-trip times in ms (netdelay one-way delay = RTT/2)
#   THINKS ["0 200"]        server think times in ms
#   ROUNDS [2] RUNS [5]     measured loads per condition = ROUNDS x RUNS; rounds interleave the conditions
#   CLIENT_WARMUP [200]     unmeasured loads per condition by the measuring client JVM first, 16 at a time, across
#                           the delay: its JIT, so that a load's end is not its interpreter's (one client JVM per RTT
#                           runs every condition)
#   WARMUP [4]              then unmeasured loads per condition, one at a time
#   SERVER_WARMUP [3000]    before those, loads per condition from inside hd-srv (no added latency), SERVER_WARMUP_PARALLEL
#   SERVER_WARMUP_PARALLEL [16]   at a time, so every server is measured in the steady state a long-running one is
#                           in (Herald's JIT); every server gets them alike; 0 turns it off
#   CONDITIONS ["herald-push herald-nopush herald-hints herald-pushall herald-pushall-before herald-pushall-after
#               herald-pushall-auto herald-push-gzip nghttpd nginx h2o"]
#                           herald-pushall: a diagnostic, Herald with its push budget raised to PUSHALL_BYTES so
#                           the whole page is pushed (BenchHerald; not Herald's default)
#                           herald-pushall-before, -after, -auto: the same with push.priority before, after or auto
#                           in place of the default interleaved (HERALD_PUSH_PRIORITY), to measure what the order
#                           does to the page
#                           herald-push-gzip: a diagnostic, the herald-push server and a client that also sends
#                           accept-encoding: gzip (as nghttp does); its limits are for the gzipped bytes
#   PUSHALL_BYTES [1048576]
#   CHROMIUM [1]  CHROMIUM_RUNS [20]  CHROMIUM_ROUNDS [2]  CHROMIUM_RTT [100]  CHROMIUM_THINK [200]
#                           CHROMIUM_RUNS loads per mode (with hints, without), in CHROMIUM_ROUNDS rounds that
#                           alternate the modes
#   CHROMIUM_IDENTITY [1]   also both modes from a Herald with files.compress off (hints-identity,
#                           nohints-identity): the page's bytes as they are on disk (Chromium accepts gzip, so the
#                           default Herald sends its HTML, CSS and JS gzipped)
#   INITCWND []             a diagnostic: the servers' initial congestion window in segments (route option in
#                           hd-srv); empty keeps the kernel's 10
#   INITRWND []             a diagnostic: the clients' initial receive window in segments (route option in
#                           hd-cli: what the client advertises before its receive buffer autotunes); empty keeps
#                           the kernel's (about 64 KB)
#   CLIENT_RMEM []          a diagnostic: the default receive buffer of the clients' sockets in bytes
#                           (net.ipv4.tcp_rmem in hd-cli; the initial receive window is at most about half of it,
#                           and INITRWND can only lower it); empty keeps the kernel's 131072
#   PCAP []                 a diagnostic: a folder where the measured loads of each RTT are captured (tcpdump on
#                           tun-srv in hd-srv and tun-cli in hd-cli, first 128 bytes of each packet:
#                           pcap-<rtt>.pcap, pcap-<rtt>-client.pcap; one port per server)
#   SERVER_CC [cubic]       the congestion control of every server's sockets (net.ipv4.tcp_congestion_control in
#                           hd-srv): Linux's and Debian's default, pinned so a run does not depend on the host's
#                           setting, which a new namespace inherits (bbr on this machine class, which paces each round
#                           of slow start over the round trip); empty keeps the inherited one. A namespace may only
#                           pick one of the host's net.ipv4.tcp_allowed_congestion_control: the run adds it there and
#                           restores the list at exit
#   BANDWIDTH_MBIT [135]    the relay's capacity (netdelay README), for the physical limit
#   CACHE_CONTROL ["public, max-age=3600"]   on every server's files (Chromium uses hints only for cacheable ones)
#   HERALD_JAR [<repo>/target/herald.jar]   HERALD_JAVA_OPTS ["-Xmx512m"]
#   OFFLINE [0]  RESULTS_DIR, BENCHMARKS_MD, KEEP_TMP [0]
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
NETDELAY="${NETDELAY:-$(cd "$REPO_ROOT/../.." && pwd)/shared/tools/netdelay/netdelay}"
[ -x "$NETDELAY" ] || NETDELAY=/work/shared/tools/netdelay/netdelay

ENV_PREFIX=""
for v in RTTS THINKS ROUNDS RUNS CLIENT_WARMUP WARMUP SERVER_WARMUP SERVER_WARMUP_PARALLEL CONDITIONS CHROMIUM CHROMIUM_RUNS CHROMIUM_ROUNDS CHROMIUM_IDENTITY CHROMIUM_RTT CHROMIUM_THINK BANDWIDTH_MBIT SERVER_CC INITCWND INITRWND CLIENT_RMEM PCAP; do
  if [ -n "${!v+x}" ]; then ENV_PREFIX+="$v=$(printf '%q' "${!v}") "; fi
done
RTTS="${RTTS:-100 20}"
THINKS="${THINKS:-0 200}"
ROUNDS="${ROUNDS:-2}"
RUNS="${RUNS:-5}"
WARMUP="${WARMUP:-4}"
CLIENT_WARMUP="${CLIENT_WARMUP:-200}"
SERVER_WARMUP="${SERVER_WARMUP:-3000}"
SERVER_WARMUP_PARALLEL="${SERVER_WARMUP_PARALLEL:-16}"
CONDITIONS="${CONDITIONS:-herald-push herald-nopush herald-hints herald-pushall herald-pushall-before herald-pushall-after herald-pushall-auto herald-push-gzip nghttpd nginx h2o}"
PRIORITIES="before after auto" # push.priority of the herald-pushall-* conditions
PUSHALL_BYTES="${PUSHALL_BYTES:-1048576}"
CHROMIUM="${CHROMIUM:-1}"
CHROMIUM_RUNS="${CHROMIUM_RUNS:-20}"
CHROMIUM_ROUNDS="${CHROMIUM_ROUNDS:-2}"
CHROMIUM_IDENTITY="${CHROMIUM_IDENTITY:-1}"
CHROMIUM_RTT="${CHROMIUM_RTT:-100}"
CHROMIUM_THINK="${CHROMIUM_THINK:-200}"
BANDWIDTH_MBIT="${BANDWIDTH_MBIT:-135}"
INITCWND="${INITCWND:-}"
SERVER_CC="${SERVER_CC-cubic}"
INITRWND="${INITRWND:-}"
CLIENT_RMEM="${CLIENT_RMEM:-}"
PCAP="${PCAP:-}"
CACHE_CONTROL="${CACHE_CONTROL:-public, max-age=3600}"
HERALD_JAR="${HERALD_JAR:-$REPO_ROOT/target/herald.jar}"
HERALD_JAVA_OPTS="${HERALD_JAVA_OPTS:--Xmx512m}"
export -n HERALD_JAR HERALD_JAVA_OPTS # the benchmark's own: Herald warns about HERALD_* names it does not know
OFFLINE="${OFFLINE:-0}"
RESULTS_DIR="${RESULTS_DIR:-$REPO_ROOT/bench/results}"
BENCHMARKS_MD="${BENCHMARKS_MD:-$REPO_ROOT/BENCHMARKS.md}"
KEEP_TMP="${KEEP_TMP:-0}"

SRV=10.201.0.1
BACKEND_PORT=7000
# port per (server, think time); the Chromium "no hints" Herald has its own
port_of() { # server think
  local base
  case "$1" in
    herald) base=8443 ;; nghttpd) base=9443 ;; nginx) base=10443 ;; h2o) base=11443 ;; herald-plain) base=12443 ;;
    herald-all) base=13443 ;; herald-id) base=14443 ;; herald-plain-id) base=15443 ;;
    herald-all-before) base=16443 ;; herald-all-after) base=17443 ;; herald-all-auto) base=18443 ;;
    *) echo "unknown server $1" >&2; return 1 ;;
  esac
  if [ "$2" = "0" ]; then echo "$base"; else echo $(( base + 1 )); fi
}

log() { printf '[push] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = "0" ] || die "needs root (network namespaces)"
for t in java javac python3 openssl nghttpd nginx h2o ip setsid timeout; do
  command -v "$t" >/dev/null 2>&1 || die "missing $t"
done
[ -f "$HERALD_JAR" ] || die "no $HERALD_JAR (build it with ./mvnw -B -ntp -q -DskipTests package)"
if [ "$CHROMIUM" = "1" ]; then
  command -v chromium >/dev/null && command -v chromedriver >/dev/null || die "missing chromium/chromedriver (apt-get install chromium chromium-driver), or CHROMIUM=0"
  [ "$CHROMIUM_ROUNDS" -ge 1 ] && [ $(( CHROMIUM_RUNS % CHROMIUM_ROUNDS )) = 0 ] \
    || die "CHROMIUM_RUNS ($CHROMIUM_RUNS) must be a multiple of CHROMIUM_ROUNDS ($CHROMIUM_ROUNDS)"
fi
/usr/bin/python3 -c 'import matplotlib' 2>/dev/null || die "missing matplotlib (apt-get install python3-matplotlib)"
ip netns list | grep -q -E '^hd-(srv|cli)' && die "netdelay namespaces hd-srv/hd-cli exist already: someone else is measuring (or run '$NETDELAY down')"

TMP="$(mktemp -d /tmp/herald-push.XXXXXX)"
chmod 755 "$TMP"
PIDS=()
NETDELAY_UP=0
stop_servers() {
  local p
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -- "-$p" 2>/dev/null || true; done
  sleep 0.5
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill -9 -- "-$p" 2>/dev/null || true; done
  PIDS=()
}
ALLOWED_CC_BEFORE=""
cleanup() {
  stop_servers
  if [ -n "$ALLOWED_CC_BEFORE" ]; then sysctl -q -w net.ipv4.tcp_allowed_congestion_control="$ALLOWED_CC_BEFORE" || true; fi
  if [ "$NETDELAY_UP" = "1" ]; then NETDELAY_STATE="$TMP/netdelay" "$NETDELAY" down || true; fi
  if [ "$KEEP_TMP" = "1" ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

UPTIME_BEFORE="$(uptime)"
TS="$(date -u +%Y%m%dT%H%M%SZ)"
log "run $TS; $UPTIME_BEFORE"

# ---------------------------------------------------------------------------------------------------------------
# Build: client jar, BenchHerald, fixture, certificate
# ---------------------------------------------------------------------------------------------------------------
log "building the client"
MVN_FLAGS=(-q -B -ntp)
[ "$OFFLINE" = "1" ] && MVN_FLAGS+=(-o)
(cd "$REPO_ROOT" && ./mvnw "${MVN_FLAGS[@]}" -f bench/push/client/pom.xml -Dpushbench.build.dir="$TMP/client-build" package) \
    || die "the client did not build"
CLIENT_JAR="$TMP/client-build/push-client.jar"
mkdir -p "$TMP/bh"
javac -nowarn -cp "$HERALD_JAR" -d "$TMP/bh" "$SCRIPT_DIR/herald/BenchHerald.java" || die "BenchHerald did not compile against $HERALD_JAR"
SITE="$TMP/site"
python3 "$SCRIPT_DIR/fixture.py" "$SITE" >"$TMP/fixture.txt"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 7 \
    -subj "/CN=$SRV" -addext "subjectAltName=IP:$SRV" 2>/dev/null
SPKI="$(openssl x509 -in "$TMP/cert.pem" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64)"
mkdir -p "$TMP/nginx-tmp" "$TMP/out" "$TMP/cwd"

# ---------------------------------------------------------------------------------------------------------------
# Server configurations
# ---------------------------------------------------------------------------------------------------------------
PUSH_PATHS="/style.css /font.woff2 /app.js"
LINKS='</style.css>; rel=preload; as=style\n</font.woff2>; rel=preload; as=font; crossorigin\n</app.js>; rel=preload; as=script'

nginx_server() { # think
  local port; port="$(port_of nginx "$1")"
  cat <<EOF
  server {
    listen $SRV:$port ssl http2;
    ssl_certificate $TMP/cert.pem;
    ssl_certificate_key $TMP/key.pem;
    root $SITE;
    add_header cache-control "$CACHE_CONTROL";
    location = /index.html {
$(for p in $PUSH_PATHS; do echo "      http2_push $p;"; done)
$( [ "$1" = "0" ] || printf '      proxy_pass http://127.0.0.1:%s;\n      proxy_http_version 1.1;\n      proxy_set_header Connection "";\n' "$BACKEND_PORT")
    }
  }
EOF
}
cat >"$TMP/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $TMP/nginx.pid;
error_log $TMP/nginx-error.log warn;
events { worker_connections 1024; }
http {
  include /etc/nginx/mime.types;
  default_type application/octet-stream;
  access_log off;
  sendfile on;
  keepalive_requests 1000000;
  ssl_protocols TLSv1.2 TLSv1.3;
  client_body_temp_path $TMP/nginx-tmp/body;
  proxy_temp_path $TMP/nginx-tmp/proxy;
  fastcgi_temp_path $TMP/nginx-tmp/fastcgi;
  uwsgi_temp_path $TMP/nginx-tmp/uwsgi;
  scgi_temp_path $TMP/nginx-tmp/scgi;
$(for t in $THINKS; do nginx_server "$t"; done)
}
EOF

h2o_host() { # think
  local port; port="$(port_of h2o "$1")"
  cat <<EOF
  "$SRV:$port":
    listen:
      host: $SRV
      port: $port
      ssl:
        certificate-file: $TMP/cert.pem
        key-file: $TMP/key.pem
        ocsp-update-interval: 0
    header.add: "cache-control: $CACHE_CONTROL"
    paths:
      /index.html:
        mruby.handler: |
          Proc.new do |env|
            [399, {"link" => "$LINKS"}, []]
          end
$( if [ "$1" = "0" ]; then echo "        file.file: $SITE/index.html"; else echo "        proxy.reverse.url: http://127.0.0.1:$BACKEND_PORT/index.html"; fi)
      /:
        file.dir: $SITE
EOF
}
cat >"$TMP/h2o.conf" <<EOF
num-threads: 1
user: root
error-log: $TMP/h2o-error.log
pid-file: $TMP/h2o.pid
hosts:
$(for t in $THINKS; do h2o_host "$t"; done)
EOF

in_srv() { ip netns exec hd-srv "$@"; }
in_cli() { ip netns exec hd-cli "$@"; }

start() { # name command...
  local name="$1"; shift
  # from an empty folder: Herald would read a herald.yaml in its working directory
  (cd "$TMP/cwd" && exec setsid ip netns exec hd-srv "$@") >"$TMP/$name.log" 2>&1 &
  PIDS+=($!)
}

wait_port() { # port
  local i
  for (( i = 0; i < 600; i++ )); do
    in_cli bash -c "exec 3<>/dev/tcp/$SRV/$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# Herald with a think time (herald/BenchHerald.java): NAME SERVER THINK MODE ENV [ARG...]; SERVER picks the port
# (port_of), ENV is one VAR=value for Herald's environment or -, ARGs follow BenchHerald's own
bench_herald() {
  local name="$1" server="$2" think="$3" mode="$4" env="$5"; shift 5
  [ "$env" = "-" ] && env=""
  # shellcheck disable=SC2086
  start "$name" env $env java $HERALD_JAVA_OPTS -cp "$HERALD_JAR:$TMP/bh" BenchHerald "$SITE" "$SRV" "$(port_of "$server" "$think")" \
      "$TMP/cert.pem" "$TMP/key.pem" "$TMP/herald-data-$name" "$think" "$mode" "$CACHE_CONTROL" "$@"
}

start_servers() {
  local t port
  for t in $THINKS; do
    port="$(port_of herald "$t")"
    if [ "$t" = "0" ]; then
      # the shipped command line: herald serve
      # shellcheck disable=SC2086
      start "herald-$t" java $HERALD_JAVA_OPTS -jar "$HERALD_JAR" serve "$SITE" --host "$SRV" --port "$port" --http-port -1 \
          --data-dir "$TMP/herald-data-$t" --cert "$TMP/cert.pem" --key "$TMP/key.pem" --access-log false \
          --files-cache-control "$CACHE_CONTROL"
    else
      bench_herald "herald-$t" herald "$t" push -
    fi
  done
  if [[ " $CONDITIONS " == *" herald-pushall "* ]]; then
    for t in $THINKS; do bench_herald "herald-all-$t" herald-all "$t" push - "$PUSHALL_BYTES"; done
  fi
  for o in $PRIORITIES; do
    if [[ " $CONDITIONS " == *" herald-pushall-$o "* ]]; then
      for t in $THINKS; do
        bench_herald "herald-all-$o-$t" "herald-all-$o" "$t" push "HERALD_PUSH_PRIORITY=$o" "$PUSHALL_BYTES"
      done
    fi
  done
  if [ "$CHROMIUM" = "1" ]; then
    bench_herald herald-plain herald-plain "$CHROMIUM_THINK" plain -
    if [ "$CHROMIUM_IDENTITY" = "1" ]; then
      bench_herald herald-id herald-id "$CHROMIUM_THINK" push HERALD_FILES_COMPRESS=false
      bench_herald herald-plain-id herald-plain-id "$CHROMIUM_THINK" plain HERALD_FILES_COMPRESS=false
    fi
  fi
  start nghttpd nghttpd -a "$SRV" -n 1 -d "$SITE" "-p/index.html=$(echo $PUSH_PATHS | tr ' ' ',')" "$(port_of nghttpd 0)" \
      "$TMP/key.pem" "$TMP/cert.pem"
  for t in $THINKS; do
    if [ "$t" != "0" ]; then start "backend-$t" python3 "$SCRIPT_DIR/backend.py" "$SITE" 127.0.0.1 "$BACKEND_PORT" "$t"; fi
  done
  start nginx nginx -c "$TMP/nginx.conf"
  start h2o h2o -c "$TMP/h2o.conf"
  for t in $THINKS; do
    for s in herald nginx h2o; do wait_port "$(port_of $s "$t")" || die "$s (think $t) did not start; see $TMP/*.log"; done
    if [[ " $CONDITIONS " == *" herald-pushall "* ]]; then
      wait_port "$(port_of herald-all "$t")" || die "herald-all (think $t) did not start"
    fi
    for o in $PRIORITIES; do
      if [[ " $CONDITIONS " == *" herald-pushall-$o "* ]]; then
        wait_port "$(port_of "herald-all-$o" "$t")" || die "herald-all-$o (think $t) did not start"
      fi
    done
  done
  wait_port "$(port_of nghttpd 0)" || die "nghttpd did not start"
  [ "$CHROMIUM" = "1" ] && { wait_port "$(port_of herald-plain "$CHROMIUM_THINK")" || die "herald-plain did not start"; }
  if [ "$CHROMIUM" = "1" ] && [ "$CHROMIUM_IDENTITY" = "1" ]; then
    for s in herald-id herald-plain-id; do wait_port "$(port_of $s "$CHROMIUM_THINK")" || die "$s did not start"; done
  fi
  return 0
}

# condition -> server, and the client's PUSH HINTS flags
server_of() {
  case "$1" in
    herald-pushall) echo herald-all ;; herald-pushall-*) echo "herald-all-${1#herald-pushall-}" ;;
    herald-*) echo herald ;; *) echo "$1" ;;
  esac
}

plan() { # rtt -> one line per condition: LABEL HOST PORT PUSH HINTS [GZIP]
  local t c flags
  for t in $THINKS; do
    for c in $CONDITIONS; do
      [ "$c" = "nghttpd" ] && [ "$t" != "0" ] && continue # nghttpd cannot delay a response
      flags="$(flags_of "$c")"
      echo "${c}_rtt=${1}_think=$t $SRV $(port_of "$(server_of "$c")" "$t") $flags"
    done
  done
}
flags_of() {
  case "$1" in
    herald-nopush) echo "false false" ;;
    herald-hints) echo "false true" ;;
    herald-push-gzip) echo "true false true" ;;
    *) echo "true false" ;;
  esac
}

pageload() { # plan-file rounds runs warmup out [client-warmup]
  in_cli java -Xmx256m -cp "$CLIENT_JAR" dev.herald.bench.push.PageLoad --plan "$1" --path /index.html \
      --rounds "$2" --runs "$3" --warmup "$4" --out "$5" --client-warmup "${6:-0}" --parallel 16 2>>"$TMP/pageload.log"
}

# ---------------------------------------------------------------------------------------------------------------
# Runs
# ---------------------------------------------------------------------------------------------------------------
for rtt in $RTTS; do
  one_way=$(( rtt / 2 ))
  log "RTT $rtt ms: netdelay up $one_way"
  mkdir -p "$TMP/netdelay"
  NETDELAY_STATE="$TMP/netdelay" "$NETDELAY" up "$one_way" >"$TMP/netdelay-$rtt.log" 2>&1 || { cat "$TMP/netdelay-$rtt.log" >&2; die "netdelay up failed"; }
  NETDELAY_UP=1
  in_srv ip link set lo up
  in_cli ip link set lo up
  if [ -n "$INITCWND" ]; then
    route="$(in_srv ip route show dev tun-srv | head -1)"
    # shellcheck disable=SC2086
    in_srv ip route change $route dev tun-srv initcwnd "$INITCWND" || die "cannot set initcwnd on '$route'"
    log "server initcwnd $INITCWND: $(in_srv ip route show dev tun-srv | head -1)"
  fi
  if [ -n "$SERVER_CC" ]; then
    allowed="$(sysctl -n net.ipv4.tcp_allowed_congestion_control)"
    if ! grep -qw -- "$SERVER_CC" <<<"$allowed"; then
      grep -qw -- "$SERVER_CC" /proc/sys/net/ipv4/tcp_available_congestion_control \
          || modprobe "tcp_$SERVER_CC" 2>/dev/null || die "congestion control '$SERVER_CC' is not available"
      [ -n "$ALLOWED_CC_BEFORE" ] || ALLOWED_CC_BEFORE="$allowed"
      sysctl -q -w net.ipv4.tcp_allowed_congestion_control="$allowed $SERVER_CC" || die "cannot allow '$SERVER_CC'"
    fi
    in_srv sysctl -q -w net.ipv4.tcp_congestion_control="$SERVER_CC" \
        || die "cannot set congestion control '$SERVER_CC' in hd-srv (allowed: $(cat /proc/sys/net/ipv4/tcp_allowed_congestion_control))"
  fi
  SERVER_CC_USED="$(in_srv sysctl -n net.ipv4.tcp_congestion_control)"
  log "server congestion control: $SERVER_CC_USED"
  if [ -n "$INITRWND" ]; then
    route="$(in_cli ip route show dev tun-cli | head -1)"
    # shellcheck disable=SC2086
    in_cli ip route change $route dev tun-cli initrwnd "$INITRWND" || die "cannot set initrwnd on '$route'"
    log "client initrwnd $INITRWND: $(in_cli ip route show dev tun-cli | head -1)"
  fi
  if [ -n "$CLIENT_RMEM" ]; then
    in_cli sysctl -q -w net.ipv4.tcp_rmem="4096 $CLIENT_RMEM $(( CLIENT_RMEM > 6291456 ? CLIENT_RMEM : 6291456 ))" \
        || die "cannot set tcp_rmem in hd-cli"
    log "client tcp_rmem: $(in_cli sysctl -n net.ipv4.tcp_rmem)"
  fi
  tail -1 "$TMP/netdelay-$rtt.log" >&2
  tail -1 "$TMP/netdelay-$rtt.log" >"$TMP/out/ping-$rtt.txt"
  start_servers
  plan "$rtt" >"$TMP/plan-$rtt.txt"
  # sanity: one load per condition, every needed resource complete with status 200 (else the client fails)
  pageload "$TMP/plan-$rtt.txt" 1 1 1 "$TMP/check.jsonl" || { grep failed "$TMP/pageload.log" | tail -5 >&2; die "a check load failed"; }
  if [ "$SERVER_WARMUP" -gt 0 ]; then
    cp "$TMP/plan-$rtt.txt" "$TMP/warm-$rtt.txt"
    if [ "$CHROMIUM" = "1" ] && [ "$rtt" = "$CHROMIUM_RTT" ]; then
      echo "herald-plain_think=$CHROMIUM_THINK $SRV $(port_of herald-plain "$CHROMIUM_THINK") false false" >>"$TMP/warm-$rtt.txt"
      if [ "$CHROMIUM_IDENTITY" = "1" ]; then
        echo "herald-id_think=$CHROMIUM_THINK $SRV $(port_of herald-id "$CHROMIUM_THINK") false true" >>"$TMP/warm-$rtt.txt"
        echo "herald-plain-id_think=$CHROMIUM_THINK $SRV $(port_of herald-plain-id "$CHROMIUM_THINK") false false" >>"$TMP/warm-$rtt.txt"
      fi
    fi
    log "RTT $rtt ms: warming every server, $SERVER_WARMUP loads per condition from inside hd-srv ($SERVER_WARMUP_PARALLEL at a time)"
    in_srv java -Xmx256m -cp "$CLIENT_JAR" dev.herald.bench.push.PageLoad --plan "$TMP/warm-$rtt.txt" --path /index.html \
        --server-warmup "$SERVER_WARMUP" --parallel "$SERVER_WARMUP_PARALLEL" 2>"$TMP/warm-$rtt.log" \
        || { cat "$TMP/warm-$rtt.log" >&2; die "server warm-up loads failed"; }
    sed 's/^/    /' "$TMP/warm-$rtt.log" >&2
  fi
  # every server speaks TLS 1.3 (the limit's setup assumes it) and resumes sessions, as the client offers both
  for port in $(awk '{print $3}' "$TMP/plan-$rtt.txt" | sort -u); do
    proto="$(in_cli openssl s_client -connect "$SRV:$port" -alpn h2 </dev/null 2>/dev/null | grep -a -o 'New, TLSv1\.[0-9]' || true)"
    [ "$proto" = "New, TLSv1.3" ] || die "port $port negotiated '${proto:-nothing}', not TLS 1.3"
  done
  log "RTT $rtt ms: every server answers; measuring ($ROUNDS rounds x $RUNS loads per condition, after $CLIENT_WARMUP client warm-up loads and $WARMUP warm-up loads each)"
  if [ ! -s "$TMP/encoded.txt" ]; then
    # what Herald as shipped sends a client that accepts gzip (Chromium and nghttp do), per file: body bytes on the
    # wire (the report checks herald-push-gzip's loads against them, and prints them under the Chromium table)
    for f in $(awk '{print $1}' "$TMP/fixture.txt"); do
      echo "$f $(in_cli curl -sk -H 'accept-encoding: gzip, deflate, br, zstd' -o /dev/null -w '%{size_download}' \
          "https://$SRV:$(port_of herald "${THINKS%% *}")/$f")"
    done >"$TMP/encoded.txt"
  fi
  if [ -n "$PCAP" ]; then
    mkdir -p "$PCAP"
    ip netns exec hd-srv tcpdump -i tun-srv -s 128 -w "$PCAP/pcap-$rtt.pcap" 2>"$TMP/tcpdump-$rtt.log" &
    PCAP_PID=$!
    ip netns exec hd-cli tcpdump -i tun-cli -s 128 -w "$PCAP/pcap-$rtt-client.pcap" 2>"$TMP/tcpdump-$rtt-client.log" &
    PCAP_CLI_PID=$!
    sleep 1
  fi
  pageload "$TMP/plan-$rtt.txt" "$ROUNDS" "$RUNS" "$WARMUP" "$TMP/out/loads.jsonl" "$CLIENT_WARMUP" || log "RTT $rtt: some loads failed (see the JSON)"
  if [ -n "$PCAP" ]; then
    kill "$PCAP_PID" "$PCAP_CLI_PID"; wait "$PCAP_PID" "$PCAP_CLI_PID" || true
    log "captured $(tail -1 "$TMP/tcpdump-$rtt.log") in $PCAP/pcap-$rtt.pcap, $(tail -1 "$TMP/tcpdump-$rtt-client.log") in $PCAP/pcap-$rtt-client.pcap"
  fi
  grep -c "run [0-9]* [0-9.]* ms" "$TMP/pageload.log" | sed 's/^/[push] loads so far: /' >&2
  if [ "$CHROMIUM" = "1" ] && [ "$rtt" = "$CHROMIUM_RTT" ]; then
    modes="hints nohints"
    [ "$CHROMIUM_IDENTITY" = "1" ] && modes="$modes hints-identity nohints-identity"
    # the Chromium-only Heralds have served nothing over the delay yet: warm them up like the others (not recorded)
    for s in herald-plain $([ "$CHROMIUM_IDENTITY" = "1" ] && echo herald-id herald-plain-id); do
      in_cli java -Xmx256m -cp "$CLIENT_JAR" dev.herald.bench.push.PageLoad --host "$SRV" --port "$(port_of "$s" "$CHROMIUM_THINK")" \
          --push false --runs 0 --warmup "$(( WARMUP * 3 ))" --label "$s-warmup" 2>>"$TMP/pageload.log" || true
    done
    # rounds alternate the modes, so drift on this shared machine (other load, Chromium's own caches) falls on all
    for round in $(seq 1 "$CHROMIUM_ROUNDS"); do
      for mode in $modes; do
        case "$mode" in
          hints) port="$(port_of herald "$CHROMIUM_THINK")" ;;
          nohints) port="$(port_of herald-plain "$CHROMIUM_THINK")" ;;
          hints-identity) port="$(port_of herald-id "$CHROMIUM_THINK")" ;;
          nohints-identity) port="$(port_of herald-plain-id "$CHROMIUM_THINK")" ;;
        esac
        log "Chromium, Herald $mode, RTT $rtt, think $CHROMIUM_THINK, round $round of $CHROMIUM_ROUNDS"
        in_cli java -Xmx512m -cp "$CLIENT_JAR" dev.herald.bench.push.ChromiumLoad --url "https://$SRV:$port/index.html" \
            --spki "$SPKI" --runs "$(( CHROMIUM_RUNS / CHROMIUM_ROUNDS ))" --warmup 1 --label "chromium-$mode rtt=$rtt think=$CHROMIUM_THINK" \
            --out "$TMP/out/chromium.jsonl" 2>>"$TMP/chromium.log" || log "Chromium $mode: some loads failed (see JSON)"
        tail -1 "$TMP/chromium.log" >&2
      done
    done
  fi
  stop_servers
  NETDELAY_STATE="$TMP/netdelay" "$NETDELAY" down
  NETDELAY_UP=0
done
UPTIME_AFTER="$(uptime)"
log "done; $UPTIME_AFTER"

# ---------------------------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------------------------
jstr() { python3 -c 'import json,sys; print(json.dumps(sys.argv[1]))' "$1"; }
cat >"$TMP/out/meta.json" <<JSON
{
  "timestamp": "$TS",
  "machine": {"nproc": $(nproc), "cpu": $(jstr "$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')"), "kernel": "$(uname -sr)",
              "uptimeBefore": $(jstr "$UPTIME_BEFORE"), "uptimeAfter": $(jstr "$UPTIME_AFTER")},
  "versions": {"herald": $(jstr "$(timeout 20 java -jar "$HERALD_JAR" --version 2>/dev/null | head -1) (jar sha256 $(sha256sum "$HERALD_JAR" | cut -c1-12))"),
               "java": $(jstr "$(java -version 2>&1 | head -1)"), "nghttpd": $(jstr "$(nghttpd --version 2>&1 | head -1)"),
               "nginx": $(jstr "$(nginx -v 2>&1)"), "h2o": $(jstr "$(h2o --version 2>&1 | head -1)"),
               "chromium": $(jstr "$(chromium --version 2>/dev/null || echo none)"), "openssl": $(jstr "$(openssl version)")},
  "settings": {"rtts": "$RTTS", "thinks": "$THINKS", "rounds": $ROUNDS, "runsPerRound": $RUNS, "warmup": $WARMUP, "clientWarmup": $CLIENT_WARMUP, "serverWarmup": $SERVER_WARMUP, "serverWarmupParallel": $SERVER_WARMUP_PARALLEL,
               "conditions": "$CONDITIONS", "chromium": $CHROMIUM, "chromiumRuns": $CHROMIUM_RUNS, "chromiumRounds": $CHROMIUM_ROUNDS, "chromiumRtt": $CHROMIUM_RTT,
               "chromiumThink": $CHROMIUM_THINK, "bandwidthMbit": $BANDWIDTH_MBIT, "initcwnd": "${INITCWND:-kernel default (10)}",
               "serverCongestionControl": "$SERVER_CC_USED${SERVER_CC:+ (SERVER_CC)}",
               "initrwnd": "${INITRWND:-kernel default}", "clientRmem": "${CLIENT_RMEM:-kernel default}", "cacheControl": $(jstr "$CACHE_CONTROL")},
  "fixture": $(python3 -c 'import json,sys; print(json.dumps({l.split()[0]: int(l.split()[1]) for l in open(sys.argv[1])}))' "$TMP/fixture.txt"),
  "fixtureAcceptingGzip": $(python3 -c 'import json,os,sys; print(json.dumps({l.split()[0]: int(l.split()[1]) for l in open(sys.argv[1])} if os.path.exists(sys.argv[1]) else {}))' "$TMP/encoded.txt"),
  "commands": {"run": $(jstr "${ENV_PREFIX}bench/push/run.sh"),
               "nginx.conf": $(jstr "$(cat "$TMP/nginx.conf")"), "h2o.conf": $(jstr "$(cat "$TMP/h2o.conf")"),
               "nghttpd": $(jstr "nghttpd -a $SRV -n 1 -d SITE -p/index.html=$(echo $PUSH_PATHS | tr ' ' ',') PORT KEY CERT"),
               "herald think 0": "java $HERALD_JAVA_OPTS -jar herald.jar serve SITE --host $SRV --port PORT --http-port -1 --cert CERT --key KEY --access-log false --files-cache-control '$CACHE_CONTROL'",
               "herald think > 0": "java $HERALD_JAVA_OPTS -cp herald.jar:. BenchHerald SITE $SRV PORT CERT KEY DATA THINK push|plain '$CACHE_CONTROL'",
               "herald-pushall": "java $HERALD_JAVA_OPTS -cp herald.jar:. BenchHerald SITE $SRV PORT CERT KEY DATA THINK push '$CACHE_CONTROL' $PUSHALL_BYTES",
               "herald-pushall-ORDER": "HERALD_PUSH_PRIORITY=ORDER java $HERALD_JAVA_OPTS -cp herald.jar:. BenchHerald SITE $SRV PORT CERT KEY DATA THINK push '$CACHE_CONTROL' $PUSHALL_BYTES",
               "pageload": "ip netns exec hd-cli java -cp push-client.jar dev.herald.bench.push.PageLoad --plan PLAN --rounds $ROUNDS --runs $RUNS --warmup $WARMUP --client-warmup $CLIENT_WARMUP --parallel 16",
               "server warm-up": "ip netns exec hd-srv java -cp push-client.jar dev.herald.bench.push.PageLoad --plan PLAN (+ herald-plain with Chromium) --server-warmup $SERVER_WARMUP --parallel $SERVER_WARMUP_PARALLEL",
               "plans": $(python3 -c 'import json,sys; print(json.dumps({f.rsplit("/", 1)[1]: open(f).read() for f in sys.argv[1:]}))' "$TMP"/plan-*.txt)}
}
JSON
for f in "$TMP"/out/ping-*.txt; do echo "$(basename "$f" .txt) $(cat "$f")"; done >"$TMP/out/ping.txt"
mkdir -p "$RESULTS_DIR"
/usr/bin/python3 "$SCRIPT_DIR/report.py" --dir "$TMP/out" --results-dir "$RESULTS_DIR" --benchmarks-md "$BENCHMARKS_MD" --repo-root "$REPO_ROOT"
