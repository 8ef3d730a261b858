#!/usr/bin/env bash
# Install everything, build a SQLite database with the demo book, and serve the app at
# http://127.0.0.1:5000 (the demo users and their passwords are printed first).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export FLASK_APP=app
.venv/bin/flask db upgrade
.venv/bin/flask demo
exec .venv/bin/flask run --host 127.0.0.1 --port 5000
