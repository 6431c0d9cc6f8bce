#!/usr/bin/env bash
# The page tests drive Debian's chromium through its chromedriver (no browser is downloaded at
# test time). Installs both from Debian's packages when they are missing.
set -euo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  exit 0
fi
as_root=""
if [ "$(id -u)" -ne 0 ]; then as_root="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$as_root apt-get update -qq || true   # a stale or offline index still has the packages
$as_root apt-get install -y -qq chromium chromium-driver >/dev/null
