"""Views that use the helpers of app/db.py, imported in the two usual ways."""
from contextlib import closing

from app import db
from .db import get_conn, get_pg


def list_items():
    with get_conn() as conn:  # error: CL101
        return conn.execute("select * from items").fetchall()


def list_items_fixed():
    with closing(get_conn()) as conn, conn:
        return conn.execute("select * from items").fetchall()


def count_items():
    conn = db.get_conn()  # error: CL102
    return conn.execute("select count(*) from items").fetchone()[0]


def report(dsn):
    with get_pg(dsn) as conn:  # error: CL101
        with conn.cursor() as cur:
            cur.execute("select 1")
