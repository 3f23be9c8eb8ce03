#!/usr/bin/env bash
# Builds the Debian 13 (trixie) root file system the end-to-end test boots with
# systemd-nspawn: systemd, and everything the kvm-in-a-box package depends on (the Depends
# of debian/control, installed by apt), so that installing the package there has nothing
# left to fetch; nothing of kib itself.
# Output: DIR/rootfs, cached: a second run does nothing until this script or the package's
# Depends change. The cache is never booted; run.sh installs the package into a copy and
# boots that.
set -euo pipefail
dir=${1:?usage: rootfs.sh CACHE_DIR}
control=$(cd "$(dirname "$0")/../.." && pwd)/debian/control
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)

# The binary package's Depends as one apt dependency list: comment lines skipped,
# substitution variables (${misc:Depends}) dropped; versions and alternatives kept.
depends() {
  awk '
    /^Package:/ {pkg = 1}
    pkg && /^Depends:/ {on = 1; sub(/^Depends:/, ""); print; next}
    on && /^#/ {next}
    on && /^[ \t]/ {print; next}
    {on = 0}
  ' "$control" | tr '\n' ' ' \
    | sed -e 's/\${[^}]*}[[:space:]]*,\{0,1\}//g' -e 's/[[:space:]]\{1,\}/ /g' -e 's/^ //' -e 's/[ ,]*$//'
}
deps=$(depends)
[ -n "$deps" ] || { echo "rootfs.sh: no Depends in $control" >&2; exit 1; }

# The stamp names this script's version and the package's Depends: a change to either
# rebuilds the cache.
stamp=$( (cat "$0"; echo "$deps") | sha256sum | cut -c1-16)
[ -x "$dir/rootfs/usr/bin/node" ] && [ "$(cat "$dir/stamp" 2>/dev/null)" = "$stamp" ] && exit 0

# What the booted system needs besides the package's Depends: systemd as PID 1 with
# logind and D-Bus for the user managers.
base=(systemd systemd-sysv dbus libpam-systemd)

# The mirror this host's apt uses (deb822 or one-line sources), Debian's own otherwise.
mirror() {
  local uri
  uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list 2>/dev/null || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

command -v debootstrap >/dev/null || { echo "debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
command -v systemd-nspawn >/dev/null || { echo "systemd-nspawn is missing (apt-get install systemd-container)" >&2; exit 1; }
work="$dir/rootfs.new"
log=$dir/rootfs.log
rm -rf "$work"
trap 'rm -rf "$work"' EXIT
echo "debootstrap trixie $(mirror) with: ${base[*]}"
debootstrap --variant=minbase --include="$(IFS=,; echo "${base[*]}")" trixie "$work" "$(mirror)" > "$log" 2>&1 \
  || { tail -n 30 "$log" >&2; exit 1; }

# The package's Depends, resolved by apt as `apt-get install ./kvm-in-a-box_*.deb` would
# (without Recommends, which that install would not add for packages already there).
# iptables-persistent would save the live rules at install, and apt runs on the host's
# network here: it is told not to.
echo "apt-get satisfy: $deps"
systemd-nspawn -q -D "$work" --register=no --keep-unit --setenv=DEBIAN_FRONTEND=noninteractive \
  sh -euc '
    apt-get update -q
    printf "%s\n" "iptables-persistent iptables-persistent/autosave_v4 boolean false" \
      "iptables-persistent iptables-persistent/autosave_v6 boolean false" | debconf-set-selections
    apt-get satisfy -y -q --no-install-recommends "$1"
    apt-get clean
  ' _ "$deps" >> "$log" 2>&1 \
  || { tail -n 30 "$log" >&2; exit 1; }

# A booted copy needs a name and no serial getty on the pipe console. The package lists
# stay: apt resolves the package's dependencies against them.
echo kib-e2e > "$work/etc/hostname"
ln -sf /dev/null "$work/etc/systemd/system/console-getty.service"

rm -rf "$dir/rootfs"
mv "$work" "$dir/rootfs"
echo "$stamp" > "$dir/stamp"
echo "rootfs: $(du -sm "$dir/rootfs" | cut -f1) MiB"
