#!/usr/bin/env bash
# Sets up and builds ringdb, then opens the ringdb shell on ./ringdb.db (or
# on the arguments given, e.g. `scripts/shell.sh --pool 256MiB /tmp/my.db`).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
ringdb_build "$ROOT/build" -DRINGDB_BUILD_TESTS=OFF -DRINGDB_BUILD_BENCH=OFF
exec "$ROOT/build/tools/ringdb" "$@"
