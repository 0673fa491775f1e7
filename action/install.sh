#!/usr/bin/env bash
# Gets modelgate-full, the build of modelgate with every feature (the
# action's policy may name detector plugins or require model signatures),
# for one action run and writes its path to GITHUB_OUTPUT as bin=PATH. Two ways, chosen by MODELGATE_VERSION (the
# action's version input):
#
#   ""       build from the action's own source (GITHUB_ACTION_PATH, i.e. the
#            ref the workflow pinned) with the runner's Go. A Go older than
#            go.mod asks for fetches the required toolchain from the module
#            proxy itself (GOTOOLCHAIN=auto); no Go at all is an error.
#   vX.Y.Z   download that release's archive for this OS and architecture
#            and check it against the release's checksums.txt before use.
#
# Either way the binary is cached under RUNNER_TOOL_CACHE by version (or
# source digest), OS and architecture, so a later run on the same runner
# only checks the cache.
set -euo pipefail

die() { echo "::error title=modelgate install::$*"; exit 2; }

case "${RUNNER_OS:-$(uname -s)}" in
  Linux) os=linux ;; macOS|Darwin) os=darwin ;; Windows|MINGW*|MSYS*) os=windows ;;
  *) die "unsupported runner OS ${RUNNER_OS:-$(uname -s)}" ;;
esac
case "${RUNNER_ARCH:-$(uname -m)}" in
  X64|x86_64|amd64) arch=amd64 ;; ARM64|arm64|aarch64) arch=arm64 ;;
  *) die "unsupported runner architecture ${RUNNER_ARCH:-$(uname -m)}" ;;
esac
exe=modelgate-full; [ "$os" = windows ] && exe=modelgate-full.exe
cache="${RUNNER_TOOL_CACHE:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}}/modelgate"
src="${GITHUB_ACTION_PATH:-$(cd "$(dirname "$0")/.." && pwd)}"
version="${MODELGATE_VERSION:-}"

sha256() { if command -v sha256sum >/dev/null; then sha256sum "$1"; else shasum -a 256 "$1"; fi | cut -d' ' -f1; }

emit() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "bin=$1" >>"$GITHUB_OUTPUT"; else echo "$1"; fi
}

if [ -n "$version" ] && [ "$version" != source ]; then
  case "$version" in v[0-9]*.[0-9]*.[0-9]*) ;; *) die "input version: want a release tag such as v1.2.3 (or empty to build from source), got '$version'" ;; esac
  dir="$cache/$version/$os-$arch"
  if [ ! -x "$dir/$exe" ]; then
    repo="${GITHUB_ACTION_REPOSITORY:-modelgate/modelgate}"
    base="${GITHUB_SERVER_URL:-https://github.com}/$repo/releases/download/$version"
    ext=tar.gz; [ "$os" = windows ] && ext=zip
    archive="modelgate_${version#v}_${os}_${arch}.$ext"
    tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
    curl -fsSL --retry 3 -o "$tmp/checksums.txt" "$base/checksums.txt" || die "download $base/checksums.txt failed"
    curl -fsSL --retry 3 -o "$tmp/$archive" "$base/$archive" || die "download $base/$archive failed"
    want="$(awk -v f="$archive" '$2 == f || $2 == "*" f { print $1 }' "$tmp/checksums.txt")"
    [ -n "$want" ] || die "checksums.txt of $version does not list $archive"
    got="$(sha256 "$tmp/$archive")"
    [ "$got" = "$want" ] || die "checksum mismatch for $archive: checksums.txt says $want, the download is $got; not running it"
    mkdir -p "$tmp/x"
    if [ "$ext" = zip ]; then unzip -q "$tmp/$archive" -d "$tmp/x"; else tar -xzf "$tmp/$archive" -C "$tmp/x"; fi
    [ -f "$tmp/x/$exe" ] || die "$archive holds no $exe"
    mkdir -p "$dir"; chmod +x "$tmp/x/$exe"; mv -f "$tmp/x/$exe" "$dir/$exe"
    echo "modelgate $version: downloaded $archive, sha256 $got matches checksums.txt"
  fi
  emit "$dir/$exe"; exit 0
fi

command -v go >/dev/null || die "no Go on this runner to build modelgate from source: add actions/setup-go (pinned by SHA) before this step, or set the version input to a release tag"
need="$(sed -n 's/^go \([0-9][0-9.]*\).*/\1/p' "$src/go.mod")"
# GOTOOLCHAIN=auto lets an older Go (1.21+) fetch the toolchain go.mod
# names from the module proxy, checked against the checksum database.
export GOTOOLCHAIN="${GOTOOLCHAIN:-auto}"
have="$(cd "$src" && go env GOVERSION)" || die "the runner's Go cannot provide go $need (go.mod): add actions/setup-go with go-version-file: go.mod"
# The cache key is the source itself, so a moved tag or a local checkout
# (uses: ./) never reuses a stale binary.
key="$(cd "$src" && { cat go.mod go.sum; find action cmd core hooks internal -type f ! -name '*_test.go' ! -path '*/testdata/*' -print0 | LC_ALL=C sort -z | xargs -0 cat; echo "$have"; } | { if command -v sha256sum >/dev/null; then sha256sum; else shasum -a 256; fi; } | cut -c1-16)"
dir="$cache/src-$key/$os-$arch"
if [ ! -x "$dir/$exe" ]; then
  label="${GITHUB_ACTION_REF:-source}"
  mkdir -p "$dir"
  (cd "$src" && CGO_ENABLED=0 go build -ldflags "-s -w -X github.com/modelgate/modelgate/internal/climain.Version=$label" -o "$dir/$exe.tmp" ./cmd/modelgate-full) \
    || die "go build of modelgate failed (Go $have, go.mod wants $need)"
  mv -f "$dir/$exe.tmp" "$dir/$exe"
  echo "modelgate: built from source with $have (go.mod: go $need), cached as $dir"
fi
emit "$dir/$exe"
