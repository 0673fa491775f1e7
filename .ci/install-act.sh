#!/usr/bin/env bash
# Installs the GitHub Actions tooling the action's tests drive: nektos/act
# (host-mode runner) and actionlint, both built from the Go module proxy
# into a cache dir so that repeated CI runs reuse them (act takes ~1m40s to
# build on 2 cores, then nothing). Idempotent; source it from .ci/run so the
# exported variables reach `go test`, or run it to just install.
#
#   MODELGATE_TOOLS  cache dir (default: ~/.cache/modelgate-tools)
#   MODELGATE_ACT, MODELGATE_ACTIONLINT  exported: the binaries' paths
ACT_VERSION=v0.2.89
ACTIONLINT_VERSION=v1.7.7
_mg_tools="${MODELGATE_TOOLS:-${HOME}/.cache/modelgate-tools}"
_mg_install() { # name version module-path
  local bin="$_mg_tools/$1-$2/$1"
  if [ ! -x "$bin" ]; then
    echo "install-act: building $1 $2 (cached in $_mg_tools)" >&2
    GOBIN="$_mg_tools/$1-$2" go install "$3@$2" >&2 || return 1
  fi
  echo "$bin"
}
MODELGATE_ACT="$(_mg_install act "$ACT_VERSION" github.com/nektos/act)" || { echo "install-act: act failed" >&2; return 1 2>/dev/null || exit 1; }
MODELGATE_ACTIONLINT="$(_mg_install actionlint "$ACTIONLINT_VERSION" github.com/rhysd/actionlint/cmd/actionlint)" || { echo "install-act: actionlint failed" >&2; return 1 2>/dev/null || exit 1; }
export MODELGATE_ACT MODELGATE_ACTIONLINT
unset -f _mg_install; unset _mg_tools
