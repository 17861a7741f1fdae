#!/usr/bin/env bash
# Spreekuur developer commands.
#   ./dev.sh run    set up (virtualenv, install, translations, migrations, demo data) and serve
#   ./dev.sh test   set up and run the whole test suite (SQLite; PostgreSQL too with TEST_DATABASE_URL)
#   ./dev.sh bench  run the benchmarks in bench/ (bench/*_bench.py)
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${PYTHON:-python3}"
VENV=".venv"
export FLASK_APP=wsgi

setup() {
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test]"
  "$VENV/bin/pybabel" compile --statistics -d app/translations 2>&1 | sed 's/^/  /' >&2
}

ensure_browser() {
  # The browser tests drive Debian's Chromium; Playwright never downloads a browser.
  if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's chromium for the browser tests..." >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
  fi
}

cmd="${1:-}"
shift || true
case "$cmd" in
  run)
    # Links in mail lead to the development server (PUBLIC_URL is required outside tests).
    export SPREEKUUR_PUBLIC_URL="${SPREEKUUR_PUBLIC_URL:-http://127.0.0.1:5000}"
    setup
    "$VENV/bin/flask" db upgrade
    "$VENV/bin/flask" demo-data --if-empty
    exec "$VENV/bin/flask" run --host 127.0.0.1 --port 5000 "$@"
    ;;
  test)
    setup
    ensure_browser
    exec "$VENV/bin/python" -m pytest "$@"
    ;;
  bench)
    setup
    for script in bench/*_bench.py; do "$VENV/bin/python" "$script" "$@"; done
    ;;
  *)
    echo "usage: ./dev.sh run | test [pytest args] | bench" >&2
    exit 2
    ;;
esac
