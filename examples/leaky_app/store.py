"""The data layer of a small order-tracking service, one SQLite file per shop.

It has the leak connlint exists for: `with sqlite3.connect(...)` commits, but never closes the
connection, so every request leaves one open file behind. Run

    cargo run --release -- check examples

to see connlint find them, and compare with `order_total_fixed` below.
"""
import sqlite3
from contextlib import closing

DATA_DIR = "/var/lib/shops"


def _path(shop_id):
    return f"{DATA_DIR}/{shop_id}.sqlite3"


def open_orders(shop_id):
    with sqlite3.connect(_path(shop_id)) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute("SELECT * FROM orders WHERE status = 'open'")]


def mark_shipped(shop_id, order_id):
    conn = sqlite3.connect(_path(shop_id))
    with conn:
        conn.execute("UPDATE orders SET status = 'shipped' WHERE id = ?", (order_id,))


def order_total(shop_id, order_id):
    with sqlite3.connect(_path(shop_id)) as conn:
        row = conn.execute("SELECT SUM(price * qty) FROM lines WHERE order_id = ?", (order_id,)).fetchone()
    return row[0] or 0


def order_total_fixed(shop_id, order_id):
    with closing(sqlite3.connect(_path(shop_id))) as conn, conn:
        row = conn.execute("SELECT SUM(price * qty) FROM lines WHERE order_id = ?", (order_id,)).fetchone()
    return row[0] or 0
