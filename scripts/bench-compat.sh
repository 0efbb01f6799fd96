#!/usr/bin/env bash
# One FULL compatibility check of a wide record against one earlier version, 1,000 and 18,000
# fields, three shapes (schema-registry/benches/compat.rs; issue 9). Linear: 18,000 fields cost
# ~18x 1,000 fields in every shape. Usage: scripts/bench-compat.sh (never while a build runs).
set -euo pipefail
cd "$(dirname "$0")/.."
if pgrep -x rustc >/dev/null && [ -z "${FORCE:-}" ]; then echo "a build is running; benchmark later (FORCE=1 to run anyway)" >&2; exit 1; fi
cargo bench -q -p runnel-schema-registry --bench compat -- compat_full_check
