#!/usr/bin/env bash
# Debian packages the tests use: 7-Zip (the simulator zips its reports with it; fixtures), Info-ZIP,
# libarchive's bsdtar and zip4j (fixtures are remade with them). Installs only what is missing.
set -euo pipefail
need=()
command -v 7zz >/dev/null || need+=(7zip)
command -v zip >/dev/null || need+=(zip)
command -v unzip >/dev/null || need+=(unzip)
command -v bsdtar >/dev/null || need+=(libarchive-tools)
[ -f /usr/share/java/zip4j.jar ] || need+=(libzip4j-java)
command -v javac >/dev/null || need+=(default-jdk-headless)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; else SUDO=; fi
  echo "installing: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
