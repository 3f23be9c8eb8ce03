#!/usr/bin/env bash
# Builds the tiny test guest: Debian's cloud kernel and a busybox initramfs whose /init
# loads the virtio modules, asks DHCP for an address on eth0 if there is one and prints
# `KIB-GUEST-IP ADDRESS` (or `KIB-GUEST-NOIP`), prints a ready line and its disks on the
# serial console, and then, by the kernel command line: fetches url=tftp://HOST/FILE,
# prints it and powers off (a stand-in for the Debian installer), powers off (kibguest=once),
# reboots (kibguest=reboot), ignores the power button (kibguest=deaf), or else powers off
# on the power button.
# Output: DIR/vmlinuz and DIR/initrd.gz, cached: a second run does nothing.
set -euo pipefail
dir=${1:?usage: build.sh CACHE_DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
# The stamp names this script's version: a changed /init rebuilds the cache.
stamp=$(sha256sum "$0" | cut -c1-16)
[ -s "$dir/vmlinuz" ] && [ -s "$dir/initrd.gz" ] && [ "$(cat "$dir/stamp" 2>/dev/null)" = "$stamp" ] && exit 0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
kernel=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-/ {print $2; exit}')
[ -n "$kernel" ] || { echo "no cloud kernel package found (apt-get update?)" >&2; exit 1; }
apt-get download -q "$kernel" busybox-static >/dev/null
dpkg -x "$kernel"_*.deb kernel
dpkg -x busybox-static_*.deb busybox

root=$work/initramfs
mkdir -p "$root"/{bin,dev,etc,proc,run,sys,lib/modules}
cp busybox/bin/busybox "$root/bin/busybox"
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk failover net_failover virtio_net button evdev; do
  f=$(find kernel/lib/modules -name "$m.ko*" | head -n 1)
  [ -n "$f" ] || { echo "module $m not found" >&2; exit 1; }
  case "$f" in
    *.xz) xz -dc "$f" > "$root/lib/modules/$m.ko" ;;
    *.zst) zstd -qdc "$f" > "$root/lib/modules/$m.ko" ;;
    *) cp "$f" "$root/lib/modules/$m.ko" ;;
  esac
done
cat > "$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk failover net_failover virtio_net button evdev; do
  insmod /lib/modules/$m.ko 2>/dev/null
done
mode=button
case " $(cat /proc/cmdline) " in
  *" kibguest=once "*) mode=once ;;
  *" kibguest=reboot "*) mode=reboot ;;
  *" kibguest=deaf "*) mode=deaf ;;
esac
if [ "$mode" = button ]; then
  # Armed before the ready line: the first input event (the power button) powers off.
  sleep 0.2
  for e in /dev/input/event*; do (head -c 1 "$e" > /dev/null && echo KIB-GUEST-POWEROFF && poweroff -f) & done
fi
# DHCP only when there is a NIC, bounded (4 discovers 1 s apart, 10 s in all), and before
# the ready line so that whoever waits for that line has the address too.
if [ -e /sys/class/net/eth0 ]; then
  ip link set lo up
  ip link set eth0 up
  timeout 10 udhcpc -f -q -n -t 4 -T 1 -i eth0 -s /etc/udhcpc.sh > /dev/null 2>&1
  addr=$(ip -4 addr show dev eth0 | sed -n 's/.* inet \([0-9.]*\).*/\1/p' | head -n 1)
  if [ -n "$addr" ]; then echo "KIB-GUEST-IP $addr"; else echo KIB-GUEST-NOIP; fi
fi
echo KIB-GUEST-READY
for d in /sys/block/vd*; do [ -e "$d" ] && echo "KIB-DISK $(basename "$d") $(cat "$d/size")"; done
# A stand-in for the Debian installer: given url=tftp://HOST/FILE, it fetches FILE over
# TFTP, prints it between markers and powers off.
url=
for word in $(cat /proc/cmdline); do
  case "$word" in url=tftp://*/*) url=${word#url=tftp://} ;; esac
done
if [ -n "$url" ]; then
  # Only what is printed here on the console, and time for it to get out before power-off.
  dmesg -n 1
  fetched=
  for try in 1 2 3; do
    timeout 20 tftp -g -r "${url#*/}" -l /run/preseed.cfg "${url%%/*}" 2>/dev/null && fetched=yes && break
    echo "KIB-PRESEED-RETRY $try"
  done
  if [ -n "$fetched" ]; then
    echo KIB-PRESEED-BEGIN
    cat /run/preseed.cfg
    echo KIB-PRESEED-END
  else
    echo KIB-PRESEED-FAILED
  fi
  sleep 1
  poweroff -f
fi
case "$mode" in
  once) poweroff -f ;;
  reboot) sleep 1; reboot -f ;;
esac
while true; do sleep 3600; done
INIT
chmod +x "$root/init"
# udhcpc's hook: puts the leased address and default route on the interface with ip.
cat > "$root/etc/udhcpc.sh" <<'HOOK'
#!/bin/sh
case "$1" in
  deconfig) ip -4 addr flush dev "$interface" ;;
  bound|renew)
    ip -4 addr flush dev "$interface"
    ip addr add "$ip/${mask:-24}" dev "$interface"
    [ -z "$router" ] || ip route replace default via "${router%% *}" dev "$interface"
    ;;
esac
exit 0
HOOK
chmod +x "$root/etc/udhcpc.sh"
(cd "$root" && find . | cpio -o -H newc --quiet | gzip -9) > "$dir/initrd.gz.new"
cp kernel/boot/vmlinuz-* "$dir/vmlinuz.new"
mv "$dir/initrd.gz.new" "$dir/initrd.gz"
mv "$dir/vmlinuz.new" "$dir/vmlinuz"
echo "$stamp" > "$dir/stamp"
