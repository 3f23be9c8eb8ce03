#!/usr/bin/env sh
# Installs the built program (dist/, from `npm run build`) under DESTDIR the way the
# Debian package lays it out:
#   /usr/share/kvm-in-a-box/   every file of dist/: kib.cjs (the launcher), kib-main.cjs
#                              and its V8 code cache, kib-supervise.cjs and the other programs
#   /usr/sbin/NAME             for each program dist/NAME.cjs (kib.cjs: kib), a small
#                              wrapper that runs it with /usr/bin/node
# The launcher finds the bundle and its cache beside itself (its __dirname), so they stay
# together; kib-main.cjs is the launcher's bundle, not a program of its own.
# Usage: scripts/install.sh DESTDIR (DESTDIR may be /).
set -eu
dest=${1:?usage: scripts/install.sh DESTDIR}
repo=$(cd "$(dirname "$0")/.." && pwd)
dist=$repo/dist
share=/usr/share/kvm-in-a-box

for f in kib.cjs kib-main.cjs kib-supervise.cjs; do
  [ -f "$dist/$f" ] || { echo "install.sh: $dist/$f is missing (npm run build)" >&2; exit 1; }
done

install -d -m 0755 "$dest$share" "$dest/usr/sbin"
# A file left from an older build (a cache the new one lacks) must not outlive it.
for f in "$dest$share"/*; do
  [ -e "$f" ] && [ ! -e "$dist/${f##*/}" ] && rm -f "$f"
done
for f in "$dist"/*; do
  case $f in
    *.cjs) mode=0755 ;;
    *) mode=0644 ;;
  esac
  [ "${f##*/}" = kib-main.cjs ] && mode=0644
  install -m "$mode" "$f" "$dest$share/${f##*/}"
done

# One wrapper per program: node by its absolute path, so neither PATH nor env decide it.
wrapper() {
  printf '#!/bin/sh\nexec /usr/bin/node %s/%s "$@"\n' "$share" "$2" > "$dest/usr/sbin/$1.new"
  chmod 0755 "$dest/usr/sbin/$1.new"
  mv "$dest/usr/sbin/$1.new" "$dest/usr/sbin/$1"
}
for f in "$dist"/*.cjs; do
  name=${f##*/}
  name=${name%.cjs}
  case $name in
    *-main) ;;
    *) wrapper "$name" "$name.cjs" ;;
  esac
done
