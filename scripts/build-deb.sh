#!/usr/bin/env bash
# Builds the Debian package kvm-in-a-box into OUTDIR and prints its size.
#   scripts/build-deb.sh [--lintian] OUTDIR
# The build runs in a temporary copy of this tree (dpkg-buildpackage writes its results
# next to the source directory, and debian/ fills up with build files), so the checkout
# stays as it was. The copy holds the files git knows or would add (tracked ones, and new
# ones not ignored; without git: everything but build outputs), and a copy of node_modules:
# run `npm ci` first. Needs dpkg-dev, debhelper and the Build-Depends of debian/control.
# With --lintian, lintian checks the package; the script fails if it reports an error.
set -euo pipefail

usage() {
  echo "usage: scripts/build-deb.sh [--lintian] OUTDIR" >&2
  exit 2
}
lintian=no
out=
for arg in "$@"; do
  case "$arg" in
    --lintian) lintian=yes ;;
    -*) usage ;;
    *) [ -z "$out" ] || usage; out=$arg ;;
  esac
done
[ -n "$out" ] || usage

repo=$(cd "$(dirname "$0")/.." && pwd)
[ -d "$repo/node_modules" ] || { echo "build-deb: $repo/node_modules is missing: run npm ci first" >&2; exit 1; }
for tool in dpkg-buildpackage dh; do
  command -v "$tool" > /dev/null || { echo "build-deb: $tool is missing: apt-get install dpkg-dev debhelper" >&2; exit 1; }
done
mkdir -p "$out"
out=$(cd "$out" && pwd)

version=$(dpkg-parsechangelog -l "$repo/debian/changelog" -S Version)
package=$(dpkg-parsechangelog -l "$repo/debian/changelog" -S Source)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kib-deb.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
src=$tmp/$package-${version%-*}
mkdir "$src"

# The source files: what git tracks or would add; missing (deleted) ones are skipped.
if git -C "$repo" rev-parse --is-inside-work-tree > /dev/null 2>&1; then
  (cd "$repo" && git ls-files -z --cached --others --exclude-standard) \
    | tar -C "$repo" --null --ignore-failed-read -T - -cf - 2> /dev/null \
    | tar -C "$src" -xf -
else
  tar -C "$repo" --exclude=./node_modules --exclude=./dist --exclude=./.cache --exclude=./demo-root \
    --exclude=./debian/kvm-in-a-box --exclude=./debian/.debhelper --exclude=./debian/tmp -cf - . \
    | tar -C "$src" -xf -
fi
cp -a --reflink=auto "$repo/node_modules" "$src/node_modules"

echo "build-deb: building $package $version in $src"
log=$tmp/build.log
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) > "$log" 2>&1; then
  tail -n 40 "$log" >&2
  echo "build-deb: dpkg-buildpackage failed" >&2
  exit 1
fi

debs=("$tmp"/*.deb)
[ -e "${debs[0]}" ] || { echo "build-deb: dpkg-buildpackage made no .deb" >&2; exit 1; }
cp "${debs[@]}" "$tmp"/*.buildinfo "$tmp"/*.changes "$out/"
for deb in "${debs[@]}"; do
  file=$out/$(basename "$deb")
  bytes=$(stat -c %s "$file")
  installed=$(dpkg-deb -f "$file" Installed-Size)
  echo "build-deb: $file: $bytes bytes ($((bytes / 1024)) KiB), installed size $installed KiB"
done

if [ "$lintian" = yes ]; then
  command -v lintian > /dev/null || { echo "build-deb: lintian is missing: apt-get install lintian" >&2; exit 1; }
  status=0
  for deb in "${debs[@]}"; do
    lintian --display-info --fail-on error "$out/$(basename "$deb")" || status=$?
  done
  [ "$status" -eq 0 ] || { echo "build-deb: lintian reports errors" >&2; exit 1; }
  echo "build-deb: lintian reports no errors"
fi
