#!/usr/bin/env bash
# The administrator's journey, run inside the booted test system (kvm-in-a-box installed
# by apt) by kib-e2e.service: kib setup on a host that has foreign users, sshd settings and
# firewall rules; a VM declared with kib runs as a systemd user service of its own user,
# sandboxed, shows its ready line on `kib console` and gets its address by DHCP; its owner
# logs in over SSH to see it running and to power it off through ACPI; kib remove takes
# the VM's user, unit and configuration away and leaves every foreign line; kib teardown
# gives back the shared files as they were before kib setup, byte for byte; apt-get purge
# removes the package and leaves what README says it leaves.
# Each step appends one line to out/results (`ok|FAIL MILLISECONDS NAME`, `note ...` lines
# after it, `time MILLISECONDS NAME` for a step of the journey, `figure TEXT`) and keeps its
# output in out/NN-NAME.log; the first failure ends the run.
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
key=$base/owner-key
# Copies of the shared files: as the package left them (before kib setup), the same with
# only the foreign lines, right after kib setup.
installed=$out/installed
foreign=$out/foreign
setup=$out/after-setup
shared=(/etc/passwd /etc/group /etc/shadow /etc/gshadow /etc/ssh/sshd_config /etc/iptables/rules.v4)
count=0

# One line of the results, as soon as it is known (the outer script follows the file).
report() {
  printf '%s\n' "$*" >> "$results"
}

# A remark under the current step, printed by the outer script after the step's line.
note() {
  printf 'note %s\n' "$*" >> "$out/notes"
}

# Runs a step function with its output in its own log; records its result and time.
# `step -j NAME ...` is a step of the journey: its time is one of the figures.
step() {
  local journey=no name log start end status ms
  [ "$1" = -j ] && { journey=yes; shift; }
  name=$1
  shift
  count=$((count + 1))
  log=$(printf '%s/%02d-%s.log' "$out" "$count" "$(echo "$name" | tr -c 'a-zA-Z0-9\n' '-')")
  : > "$out/notes"
  start=$(date +%s%N)
  if "$@" > "$log" 2>&1; then status=ok; else status=FAIL; fi
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  report "$status $ms $name"
  cat "$out/notes" >> "$results"
  if [ "$status" = FAIL ]; then
    report "log $log"
    diagnose
    exit 1
  fi
  [ "$journey" = no ] || report "time $ms $name"
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

# Whether a child process has ended (gone, or a zombie not yet waited for).
ended() {
  local state
  state=$(sed 's/.*) //' "/proc/$1/stat" 2> /dev/null | cut -d' ' -f1)
  [ -z "$state" ] || [ "$state" = Z ]
}

unit_prop() {
  as_user systemctl --user show -P "$1" "$unit"
}

# The live IPv4 rules without counters and comments (iptables-save's header and footer
# carry times), and without tables that hold nothing: a table once used stays listed,
# empty with accepting built-in chains, when its last rule goes (the same filtering).
live_rules() {
  iptables-save | grep -v '^#' | sed 's/ \[[0-9]*:[0-9]*\]$//' | awk '
    /^\*/ { table = $0; body = ""; empty = 1; next }
    /^COMMIT$/ { if (!empty) printf "%s\n%s%s\n", table, body, $0; next }
    { body = body $0 "\n"; if ($0 !~ /^:[A-Z]+ ACCEPT$/) empty = 0 }'
}

# Copies the shared files and the live rules into DIR.
snapshot() {
  local dir=$1 f
  mkdir -p "$dir"
  for f in "${shared[@]}"; do cp "$f" "$dir/${f##*/}" || return 1; done
  live_rules > "$dir/live.v4" || return 1
}

# Whether every line of FILE is in OTHER, in the same order (OTHER may have more lines
# anywhere); names the first line that is missing or out of order.
lines_kept() {
  awk '
    FILENAME == ARGV[1] { line[++n] = $0; next }
    {
      while (i < n && line[i + 1] != $0) i++
      if (i == n) { printf "%s: line %d missing or out of order: %s\n", FILENAME, FNR, $0; bad = 1; exit }
      i++
    }
    END { exit bad }
  ' "$2" "$1"
}

# The shared files and live rules of DIR: each line still there, in order; with `same`,
# the files are exactly as in DIR.
compare_with() {
  local dir=$1 how=$2 now bad=0 f
  now=$(mktemp -d)
  snapshot "$now" || return 1
  for f in "$dir"/*; do
    lines_kept "$f" "$now/${f##*/}" || bad=1
    if [ "$how" = same ] && ! cmp -s "$f" "$now/${f##*/}"; then
      echo "${f##*/} differs from $dir:"
      diff -u "$f" "$now/${f##*/}"
      bad=1
    fi
  done
  rm -rf "$now"
  return $bad
}

# systemd runs as PID 1 and the boot has finished (degraded is fine: a container lacks
# things); the package enabled kib's dnsmasq, and sshd is up.
boot_finished() {
  local state
  state=$(systemctl is-system-running --wait)
  echo "system: $state"
  systemctl --failed --no-legend --plain --no-pager
  note "$(systemctl --version | head -n 1), system $state; kib $(dpkg-query -W -f '${Version}' kvm-in-a-box)"
  [ "$state" = running ] || [ "$state" = degraded ] || return 1
  [ "$(systemctl is-enabled kib-dnsmasq.service)" = enabled ] || { echo "kib-dnsmasq.service is not enabled"; return 1; }
  systemctl is-active ssh.service || return 1
}

# What differs from a host in systemd-nspawn: a fifo over /proc/kmsg where a host has the
# kernel's file, which ProtectKernelLogs= masks (a fifo there fails the unit); and
# /dev/net/tun 0600 where Debian's udev makes it 0666.
like_a_host() {
  if [ -p /proc/kmsg ]; then umount /proc/kmsg || return 1; fi
  chmod 0666 /dev/net/tun || return 1
  ls -l /proc/kmsg /dev/net/tun
}

# What the host had before kib: a user (and a kib-* user kib did not create), a line of
# its own in sshd_config, its own firewall chain and rules in the rules file and live.
foreign_entries() {
  useradd --create-home --shell /bin/bash alice || return 1
  useradd --system --no-create-home --shell /usr/sbin/nologin kib-legacy || return 1
  printf '\n# the admins'\'' own setting\nClientAliveInterval 120\n' >> /etc/ssh/sshd_config
  sshd -t || return 1
  mkdir -p /etc/iptables
  cat > /etc/iptables/rules.v4 <<'RULES'
# the host's own rules
*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:LOCAL-IN - [0:0]
-A INPUT -j LOCAL-IN
-A LOCAL-IN -s 192.0.2.7/32 -p tcp -m tcp --dport 2222 -j ACCEPT
COMMIT
RULES
  iptables-restore < /etc/iptables/rules.v4 || return 1
  snapshot "$foreign" || return 1
  cp -r "$foreign" "$installed" || return 1
  # The groups kib and kib-admin are the package's (its postinst made them), not foreign.
  sed -i '/^kib\(-admin\)\{0,1\}:/d' "$foreign/group" "$foreign/gshadow"
  cat "$foreign/live.v4"
  note "foreign: users alice and kib-legacy, ClientAliveInterval in sshd_config, chain LOCAL-IN in rules.v4 and live"
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

# kib setup, on the host with foreign entries; kib's dnsmasq starts once it is configured.
kib_setup() {
  kib setup || return 1
  wait_for 10 systemctl is-active --quiet kib-dnsmasq.service || { systemctl status kib-dnsmasq.service --no-pager; return 1; }
  compare_with "$foreign" kept || return 1
  snapshot "$setup"
}

# The owner's key pair; the VM with the test guest, an image disk, public and user NICs.
kib_create() {
  rm -f "$key" "$key.pub"
  ssh-keygen -q -t ed25519 -N '' -C owner@e2e -f "$key" || return 1
  kib create "$vm" --public --ssh-key "$(cat "$key.pub")" --accel tcg --mem 256 --user --storage image --disk-size 64M \
    --kernel "$base/vmlinuz" --initrd "$base/initrd.gz" --append 'console=ttyS0 quiet panic=-1' || return 1
  uid=$(id -u "$user") || return 1
  ipv4=$(kib info "$vm" --json | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).ipv4)') || return 1
  echo "uid $uid, IPv4 $ipv4"
  kib info "$vm"
  getent passwd "$user"
  [ "$(getent passwd "$user" | cut -d: -f7)" = /usr/sbin/kib-console ] || { echo "$user's shell is not /usr/sbin/kib-console"; return 1; }
}

# The rendered units pass systemd's own checks, as the VM user sees them (no man-db in
# the test system: Documentation= is not looked up).
verify_units() {
  local ok=0 dir
  as_user systemd-analyze --user verify --man=no "$unit" || ok=1
  # The installer unit is a template: verify one instance of it.
  dir=$(mktemp -d)
  chmod 755 "$dir"
  cp "/etc/systemd/user/kib-$vm-install@.service" "$dir/kib-$vm-install@auto.service"
  chown -R "$user" "$dir"
  as_user systemd-analyze --user verify --man=no "$dir/kib-$vm-install@auto.service" || ok=1
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

# `kib console web`, started before the VM so that it catches the boot (it waits for the
# socket): its output is the serial console's. Its input is a fifo held open, since the
# end of its input would end it.
follow_console() {
  rm -f "$out/console.in"
  mkfifo "$out/console.in"
  sleep 600 > "$out/console.in" &
  hold_pid=$!
  kib console "$vm" --wait 30 < "$out/console.in" > "$out/serial.log" 2> "$out/console.err" &
  console_pid=$!
}

start_vm() {
  follow_console
  kib start "$vm"
}

# The unit is active in the VM user's own manager, and its main process is the supervisor,
# running as the VM user in the unit's cgroup under user@UID.service.
unit_runs() {
  local pid cgroup
  wait_for 10 test "$(unit_prop ActiveState)" = active || { unit_prop ActiveState; return 1; }
  pid=$(unit_prop MainPID)
  echo "main pid $pid: $(tr '\0' ' ' < "/proc/$pid/cmdline")"
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q 'kib-supervise' || return 1
  grep '^Uid:' "/proc/$pid/status"
  [ "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" = "$uid" ] || return 1
  cgroup=$(cut -d: -f3- "/proc/$pid/cgroup")
  echo "cgroup $cgroup"
  case $cgroup in */user@"$uid".service/*/"$unit") ;; *) echo "not in $unit under user@$uid.service"; return 1 ;; esac
  note "$unit: main PID $pid (kib-supervise), uid $uid, cgroup $cgroup"
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

# The guest booted (its ready line on `kib console`), and its public NIC got by DHCP
# (kib's dnsmasq, through the tap) the address kib allocated to it.
guest_ready() {
  wait_for 90 grep -q KIB-GUEST-READY "$out/serial.log" || { cat "$out/serial.log" "$out/console.err"; return 1; }
  cat "$out/serial.log" "$out/console.err"
  grep -qx "KIB-GUEST-IP $ipv4" <(tr -d '\r' < "$out/serial.log") || { echo "the guest did not get $ipv4"; return 1; }
  ! ended "$console_pid" || { echo "kib console has ended: $(cat "$out/console.err")"; return 1; }
  note "KIB-GUEST-READY on kib console; the guest got $ipv4 by DHCP on its public NIC"
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

# systemd's own view of the sandbox, as the VM user's manager applies it.
security() {
  local score
  as_user systemd-analyze --user security --no-pager "$unit" > "$out/security.log" 2>&1 || true
  cat "$out/security.log"
  grep -q 'Overall exposure level' "$out/security.log" || return 1
  score=$(grep 'Overall exposure level' "$out/security.log" | sed -e 's/\x1b\[[0-9;]*m//g' -e 's/^[^O]*//')
  note "$score"
  report "figure systemd-analyze --user security $unit: ${score#*: }"
}

# The owner's SSH login: the console (kib-web's login shell) runs one command.
owner_ssh() {
  ssh -i "$key" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes \
    -o ConnectTimeout=10 "$user@localhost" "$@"
}

ssh_status() {
  owner_ssh status > "$out/ssh-status.log" || { cat "$out/ssh-status.log"; return 1; }
  cat "$out/ssh-status.log"
  grep -qx "VM $vm is running" "$out/ssh-status.log" || return 1
  note "ssh $user@localhost status: $(head -n 1 "$out/ssh-status.log"); $(grep -m1 '^state:' "$out/ssh-status.log" | tr -s ' ')"
}

# The owner's stop: the unit's stop, the supervisor's ACPI power-off, waited for; the
# console ends with the VM.
ssh_stop() {
  owner_ssh stop > "$out/ssh-stop.log" || { cat "$out/ssh-stop.log"; return 1; }
  cat "$out/ssh-stop.log"
  wait_for 10 test "$(unit_prop ActiveState)" = inactive || return 1
  echo "ActiveState=$(unit_prop ActiveState) Result=$(unit_prop Result) ExecMainStatus=$(unit_prop ExecMainStatus)"
  [ "$(unit_prop Result)" = success ] || return 1
  wait_for 10 ended "$console_pid" || { echo "kib console is still attached"; return 1; }
  wait "$console_pid" || { echo "kib console failed: $(cat "$out/console.err")"; return 1; }
  kill "$hold_pid" 2> /dev/null
  note "ssh $user@localhost stop: $(head -n 1 "$out/ssh-stop.log"); unit inactive (Result=success); kib console ended"
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

# kib remove: the VM's user, keys, units, linger file, sshd block and network entries are
# gone, its user manager stopped; its disk stays.
kib_remove() {
  local bad=0 f
  kib remove "$vm" || return 1
  ! id "$user" 2> /dev/null || { echo "user $user is still there"; bad=1; }
  for f in /etc/passwd /etc/group /etc/shadow /etc/gshadow /etc/ssh/sshd_config /etc/dnsmasq.kib.hosts /etc/udev/rules.d/60-kib.rules; do
    [ ! -e "$f" ] || ! grep -n "$user" "$f" || { echo "$f still names $user"; bad=1; }
  done
  for f in "/etc/ssh/authorized_keys/$user" "/etc/systemd/user/$unit" "/etc/systemd/user/kib-$vm-install@.service" "/var/lib/systemd/linger/$user"; do
    [ ! -e "$f" ] || { echo "$f is still there"; bad=1; }
  done
  wait_for 10 sh -c "! systemctl is-active --quiet user@$uid.service" || { echo "user@$uid.service still runs"; bad=1; }
  ! ip link show "kpu-$vm" 2> /dev/null || { echo "tap kpu-$vm is still there"; bad=1; }
  [ -z "$(kib list)" ] || { echo "kib list: $(kib list)"; bad=1; }
  ls -l /var/lib/kib/disks
  [ -n "$(ls /var/lib/kib/disks)" ] || { echo "the VM's disk is gone"; bad=1; }
  return $bad
}

# Every foreign line of passwd, group, shadow, sshd_config and the rules (file and live)
# is still there, in its order; the files are as kib setup left them.
foreign_kept() {
  compare_with "$foreign" kept || return 1
  compare_with "$setup" same || return 1
  note "passwd, group, shadow, gshadow, sshd_config, rules.v4 and the live rules: as after kib setup, every foreign line in place"
}

# kib teardown: the shared files are byte for byte as before kib setup (the package's
# groups kib and kib-admin stay: its purge removes them), kib's own files, bridge and
# chains are gone, kib's dnsmasq is stopped; the VM's kept disk stays, and is named.
kib_teardown() {
  local bad=0 f
  kib teardown | tee "$out/teardown.log"
  [ "${PIPESTATUS[0]}" = 0 ] || return 1
  compare_with "$installed" same || bad=1
  # rules.v6: the host had none; kib setup made it, and teardown takes it away.
  for f in /etc/iptables/rules.v6 /etc/dnsmasq.d/kib /etc/dnsmasq.kib.hosts /etc/sysctl.d/50-kib.conf \
    /etc/network/interfaces.d/kpu /etc/network/interfaces.d/kpr /var/lib/kib/state.json; do
    [ ! -e "$f" ] || { echo "$f is still there"; bad=1; }
  done
  ! ip link show kpu 2> /dev/null || { echo "bridge kpu is still there"; bad=1; }
  ! iptables-save | grep -q KIB_ || { echo "kib's chains are still live"; bad=1; }
  wait_for 10 sh -c '! systemctl is-active --quiet kib-dnsmasq.service' || { echo "kib-dnsmasq.service still runs"; bad=1; }
  grep -q '^kept /var/lib/kib/disks/' "$out/teardown.log" || { echo "teardown did not name the kept disk directory"; bad=1; }
  [ -n "$(ls /var/lib/kib/disks 2> /dev/null)" ] || { echo "the VM's kept disk is gone"; bad=1; }
  ! kib teardown 2> /dev/null || { echo "a second teardown succeeded"; bad=1; }
  note "passwd, group, shadow, gshadow, sshd_config, rules.v4 byte for byte as before kib setup; rules.v6 and kib's files gone"
  return $bad
}

# apt-get purge: what the package created goes; the VM's kept disk stays (README,
# "Installing the Debian package").
purge() {
  local bad=0 f
  [ -e /var/lib/misc/kib-dnsmasq.leases ] || { echo "no kib-dnsmasq leases before the purge"; return 1; }
  DEBIAN_FRONTEND=noninteractive apt-get purge -y kvm-in-a-box 2>&1 | tee "$out/purge.log"
  [ "${PIPESTATUS[0]}" = 0 ] || return 1
  ! dpkg-query -W -f '${Status}\n' kvm-in-a-box 2> /dev/null | grep -q 'installed' || { echo "kvm-in-a-box is still installed"; bad=1; }
  for f in /usr/sbin/kib /usr/sbin/kib-supervise /usr/sbin/kib-console /usr/sbin/kib-install /usr/share/kvm-in-a-box \
    /etc/sudoers.d/kvm-in-a-box /usr/lib/systemd/system/kib-dnsmasq.service \
    /etc/systemd/system/multi-user.target.wants/kib-dnsmasq.service /var/lib/misc/kib-dnsmasq.leases; do
    [ ! -e "$f" ] && [ ! -L "$f" ] || { echo "$f is still there"; bad=1; }
  done
  for g in kib kib-admin; do
    ! getent group "$g" || { echo "group $g is still there"; bad=1; }
  done
  ! systemctl is-active --quiet kib-dnsmasq.service || { echo "kib-dnsmasq.service still runs"; bad=1; }
  # Kept: the VM's data and the administrator's configuration file.
  [ -n "$(ls /var/lib/kib/disks 2> /dev/null)" ] || { echo "the VM's kept disk is gone"; bad=1; }
  grep -q '/var/lib/kib still holds VMs or their disks' "$out/purge.log" || { echo "the purge did not say why /var/lib/kib stays"; bad=1; }
  [ -e /etc/kvm-in-a-box.cfg ] || { echo "/etc/kvm-in-a-box.cfg is gone"; bad=1; }
  # The host's own configuration is untouched, and sshd still takes it.
  compare_with "$foreign" kept || bad=1
  sshd -t || { echo "sshd -t fails after the purge"; bad=1; }
  systemctl is-active --quiet ssh.service || { echo "ssh.service is down"; bad=1; }
  note "purged: program, sudoers, kib-dnsmasq unit and leases, groups kib and kib-admin; kept: /var/lib/kib (the VM's disk)"
  return $bad
}

step 'boot finished' boot_finished
step '/proc/kmsg and /dev/net/tun as on a host' like_a_host
step 'foreign users, sshd_config line, iptables rules (file and live)' foreign_entries
step 'write /etc/kvm-in-a-box.cfg' write_config
step -j 'kib setup' kib_setup
step -j "kib create $vm --public --ssh-key KEY --accel tcg" kib_create
step "the VM user's systemd instance runs" user_manager
step 'units pass systemd-analyze verify' verify_units
step -j "kib start $vm" start_vm
step -j "unit active under $user's user manager, main process kib-supervise as $user" unit_runs
step "qemu as $user: seccomp, own namespaces, private /dev, its tap" qemu_sandboxed
step -j "guest ready on kib console $vm, with its IPv4 by DHCP" guest_ready
step 'memory limit' memory_limit
step 'systemd-analyze --user security' security
step -j "ssh $user@localhost status: running" ssh_status
step -j "ssh $user@localhost stop: unit inactive, not failed" ssh_stop
step 'guest powered off through ACPI' powered_off
step -j "kib remove $vm: user, unit and configuration gone" kib_remove
step 'foreign lines of passwd, group, sshd_config, iptables kept' foreign_kept
step -j 'kib teardown: shared files as before kib setup' kib_teardown
step -j 'apt-get purge kvm-in-a-box' purge
report done
