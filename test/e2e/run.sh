#!/usr/bin/env bash
# End to end: kib installed as the package lays it out, in a booted Debian 13 (systemd as
# PID 1, in systemd-nspawn with a private network), runs a VM as a systemd user service of
# its own user (the scenario is scenario.sh). Prints each step with its result and time
# and exits non-zero at the first failure; the whole run has a hard timeout
# (KIB_E2E_TIMEOUT seconds, default 900).
# Caches: .cache/e2e/rootfs (the Debian root file system, never booted itself) and
# .cache/guest (the test guest). The booted copy of the last run stays in .cache/e2e/run,
# with its persistent journal, for a look after a failure.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
cache=$repo/.cache/e2e
run=$cache/run
logs=$cache/logs
results=$run/var/lib/kib-test/out/results
timeout=${KIB_E2E_TIMEOUT:-900}
deadline=$((SECONDS + timeout))
started=$(date +%s%N)
passed=0

# Seconds left of the overall budget (at least 1, so that timeout(1) still fires).
left() {
  local n=$((deadline - SECONDS))
  echo $((n > 0 ? n : 1))
}

# Milliseconds since a `date +%s%N` stamp.
since() {
  echo $((($(date +%s%N) - $1) / 1000000))
}

# One result line: status, time in ms, name.
line() {
  printf '%-4s %7.1fs  %s\n' "$1" "$(awk "BEGIN {print $2 / 1000}")" "$3"
}

# The closing line, counting host steps and the scenario's steps; then the exit status.
finish() {
  local inside
  inside=$(grep -c '^ok ' "$results" 2>/dev/null || true)
  echo "e2e: $((passed + ${inside:-0})) passed, $1 failed"
  exit "$1"
}

# Runs one host-side step under the overall timeout; its output goes to its log, whose
# tail is shown when it fails.
step() {
  local name=$1 log t0 status=0
  log=$logs/$(echo "$name" | tr -c 'a-zA-Z0-9\n' '-').log
  shift
  t0=$(date +%s%N)
  # A shell function runs in a child bash, so that the timeout applies to it too.
  if declare -F "$1" > /dev/null; then
    export -f "$1"
    set -- bash -euo pipefail -c '"$@"' _ "$@"
  fi
  timeout --kill-after=10 "$(left)" "$@" > "$log" 2>&1 || status=$?
  if [ "$status" -ne 0 ]; then
    line FAIL "$(since "$t0")" "$name$([ "$status" -eq 124 ] && echo ' (timed out)')"
    tail -n 40 "$log" | sed 's/^/     | /'
    finish 1
  fi
  line ok "$(since "$t0")" "$name"
  passed=$((passed + 1))
}

# A fresh copy of the cached root file system with kib, the test guest and the scenario.
prepare() {
  rm -rf "$run"
  cp -a --reflink=auto "$cache/rootfs" "$run"
  sh scripts/install.sh "$run"
  # kib's system units, installed and enabled as the package's dh_installsystemd does.
  for unit in systemd/*.service; do
    [ -e "$unit" ] || continue
    install -m 0644 "$unit" "$run/usr/lib/systemd/system/"
    ln -sf "/usr/lib/systemd/system/${unit##*/}" "$run/etc/systemd/system/multi-user.target.wants/${unit##*/}"
  done
  # A persistent journal: what happened, shutdown included, can be read after the run.
  install -d -m 2755 "$run/var/log/journal"
  install -d -m 0755 "$run/var/lib/kib-test"
  install -m 0644 .cache/guest/vmlinuz .cache/guest/initrd.gz "$run/var/lib/kib-test/"
  install -m 0755 test/e2e/scenario.sh "$run/var/lib/kib-test/scenario.sh"
  install -m 0644 test/e2e/kib-e2e.service "$run/etc/systemd/system/kib-e2e.service"
  ln -sf /etc/systemd/system/kib-e2e.service "$run/etc/systemd/system/multi-user.target.wants/kib-e2e.service"
}

# Boots the copy; the scenario powers it off when done. Its lines are printed as they come:
# 'ok|FAIL MS NAME', 'note TEXT', 'log FILE' (a failed step's output), 'done'.
boot() {
  local status=0 t0 pid
  t0=$(date +%s%N)
  timeout --kill-after=20 "$(left)" systemd-nspawn -D "$run" --boot --register=no --keep-unit -q \
    --console=pipe --private-network > "$logs/boot.log" 2>&1 < /dev/null &
  pid=$!
  { tail -n +1 -F --pid="$pid" "$results" 2>/dev/null || true; } | while read -r kind rest; do
    case "$kind" in
      ok | FAIL) line "$kind" "${rest%% *}" "  ${rest#* }" ;;
      note) printf '%16s%s\n' '' "$rest" ;;
      log) tail -n 40 "$run$rest" | sed 's/^/     | /' ;;
    esac
  done
  wait "$pid" || status=$?
  if ! grep -qx done "$results" 2>/dev/null; then
    line FAIL "$(since "$t0")" "boot and scenario$([ "$status" -eq 124 ] && echo ' (timed out)')"
    grep -qs '^FAIL' "$results" || tail -n 20 "$logs/boot.log" | sed 's/^/     | /'
    echo "     the booted tree: $run; its journal: journalctl -D $run/var/log/journal"
    finish 1
  fi
  line ok "$(since "$t0")" "boot, scenario and power-off"
  passed=$((passed + 1))
}

[ "$(id -u)" = 0 ] || { echo "test/e2e/run.sh needs root (debootstrap, systemd-nspawn)" >&2; exit 1; }
for tool in debootstrap systemd-nspawn; do
  command -v "$tool" > /dev/null || { echo "$tool is missing: apt-get install debootstrap systemd-container" >&2; exit 1; }
done
mkdir -p "$cache" "$logs"
export run cache
step 'build (npm run build)' npm run build
step 'Debian 13 root file system (cached)' bash test/e2e/rootfs.sh "$cache"
step 'test guest (cached)' bash test/guest/build.sh .cache/guest
step 'fresh copy of the root, kib installed' prepare
boot
line ok "$(since "$started")" 'end to end'
finish 0
