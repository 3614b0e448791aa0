"""Exit 0 when the PostgreSQL URL given as the only argument accepts connections."""

import sys

import psycopg

try:
    psycopg.connect(sys.argv[1].replace("postgresql+psycopg://", "postgresql://"), connect_timeout=3).close()
except Exception:
    sys.exit(1)
