#!/usr/bin/env bash
# Installs what the GitLab component's end-to-end tests (gitlab/e2e_test.go)
# need: gitlab-ci-local 4.73.0 from npm (the newest release that runs on
# Node 20; 4.74+ need Node 22) and rsync, which gitlab-ci-local requires
# and Debian's base image lacks. Idempotent: does nothing when both are
# already there.
set -euo pipefail
want=4.73.0
sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
if ! command -v rsync >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get install -y --no-install-recommends rsync || { $sudo apt-get update && $sudo apt-get install -y --no-install-recommends rsync; }
fi
have=$(gitlab-ci-local --version 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  $sudo npm install -g --no-audit --no-fund "gitlab-ci-local@$want"
fi
gitlab-ci-local --version
