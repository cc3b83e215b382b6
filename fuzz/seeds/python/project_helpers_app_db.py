# expect: clean
"""Connection helpers: factories used by the other modules."""
import sqlite3

import psycopg2

DATABASE = "/var/lib/app/app.db"


def get_conn():
    conn = sqlite3.connect(DATABASE, timeout=10)
    conn.execute("pragma journal_mode = wal")
    return conn


def get_pg(dsn):
    return psycopg2.connect(dsn)
