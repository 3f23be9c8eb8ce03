#!/usr/bin/env bash
# End to end, the administrator's journey with the Debian package: build kvm-in-a-box,
# install it with apt into a Debian 13 root file system (its dependencies resolved from
# Debian), boot that with systemd as PID 1 (systemd-nspawn, private network), and inside
# run the journey (scenario.sh): kib setup, a VM as a systemd user service of its own
# user, its console, its owner's SSH login, kib remove, apt-get purge. Prints each step
# with its result and time, exits non-zero at the first failure, and ends with the
# figures: the package's size and the time of each journey step. The whole run has a
# hard timeout (KIB_E2E_TIMEOUT seconds, default 900).
# Caches: .cache/e2e/rootfs (the root file system with the package's Depends, never
# booted itself) and .cache/guest (the test guest). The last run's package is in
# .cache/e2e/deb, its booted tree, with its persistent journal, in .cache/e2e/run.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$(pwd)
cache=$repo/.cache/e2e
run=$cache/run
debs=$cache/deb
logs=$cache/logs
results=$run/var/lib/kib-test/out/results
timeout=${KIB_E2E_TIMEOUT:-900}
deadline=$((SECONDS + timeout))
started=$(date +%s%N)
passed=0
# Notes a host step leaves for its result line, and the figures printed at the end.
notes=$logs/notes
figures=$logs/figures

# Seconds left of the overall budget (at least 1, so that timeout(1) still fires).
left() {
  local n=$((deadline - SECONDS))
  echo $((n > 0 ? n : 1))
}

# Milliseconds since a `date +%s%N` stamp.
since() {
  echo $((($(date +%s%N) - $1) / 1000000))
}

# Milliseconds as seconds with one decimal.
seconds() {
  awk "BEGIN {printf \"%.1f\", $1 / 1000}"
}

# One result line: status, time in ms, name.
line() {
  printf '%-4s %7ss  %s\n' "$1" "$(seconds "$2")" "$3"
}

# A remark under the current host step (printed after its result line).
note() {
  printf '%s\n' "$*" >> "$notes"
}

# The figures: the host's (package size, journey step times) and the booted system's.
print_figures() {
  echo 'figures:'
  grep -h '^figure ' "$figures" "$results" 2>/dev/null | cut -d' ' -f2- | sed 's/^/  /' || true
  echo '  time of each journey step:'
  grep -h '^time ' "$figures" "$results" 2>/dev/null | while read -r _ ms name; do
    printf '  %8ss  %s\n' "$(seconds "$ms")" "$name"
  done || true
  printf '  %8ss  %s\n' "$(seconds "$(since "$started")")" 'the whole run'
}

# Kills what is left of a booted copy: a systemd-nspawn killed by the timeout leaves the
# container's init and everything under it running (VM users' qemu among them).
reap_container() {
  local proc root
  [ -n "${run:-}" ] || return 0
  for proc in /proc/[0-9]*; do
    root=$(readlink "$proc/root" 2>/dev/null) || continue
    case "$root" in "$run" | "$run (deleted)") kill -9 "${proc#/proc/}" 2>/dev/null || true ;; esac
  done
}

# The closing lines, counting host steps and the scenario's steps; then the exit status.
finish() {
  local inside
  reap_container
  inside=$(grep -c '^ok ' "$results" 2>/dev/null || true)
  print_figures
  echo "e2e: $((passed + ${inside:-0})) passed, $1 failed"
  exit "$1"
}

# Runs one host-side step under the overall timeout; its output goes to its log, whose
# tail is shown when it fails. `step -j NAME ...` is a step of the journey: its time is
# one of the figures.
step() {
  local journey=no name log t0 ms status=0
  [ "$1" = -j ] && { journey=yes; shift; }
  name=$1
  log=$logs/$(echo "$name" | tr -c 'a-zA-Z0-9\n' '-').log
  shift
  : > "$notes"
  t0=$(date +%s%N)
  # A shell function runs in a child bash, so that the timeout applies to it too.
  if declare -F "$1" > /dev/null; then
    export -f "$1" note
    set -- bash -euo pipefail -c '"$@"' _ "$@"
  fi
  timeout --kill-after=10 "$(left)" "$@" > "$log" 2>&1 || status=$?
  ms=$(since "$t0")
  if [ "$status" -ne 0 ]; then
    line FAIL "$ms" "$name$([ "$status" -eq 124 ] && echo ' (timed out)')"
    tail -n 40 "$log" | sed 's/^/     | /'
    finish 1
  fi
  line ok "$ms" "$name"
  sed "s/^/$(printf '%16s' '')/" "$notes"
  [ "$journey" = no ] || echo "time $ms $name" >> "$figures"
  passed=$((passed + 1))
}

# The package, built from this tree as scripts/build-deb.sh does (in a copy: the
# checkout's dist/ is not touched).
build_package() {
  local deb bytes installed
  rm -rf "$debs"
  bash scripts/build-deb.sh "$debs"
  deb=$(ls "$debs"/kvm-in-a-box_*_all.deb)
  bytes=$(stat -c %s "$deb")
  installed=$(dpkg-deb -f "$deb" Installed-Size)
  note "${deb##*/}: $bytes bytes ($((bytes / 1024)) KiB), installed size $installed KiB"
  echo "figure package ${deb##*/}: $bytes bytes ($((bytes / 1024)) KiB), installed size $installed KiB" >> "$figures"
}

# A fresh copy of the cached root file system.
copy_root() {
  rm -rf "$run"
  cp -a --reflink=auto "$cache/rootfs" "$run"
}

# The package installed by apt in the copy (not booted yet: systemd-nspawn as a chroot),
# which resolves its dependencies against Debian's package lists; the maintainer scripts
# create kib's groups and enable kib-dnsmasq.service.
install_package() {
  local deb status
  deb=$(ls "$debs"/kvm-in-a-box_*_all.deb)
  install -m 0644 "$deb" "$run/var/tmp/"
  systemd-nspawn -q -D "$run" --register=no --keep-unit --setenv=DEBIAN_FRONTEND=noninteractive \
    apt-get install -y "/var/tmp/${deb##*/}" | tee "$logs/apt-install.log"
  rm -f "$run/var/tmp/${deb##*/}"
  status=$(dpkg-query --admindir="$run/var/lib/dpkg" -W -f '${Status} ${Version}' kvm-in-a-box)
  echo "kvm-in-a-box: $status"
  case $status in "install ok installed "*) ;; *) return 1 ;; esac
  for f in /usr/sbin/kib /usr/sbin/kib-supervise /usr/sbin/kib-console /usr/sbin/kib-install; do
    [ -x "$run$f" ] || { echo "$f is missing"; return 1; }
  done
  [ -L "$run/etc/systemd/system/multi-user.target.wants/kib-dnsmasq.service" ] \
    || { echo "kib-dnsmasq.service is not enabled"; return 1; }
  grep -E '^kib(-admin)?:' "$run/etc/group"
  [ "$(grep -cE '^kib(-admin)?:' "$run/etc/group")" = 2 ] || { echo "the groups kib and kib-admin are missing"; return 1; }
  note "apt: $(grep -m1 'newly installed' "$logs/apt-install.log" | tr -d '\r' | sed 's/\.$//'); kib-dnsmasq.service enabled, groups kib and kib-admin"
}

# The test guest, the scenario and the unit that runs it at boot; a persistent journal,
# so that what happened, shutdown included, can be read after the run.
prepare() {
  install -d -m 2755 "$run/var/log/journal"
  install -d -m 0755 "$run/var/lib/kib-test"
  install -m 0644 .cache/guest/vmlinuz .cache/guest/initrd.gz "$run/var/lib/kib-test/"
  install -m 0755 test/e2e/scenario.sh "$run/var/lib/kib-test/scenario.sh"
  install -m 0644 test/e2e/kib-e2e.service "$run/etc/systemd/system/kib-e2e.service"
  ln -sf /etc/systemd/system/kib-e2e.service "$run/etc/systemd/system/multi-user.target.wants/kib-e2e.service"
}

# Boots the copy; the scenario powers it off when done. Its lines are printed as they come:
# 'ok|FAIL MS NAME', 'note TEXT', 'log FILE' (a failed step's output), 'done'; the
# figures ('time MS NAME', 'figure TEXT') wait for the end.
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
  reap_container
  if ! grep -qx done "$results" 2>/dev/null; then
    line FAIL "$(since "$t0")" "boot, scenario and power-off$([ "$status" -eq 124 ] && echo ' (timed out)')"
    grep -qs '^FAIL' "$results" || tail -n 20 "$logs/boot.log" | sed 's/^/     | /'
    echo "     the booted tree: $run; its journal: journalctl -D $run/var/log/journal"
    finish 1
  fi
  line ok "$(since "$t0")" "boot, scenario and power-off"
  passed=$((passed + 1))
}

[ "$(id -u)" = 0 ] || { echo "test/e2e/run.sh needs root (debootstrap, systemd-nspawn)" >&2; exit 1; }
for tool in debootstrap systemd-nspawn dpkg-buildpackage dh; do
  command -v "$tool" > /dev/null || { echo "$tool is missing: apt-get install debootstrap systemd-container dpkg-dev debhelper" >&2; exit 1; }
done
mkdir -p "$cache" "$logs"
rm -f "$results" "$figures"
export run cache debs logs notes figures
step -j 'build the package (scripts/build-deb.sh)' build_package
step 'Debian 13 root file system with the Depends (cached)' bash test/e2e/rootfs.sh "$cache"
step 'test guest (cached)' bash test/guest/build.sh .cache/guest
step 'fresh copy of the root file system' copy_root
step -j 'apt-get install ./kvm-in-a-box_*.deb (not booted)' install_package
step 'test guest and scenario into the root' prepare
boot
line ok "$(since "$started")" 'end to end'
finish 0
