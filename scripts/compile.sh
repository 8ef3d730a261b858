#!/usr/bin/env bash
# Compile the app's own modules to bytecode once (pip does as much for the libraries), so
# that no process compiles them again at start-up: where the tree is read-only, or in a
# shell with PYTHONDONTWRITEBYTECODE set, each process would otherwise compile about a
# hundred modules (0.15 s of every `flask` command, every worker's start). Stale files are
# still recompiled by Python itself (their source's time is checked).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m compileall -q app.py codelists.py gunicorn.conf.py models portfolio web benchmarks
