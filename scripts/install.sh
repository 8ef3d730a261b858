#!/usr/bin/env bash
# Create .venv (if absent), install the pinned requirements and the system packages, and
# compile the English catalogue (translations/*/messages.mo is built here, not tracked) and the
# app's own bytecode (scripts/compile.sh).
# With --test: the test and lint requirements too (requirements-test.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/system-deps.sh
[ -x .venv/bin/python ] || python3 -m venv .venv
requirements=requirements.txt
[ "${1:-}" = "--test" ] && requirements=requirements-test.txt
.venv/bin/pip install -q --disable-pip-version-check -r "$requirements"
.venv/bin/pybabel -q compile -d translations
bash scripts/compile.sh
