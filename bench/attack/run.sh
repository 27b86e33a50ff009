#!/usr/bin/env bash
# The long variant of the HTTP/2 attack suite (issue 6): every test in src/test/java/dev/herald/attack/ with each
# flood (and each idle hold) lasting SECONDS instead of the few seconds CI uses, then a summary of what each
# attack was answered with, Herald's heap and direct-memory growth and the well-behaved client's p99, read from
# the AttackScenario log lines.
#
# Environment (defaults in brackets):
#   SECONDS_PER_ATTACK [60]  the system property herald.attack.seconds (AttackScenario.attackDuration)
#   TESTS ['dev.herald.attack.*Test']  surefire -Dtest pattern, e.g. 'H2FloodAttackTest#rapidReset*'
#   LEAK []                  Netty leak detection level for the run (the pom's default: paranoid)
#   OFFLINE [0]              1: mvnw -o
#   RESULTS_DIR [<repo>/bench/results]
# Writes RESULTS_DIR/attack-<UTC>.md and prints it (Maven's output: target/attack-<UTC>.log). Exits non-zero if
# any attack test failed.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
SECONDS_PER_ATTACK="${SECONDS_PER_ATTACK:-60}"
TESTS="${TESTS:-dev.herald.attack.*Test}"
RESULTS_DIR="${RESULTS_DIR:-$REPO_ROOT/bench/results}"
STAMP="$(date -u +%Y%m%dT%H%M%SZ)"
OUT="$RESULTS_DIR/attack-$STAMP.md"
REPORTS="$REPO_ROOT/target/surefire-reports"

args=(-B -ntp test "-Dtest=$TESTS" "-Dherald.attack.seconds=$SECONDS_PER_ATTACK" -Dsurefire.failIfNoSpecifiedTests=false)
[[ -n "${LEAK:-}" ]] && args+=("-Dherald.test.leak=$LEAK")
[[ "${OFFLINE:-0}" == 1 ]] && args+=(-o)

mkdir -p "$RESULTS_DIR"
rm -rf "$REPORTS"
cd "$REPO_ROOT"
started=$(date +%s)
status=0
LOG="$REPO_ROOT/target/attack-$STAMP.log"
mkdir -p "$REPO_ROOT/target"
./mvnw "${args[@]}" > "$LOG.tmp" 2>&1 || status=$?
mv "$LOG.tmp" "$LOG"
elapsed=$(( $(date +%s) - started ))

{
  echo "# Attack suite, long variant ($STAMP)"
  echo
  echo "\`SECONDS_PER_ATTACK=$SECONDS_PER_ATTACK TESTS='$TESTS' bench/attack/run.sh\`: $elapsed s in all, on"
  echo "$(nproc) cores ($(uname -sr)), $(java -version 2>&1 | head -1). Maven exit status: $status; Maven's"
  echo "output: \`target/attack-$STAMP.log\`."
  echo
  echo "## Test classes"
  echo
  echo "| class | tests | failures | errors | seconds |"
  echo "|---|---|---|---|---|"
  for xml in "$REPORTS"/TEST-*.xml; do
    [[ -e "$xml" ]] || continue
    python3 - "$xml" <<'PY'
import sys, xml.etree.ElementTree as ET
s = ET.parse(sys.argv[1]).getroot()
print(f"| {s.get('name').rsplit('.', 1)[-1]} | {s.get('tests')} | {s.get('failures')} | {s.get('errors')} | {float(s.get('time')):.1f} |")
PY
  done
  echo
  echo "## Each attack (AttackScenario's line: answer, memory growth, good client)"
  echo
  grep -h "AttackScenario - attack " "$REPORTS"/*-output.txt 2>/dev/null \
    | sed -E 's/^.*AttackScenario - attack /- /' || echo "- (no attack lines: see the log)"
  echo
  echo "## Limit warnings Herald logged (LimitLog), first of each kind"
  echo
  grep -h "LimitLog - limit " "$REPORTS"/*-output.txt 2>/dev/null \
    | sed -E 's/^.*LimitLog - limit ([^ ]+( [^ ]+ [A-Z_]+)?) exceeded by [^:]+:[0-9]+: /\1|/' \
    | awk -F'|' '!seen[$1]++ { print "- " $1 ": " substr($2, 1, 160) }' || true
} > "$OUT"

cat "$OUT"
exit "$status"
