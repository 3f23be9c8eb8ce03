#!/usr/bin/env bash
# Builds the Debian 13 (trixie) root file system the end-to-end test boots with
# systemd-nspawn: systemd, nodejs, qemu and the tools kib calls, nothing of kib itself.
# Output: DIR/rootfs, cached: a second run does nothing until this script changes.
# The cache is never booted; run.sh boots a copy.
set -euo pipefail
dir=${1:?usage: rootfs.sh CACHE_DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# The stamp names this script's version: a changed package list rebuilds the cache.
stamp=$(sha256sum "$0" | cut -c1-16)
[ -x "$dir/rootfs/usr/bin/node" ] && [ "$(cat "$dir/stamp" 2>/dev/null)" = "$stamp" ] && exit 0

# What the booted system needs: systemd with logind for user managers, kib's runtime
# (nodejs, qemu, socat) and the tools kib validates and applies its files with.
packages=(
  systemd systemd-sysv dbus libpam-systemd sudo passwd procps util-linux
  nodejs qemu-system-x86 qemu-utils socat
  iproute2 iptables dnsmasq-base openssh-server
)

# The mirror this host's apt uses (deb822 or one-line sources), Debian's own otherwise.
mirror() {
  local uri
  uri=$(awk '/^URIs:/ && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '$1 == "deb" && $0 !~ /security/ {for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) {print $i; exit}}' /etc/apt/sources.list 2>/dev/null || true)
  echo "${uri:-http://deb.debian.org/debian}"
}

command -v debootstrap >/dev/null || { echo "debootstrap is missing (apt-get install debootstrap)" >&2; exit 1; }
work="$dir/rootfs.new"
rm -rf "$work"
trap 'rm -rf "$work"' EXIT
debootstrap --variant=minbase --include="$(IFS=,; echo "${packages[*]}")" trixie "$work" "$(mirror)" > "$dir/debootstrap.log" 2>&1 \
  || { tail -n 30 "$dir/debootstrap.log" >&2; exit 1; }

# A booted copy needs a name, no serial getty on the pipe console, and no downloads left.
echo kib-e2e > "$work/etc/hostname"
ln -sf /dev/null "$work/etc/systemd/system/console-getty.service"
rm -rf "$work"/var/cache/apt/archives/*.deb "$work"/var/lib/apt/lists/*

rm -rf "$dir/rootfs"
mv "$work" "$dir/rootfs"
echo "$stamp" > "$dir/stamp"
