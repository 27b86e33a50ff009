# Shell helpers shared by the bench scripts (sourced). The caller defines log and die, and sets TMP, KEEP_TMP and
# the array PIDS (process group leaders started with setsid) before installing `trap cleanup EXIT`.

# Stops every process group in PIDS (TERM, then KILL), then removes TMP unless KEEP_TMP=1.
cleanup() {
  local p
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill -- "-$p" 2>/dev/null || true
  done
  sleep 0.3
  for p in "${PIDS[@]:-}"; do
    [ -n "$p" ] && kill -9 -- "-$p" 2>/dev/null || true
  done
  if [ "$KEEP_TMP" = "1" ]; then log "kept $TMP"; else rm -rf "$TMP"; fi
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_port() { # port seconds
  local i
  for (( i = 0; i < $2 * 10; i++ )); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

check_pinned() { # pid cpu: every thread of the process may run on that CPU only
  local tid list
  for tid in /proc/"$1"/task/*; do
    list="$(taskset -pc "${tid##*/}" 2>/dev/null | sed 's/.*: //')"
    [ "$list" = "$2" ] || die "thread ${tid##*/} of process $1 may run on CPUs $list, not $2"
  done
}
