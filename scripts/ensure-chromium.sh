#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the browser tests.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" != "0" ]; then
  echo "The browser tests need Debian's Chromium at /usr/bin/chromium." >&2
  echo "Install it once as root:  sudo apt-get install -y chromium" >&2
  exit 1
fi
echo "Installing Debian's chromium for the browser tests..."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq chromium >/dev/null
