# connlint: ignore-file[CL102]
"""A file-level suppression covers the whole file, for the rule it names only."""
import sqlite3


def one(path):
    conn = sqlite3.connect(path)
    return conn.execute("select 1").fetchone()


def two(path):
    with sqlite3.connect(path) as conn:  # error: CL101
        return conn.execute("select 1").fetchone()
