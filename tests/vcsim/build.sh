#!/usr/bin/env bash
# Build the vCenter simulator launcher for evckit's `vcsim` tests, offline, from Debian packages.
# Installs golang-go and golang-github-vmware-govmomi-dev when missing (apt-get; needs root),
# then builds tests/vcsim into .vcsim/vcsim at the repository root. Idempotent: a no-op when the
# binary is newer than its sources. Prints the binary's path on stdout.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/.vcsim"
bin="$out/vcsim"
govmomi=/usr/share/gocode/src/github.com/vmware/govmomi/simulator

if [[ -x "$bin" && "$bin" -nt "$here/main.go" && "$bin" -nt "$here/go.mod" && "$bin" -nt "$0" ]]; then
    echo "$bin"
    exit 0
fi

if ! command -v go >/dev/null 2>&1 || [[ ! -d "$govmomi" ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "build.sh: need golang-go and golang-github-vmware-govmomi-dev; run as root to install them" >&2
        exit 1
    fi
    echo "build.sh: installing golang-go golang-github-vmware-govmomi-dev" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        golang-go golang-github-vmware-govmomi-dev >&2
fi

mkdir -p "$out"
export GOCACHE="$out/go-build" GOPATH="$out/gopath" GOFLAGS=-mod=mod GOPROXY=off GOTOOLCHAIN=local \
    GO111MODULE=on CGO_ENABLED=0
cd "$here"
go build -o "$bin.tmp" . >&2
mv -f "$bin.tmp" "$bin"
echo "$bin"
