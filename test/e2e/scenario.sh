#!/usr/bin/env bash
# The end-to-end scenario, run inside the booted test system by kib-e2e.service: a VM
# declared with kib runs as a systemd user service of its own user, sandboxed, shows its
# ready line on the serial socket and powers off through ACPI when stopped.
# Each step appends one line to out/results (`ok|FAIL MILLISECONDS NAME`, `note ...` lines
# after it) and keeps its output in out/NN-NAME.log; the first failure ends the run.
set -uo pipefail
base=/var/lib/kib-test
out=$base/out
results=$out/results
mkdir -p "$out"
: > "$results"
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
vm=web
user=kib-$vm
unit=kib-$vm.service
count=0

# One line of the results, as soon as it is known (the outer script follows the file).
report() {
  printf '%s\n' "$*" >> "$results"
}

# A remark under the current step, printed by the outer script.
note() {
  report "note $*"
}

# Runs a step function with its output in its own log; records its result and time.
step() {
  local name=$1 log start end status
  shift
  count=$((count + 1))
  log=$(printf '%s/%02d-%s.log' "$out" "$count" "$(echo "$name" | tr -c 'a-zA-Z0-9\n' '-')")
  start=$(date +%s%N)
  if "$@" > "$log" 2>&1; then status=ok; else status=FAIL; fi
  end=$(date +%s%N)
  report "$status $(( (end - start) / 1000000 )) $name"
  if [ "$status" = FAIL ]; then
    report "log $log"
    diagnose
    exit 1
  fi
}

# What explains a failure: the system's and the VM user's journals, the unit's state.
diagnose() {
  journalctl -b --no-pager -o short-monotonic > "$out/journal.log" 2>&1 || true
  systemctl --failed --no-pager > "$out/failed-units.log" 2>&1 || true
  [ -n "${uid:-}" ] && as_user systemctl --user status "$unit" --no-pager > "$out/unit-status.log" 2>&1 || true
}

# Polls a command until it succeeds or SECONDS pass.
wait_for() {
  local seconds=$1 deadline
  shift
  deadline=$(( $(date +%s) + seconds ))
  until "$@"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# Runs a command as the VM user, talking to its user manager (through its private
# socket: no session bus needed).
as_user() {
  runuser -u "$user" -- env XDG_RUNTIME_DIR="/run/user/$uid" "$@"
}

unit_prop() {
  as_user systemctl --user show -P "$1" "$unit"
}

# systemd runs as PID 1 and the boot has finished (degraded is fine: a container lacks things).
boot_finished() {
  local state
  state=$(systemctl is-system-running --wait)
  echo "system: $state"
  systemctl --failed --no-legend --plain --no-pager
  note "$(systemctl --version | head -n 1), system $state"
  [ "$state" = running ] || [ "$state" = degraded ]
}

# What differs from a host in systemd-nspawn: a fifo over /proc/kmsg where a host has the
# kernel's file, which ProtectKernelLogs= masks (a fifo there fails the unit); and
# /dev/net/tun 0600 where Debian's udev makes it 0666.
like_a_host() {
  if [ -p /proc/kmsg ]; then umount /proc/kmsg || return 1; fi
  chmod 0666 /dev/net/tun || return 1
  ls -l /proc/kmsg /dev/net/tun
}

write_config() {
  cat > /etc/kvm-in-a-box.cfg <<'CFG'
domain = kvm-box.example.net
upstream-interface = lo
public-address = 10.0.0.1/16
public-address6 = 2001:db8::2/64
private-address6 = fd13:5b76:af07::2/64
accel = tcg
storage = image
CFG
  cat /etc/kvm-in-a-box.cfg
}

kib_setup() {
  kib setup
}

kib_create() {
  kib create "$vm" --accel tcg --mem 256 --public --user --storage image --disk-size 64M \
    --kernel "$base/vmlinuz" --initrd "$base/initrd.gz" --append 'console=ttyS0 quiet panic=-1' || return 1
  uid=$(id -u "$user") || return 1
  ipv4=$(kib info "$vm" --json | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).ipv4)') || return 1
  echo "uid $uid, IPv4 $ipv4"
  kib info "$vm"
}

# The rendered units pass systemd's own checks, as the VM user sees them (the man page
# in Documentation= comes with the package, not with this install).
verify_units() {
  local ok=0 dir
  as_user systemd-analyze --user verify --man=no "$unit" || ok=1
  # The installer unit is a template: verify one instance of it.
  dir=$(mktemp -d)
  chmod 755 "$dir"
  cp "/etc/systemd/user/kib-$vm-install@.service" "$dir/kib-$vm-install@auto.service"
  chown -R "$user" "$dir"
  as_user systemd-analyze --user verify --man=no "$dir/kib-$vm-install@auto.service" 2>&1 | tee "$out/verify-install.log" || true
  # kib-install (the installer) is another command; only its absence is tolerated here.
  if grep -v -e 'kib-install' "$out/verify-install.log" | grep -q .; then ok=1; fi
  grep -q 'kib-install' "$out/verify-install.log" && note "installer unit: $(grep -m1 kib-install "$out/verify-install.log")"
  rm -rf "$dir"
  return $ok
}

# kib wrote the linger file (the user manager at boot) and started the VM user's systemd
# instance itself.
user_manager() {
  ls -l "/var/lib/systemd/linger/$user" || return 1
  wait_for 10 systemctl is-active --quiet "user@$uid.service" || { echo "kib did not start user@$uid.service"; return 1; }
  wait_for 30 test -S "/run/user/$uid/systemd/private" || return 1
  loginctl show-user "$user" --no-pager
  as_user systemctl --user is-system-running --wait || true
}

# Copies the serial console into a file from the moment the socket exists (qemu drops
# what nobody reads).
follow_serial() {
  local sock=/run/user/$uid/kib-$vm/ttyS0.sock
  : > "$out/serial.log"
  rm -f "$out/serial.stop"
  (
    until [ -e "$out/serial.stop" ]; do
      [ -S "$sock" ] && socat -u "UNIX-CONNECT:$sock" - >> "$out/serial.log" 2>/dev/null
      sleep 0.05
    done
  ) &
  serial_pid=$!
}

# Ends the serial copy (qemu has gone: no socat is left connected).
unfollow_serial() {
  touch "$out/serial.stop"
  wait "$serial_pid" 2>/dev/null
}

start_vm() {
  follow_serial
  kib start "$vm"
}

# The unit is active and its main process is the supervisor, running as the VM user.
unit_runs() {
  local pid
  wait_for 10 test "$(unit_prop ActiveState)" = active || { unit_prop ActiveState; return 1; }
  pid=$(unit_prop MainPID)
  echo "main pid $pid: $(tr '\0' ' ' < "/proc/$pid/cmdline")"
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q 'kib-supervise' || return 1
  grep '^Uid:' "/proc/$pid/status"
  [ "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" = "$uid" ]
}

# qemu is the supervisor's child, runs as the VM user, every thread seccomp-filtered.
qemu_sandboxed() {
  local main qemu t bad=0
  main=$(unit_prop MainPID)
  wait_for 10 pgrep -P "$main" qemu-system || return 1
  qemu=$(pgrep -P "$main" qemu-system | head -n 1)
  echo "qemu pid $qemu"
  grep -E '^(Uid|Gid|Groups|NoNewPrivs|Seccomp|CapEff|CapBnd):' "/proc/$qemu/status"
  [ "$(awk '/^Uid:/ {print $2}' "/proc/$qemu/status")" = "$uid" ] || bad=1
  for t in /proc/"$qemu"/task/*; do
    grep -q '^Seccomp:[[:space:]]*2' "$t/status" || { echo "thread ${t##*/} not in seccomp filter mode"; bad=1; }
  done
  note "qemu $qemu as uid $uid: $(ls /proc/"$qemu"/task | wc -l) threads, all Seccomp: 2; $(grep -E '^(NoNewPrivs|CapBnd)' "/proc/$qemu/status" | tr -s '\t\n ' '  ')"
  # The unit's sandbox: qemu in namespaces of its own (user, mount, ipc), not the manager's.
  manager=$(systemctl show -P MainPID "user@$uid.service")
  for ns in user mnt ipc; do
    echo "$ns: qemu $(readlink "/proc/$qemu/ns/$ns"), user manager $(readlink "/proc/$manager/ns/$ns")"
    [ "$(readlink "/proc/$qemu/ns/$ns")" != "$(readlink "/proc/$manager/ns/$ns")" ] || { echo "qemu shares the manager's $ns namespace"; bad=1; }
  done
  # The public NIC: qemu holds the tap kib made for it, from inside the sandbox.
  grep -h '^iff:' /proc/"$qemu"/fdinfo/* || { echo "qemu holds no tap"; bad=1; }
  ip -d link show "kpu-$vm" | grep -q "master kpu" || { ip -d link show "kpu-$vm"; echo "kpu-$vm is not on kpu"; bad=1; }
  note "tap: $(grep -h '^iff:' /proc/"$qemu"/fdinfo/* | tr -s '\t ' ' '), $(ip -o link show "kpu-$vm" | grep -o 'state [A-Z]*')"
  cat "/proc/$qemu/uid_map"
  # The sandbox hides the user manager's sockets and every device qemu does not need.
  ls -la "/proc/$qemu/root/dev" "/proc/$qemu/root/run/user/$uid"
  [ ! -e "/proc/$qemu/root/run/user/$uid/systemd/private" ] || { echo "qemu sees its user manager's socket"; bad=1; }
  [ ! -e "/proc/$qemu/root/dev/kmsg" ] || { echo "qemu sees /dev/kmsg"; bad=1; }
  return $bad
}

# The guest booted, and its public NIC got by DHCP (kib's dnsmasq, through the tap) the
# address kib allocated to it.
guest_ready() {
  wait_for 90 grep -q KIB-GUEST-READY "$out/serial.log" || { cat "$out/serial.log"; return 1; }
  cat "$out/serial.log"
  grep -qx "KIB-GUEST-IP $ipv4" <(tr -d '\r' < "$out/serial.log") || { echo "the guest did not get $ipv4"; return 1; }
  note "the guest got $ipv4 by DHCP on its public NIC"
}

stop_vm() {
  kib stop "$vm" || return 1
  unfollow_serial
  wait_for 10 test "$(unit_prop ActiveState)" = inactive || return 1
  echo "ActiveState=$(unit_prop ActiveState) Result=$(unit_prop Result) ExecMainStatus=$(unit_prop ExecMainStatus)"
  [ "$(unit_prop Result)" = success ]
}

# The journal of the user unit tells how the guest went down: ACPI, then a clean exit.
powered_off() {
  local journal=$out/unit-journal.log
  wait_for 10 sh -c "journalctl --no-pager -o cat _UID=$uid _SYSTEMD_USER_UNIT=$unit > $journal; grep -q 'the guest powered off' $journal"
  cat "$journal"
  grep -q 'qmp event POWERDOWN' "$journal" || return 1
  grep -q 'qmp event SHUTDOWN.*guest-shutdown' "$journal" || return 1
  grep -q 'KIB-GUEST-POWEROFF' "$out/serial.log" || { echo "no KIB-GUEST-POWEROFF on the serial console"; return 1; }
}

# systemd's own view of the sandbox, as the VM user's manager applies it.
security() {
  as_user systemd-analyze --user security --no-pager "$unit" > "$out/security.log" 2>&1 || true
  cat "$out/security.log"
  grep -q 'Overall exposure level' "$out/security.log" || return 1
  note "$(grep 'Overall exposure level' "$out/security.log" | sed 's/\x1b\[[0-9;]*m//g')"
}

# Whether the memory limit can bite (the user manager needs the memory controller), and
# what the VM uses against it.
memory_limit() {
  local cg=/sys/fs/cgroup/user.slice/user-$uid.slice/user@$uid.service main qemu
  main=$(unit_prop MainPID)
  qemu=$(pgrep -P "$main" qemu-system | head -n 1)
  note "resident: supervisor $(awk '/^VmRSS/ {printf "%d", $2 / 1024}' "/proc/$main/status") MiB, qemu $(awk '/^VmRSS/ {printf "%d", $2 / 1024}' "/proc/$qemu/status") MiB (guest 256 MiB)"
  echo "MemoryMax=$(unit_prop MemoryMax)"
  echo "controllers of user@$uid: $(cat "$cg/cgroup.controllers" 2>/dev/null || echo '(none: no unified hierarchy)')"
  note "MemoryMax=$(unit_prop MemoryMax); user@$uid controllers: $(cat "$cg/cgroup.controllers" 2>/dev/null || echo none)"
}

step 'boot finished' boot_finished
step '/proc/kmsg and /dev/net/tun as on a host' like_a_host
step 'write /etc/kvm-in-a-box.cfg' write_config
step 'kib setup' kib_setup
step 'kib create web' kib_create
step "the VM user's systemd instance runs" user_manager
step 'units pass systemd-analyze verify' verify_units
step 'kib start web' start_vm
step 'unit active, main process kib-supervise as kib-web' unit_runs
step 'qemu as kib-web: seccomp, own namespaces, private /dev, its tap' qemu_sandboxed
step 'guest ready on the serial socket, with its IPv4 by DHCP' guest_ready
step 'memory limit' memory_limit
step 'systemd-analyze security' security
step 'kib stop web: unit inactive, not failed' stop_vm
step 'guest powered off through ACPI' powered_off
report done
