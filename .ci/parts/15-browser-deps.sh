#!/usr/bin/env bash
# Debian's headless Chromium and its driver, for the live page's browser test
# (tests/serve/test_browser.py, run by 20-test.sh; it drives /usr/bin/chromedriver, nothing is
# downloaded at test time).
set -euo pipefail
if [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; then
    echo "browser: $(/usr/bin/chromedriver --version | head -1) already installed"
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
${sudo} apt-get update -qq
DEBIAN_FRONTEND=noninteractive ${sudo} apt-get install -y -qq chromium chromium-driver >/dev/null
echo "browser: $(/usr/bin/chromedriver --version | head -1) installed"
