#!/usr/bin/env bash
# The differential check as CI runs it: install the reference, partykit 0.0.115, from the npm
# registry into a scratch folder outside the repo (a tool to compare against, never a
# dependency of partyhouse), build partyhouse, run every probe; exit 1 on any difference that
# is not one spec section 10 asks for.
set -euo pipefail
cd "$(dirname "$0")/../.."

dir="${PARTYKIT_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/partyhouse-ci/partykit-0.0.115}"
if [ ! -x "$dir/node_modules/.bin/partykit" ]; then
  rm -rf "$dir" && mkdir -p "$dir"
  (cd "$dir" && npm init -y >/dev/null && npm install --no-audit --no-fund --silent partykit@0.0.115 >/dev/null)
fi
npm run build --silent
node --import tsx test/differential/run.ts --partykit-dir "$dir"
