#!/usr/bin/env bash
# Debian packages the tests use: 7-Zip (the simulator zips its reports with it; fixtures), Info-ZIP,
# libarchive's bsdtar and zip4j (fixtures are remade with them), redis-server (the queue-mode test
# starts its own on a free loopback port), chromium (the browser test drives the n8n editor with
# it through playwright-core). Installs only what is missing.
#   bash scripts/install-system-deps.sh           everything the tests use
#   bash scripts/install-system-deps.sh --demo    only 7-Zip (npm run demo and npm run dev)
set -euo pipefail
need=()
command -v 7zz >/dev/null || need+=(7zip)
if [ "${1:-}" != "--demo" ]; then
command -v zip >/dev/null || need+=(zip)
command -v unzip >/dev/null || need+=(unzip)
command -v bsdtar >/dev/null || need+=(libarchive-tools)
[ -f /usr/share/java/zip4j.jar ] || need+=(libzip4j-java)
command -v javac >/dev/null || need+=(default-jdk-headless)
command -v redis-server >/dev/null || [ -x /usr/bin/redis-server ] || need+=(redis-server)
[ -x /usr/bin/chromium ] || need+=(chromium)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "installing: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
