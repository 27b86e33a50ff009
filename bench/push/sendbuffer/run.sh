#!/usr/bin/env bash
# http2.send-buffer diagnostic (root): Herald with HERALD_HTTP2_SEND_BUFFER=16384 and =0 in netdelay's hd-srv,
# a JDK HttpClient in hd-cli that starts a 30 MB download and requests /index.html DELAY ms later on the same
# connection. Prints the page's and the download's time per load. RTT [100], DELAY [1200], RUNS [12].
set -euo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)"; REPO="$(cd "$DIR/../../.." && pwd)"
ND="${NETDELAY:-/work/shared/tools/netdelay/netdelay}"; RTT="${RTT:-100}"
TMP="$(mktemp -d /tmp/herald-sendbuf.XXXXXX)"; export NETDELAY_STATE="$TMP/nd"; mkdir -p "$NETDELAY_STATE" "$TMP/site"
trap '"$ND" down >/dev/null 2>&1 || true; rm -rf "$TMP"' EXIT
python3 "$DIR/../fixture.py" "$TMP/site" >/dev/null; head -c 30000000 /dev/urandom >"$TMP/site/big.bin"
javac -d "$TMP" "$DIR/PageDuringDownload.java"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
    -days 1 -subj "/CN=10.201.0.1" -addext "subjectAltName=IP:10.201.0.1" 2>/dev/null
"$ND" up $((RTT / 2)) >/dev/null; ip netns exec hd-srv ip link set lo up
port=8442
for sb in 16384 0; do
  port=$((port + 1)); mkdir -p "$TMP/cwd-$sb"
  (cd "$TMP/cwd-$sb" && HERALD_HTTP2_SEND_BUFFER=$sb exec ip netns exec hd-srv java -Xmx512m -jar "$REPO/target/herald.jar" \
      serve "$TMP/site" --host 10.201.0.1 --port $port --http-port -1 --data-dir "$TMP/data-$sb" --cert "$TMP/cert.pem" \
      --key "$TMP/key.pem" --access-log false >"$TMP/herald-$sb.log" 2>&1) &
  pid=$!
  for _ in $(seq 1 150); do ip netns exec hd-cli bash -c "exec 3<>/dev/tcp/10.201.0.1/$port" 2>/dev/null && break; sleep 0.2; done
  echo "http2.send-buffer $sb"
  ip netns exec hd-cli java -Djdk.internal.httpclient.disableHostnameVerification=true -cp "$TMP" PageDuringDownload \
      "https://10.201.0.1:$port" "${DELAY:-1200}" "${RUNS:-12}"
  kill "$pid"; wait "$pid" 2>/dev/null || true
done
