#!/usr/bin/env bash
# Install everything and run the whole test suite. The database is DATABASE_URL when
# set (e.g. postgresql://postgres@127.0.0.1:5432/test), else a temporary SQLite file.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh --test
exec .venv/bin/python -m pytest "$@"
