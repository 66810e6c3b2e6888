#!/usr/bin/env bash
# Install Debian's headless Chromium and ChromeDriver for the browser test (tests/test_web_chromium.py).
# Idempotent: does nothing when both are present. Never fails the build: when it cannot install
# (not root, no apt-get, no network) it says why and exits 0; the test then skips with the reason.
set -u

have() { command -v "$1" >/dev/null 2>&1; }

find_browser() { have chromium || have chromium-browser || have google-chrome; }
find_driver() { have chromedriver; }

if find_browser && find_driver; then
  echo "install_chromium: chromium and chromedriver already installed"
  exit 0
fi
if ! have apt-get; then
  echo "install_chromium: apt-get not available; install Chromium and ChromeDriver yourself to run the browser test"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  if have sudo && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "install_chromium: not root (and no password-less sudo); run as root: apt-get install -y chromium chromium-driver"
    exit 0
  fi
else
  SUDO=""
fi
export DEBIAN_FRONTEND=noninteractive
echo "install_chromium: installing chromium and chromium-driver with apt-get"
if ! $SUDO apt-get update -qq >/tmp/emorec-apt-update.log 2>&1; then
  echo "install_chromium: apt-get update failed (see /tmp/emorec-apt-update.log); the browser test will be skipped"
  exit 0
fi
if ! $SUDO apt-get install -y -qq chromium chromium-driver >/tmp/emorec-apt-install.log 2>&1; then
  echo "install_chromium: apt-get install failed (see /tmp/emorec-apt-install.log); the browser test will be skipped"
  exit 0
fi
if find_browser && find_driver; then
  echo "install_chromium: installed $(chromium --version 2>/dev/null | head -n1)"
else
  echo "install_chromium: packages installed but chromium/chromedriver not on PATH; the browser test will be skipped"
fi
exit 0
