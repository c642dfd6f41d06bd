#!/usr/bin/env bash
# Build t.js (the file GET /t.js serves) from src/clicktrail.js with terser. Needs node and npm.
set -euo pipefail
cd "$(dirname "$0")"
[ -d node_modules/terser ] || npm ci --silent --no-audit --no-fund
npm run --silent build
printf 't.js: %s bytes, %s gzipped\n' "$(wc -c < t.js)" "$(gzip -9 -c t.js | wc -c)"
