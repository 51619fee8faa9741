#!/usr/bin/env bash
# Type-checks sst.config.ts (+ sst-env.d.ts) against the real SST platform types.
# The platform sources live in .sst/platform (gitignored); `sst install` generates them on a
# fresh clone (~1 min, downloads the providers; the CLI also writes under ~/.config/sst).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [[ ! -f .sst/platform/config.d.ts ]]; then
  echo 'typecheck-sst: .sst/platform missing, running sst install' >&2
  SST_SKIP_DEPENDENCY_CHECK=true SST_NO_BUN=1 SST_TELEMETRY_DISABLED=1 npx sst install --stage ci
fi

npx tsc --noEmit -p tsconfig.sst.json
