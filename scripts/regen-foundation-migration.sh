#!/usr/bin/env bash
# Rebuilds migrations/versions/20261122_0001_foundation.py from the models.
# Only while the foundation is unreleased: after the first release, add new revisions instead.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
rm -f migrations/versions/20261122_0001_foundation.py
CITYOS_DATABASE_URL="sqlite:///$tmp/gen.db" .venv/bin/alembic revision --autogenerate -m foundation --rev-id 0001_foundation >/dev/null
f=$(ls migrations/versions/*_0001_foundation_foundation.py)
sed -i 's/^from sqlalchemy.dialects import postgresql$/from sqlalchemy import Text\nfrom sqlalchemy.dialects import postgresql/' "$f"
mv "$f" migrations/versions/20261122_0001_foundation.py
.venv/bin/ruff format -q migrations/versions/20261122_0001_foundation.py
.venv/bin/ruff check -q --fix migrations/versions/20261122_0001_foundation.py || true
rm -rf "$tmp"
echo "regenerated migrations/versions/20261122_0001_foundation.py"
