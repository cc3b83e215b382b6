"""A module where most code cannot matter: only a few statements are parsed."""
import socket
import sqlite3

from shop.util import close_quietly, keep


def total(prices):
    result = 0
    for price in prices:
        result += price
    return result


def describe(order):
    lines = [f"{item.name}: {item.price}" for item in order.items]
    lines.append(f"total: {total(item.price for item in order.items)}")
    return "\n".join(lines)


def ping(host):
    sock = socket.create_connection((host, 80))
    close_quietly(sock)


def remember(host, registry):
    sock = socket.create_connection((host, 80))
    keep(registry, sock)


def forget(host):
    sock = socket.create_connection((host, 80))  # error: CL102
    sock.send(b"ping")


def fetch_rows(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("select * from t").fetchall()
    finally:
        _release(conn)


def _release(conn):
    conn.close()


def make_db(path):
    return sqlite3.connect(path)


def uses_factory(path):
    with make_db(path) as conn:  # error: CL101
        return conn.execute("select 1").fetchone()


class Inventory:
    """Counts stock; opens a connection in __init__, closes it in close()."""

    def __init__(self, path):
        self.db = sqlite3.connect(path)
        self.cache = {}

    def count(self, sku):
        if sku not in self.cache:
            self.cache[sku] = self.db.execute("select n from stock where sku = ?", (sku,)).fetchone()
        return self.cache[sku]

    def restock(self, sku, n):
        self.cache.pop(sku, None)
        return n

    def close(self):
        self.db.close()


class Leaky:
    def __init__(self, path):
        self.db = sqlite3.connect(path)  # error: CL105

    def names(self):
        return [row[0] for row in self.db.execute("select name from t")]


class Pricing:
    """Nothing here opens anything."""

    rate = 1.2

    def gross(self, net):
        return net * self.rate

    def net(self, gross):
        return gross / self.rate

    def round(self, amount):
        return round(amount, 2)


class BaseReport:
    def connect(self):
        return sqlite3.connect("reports.db")


class SalesReport(BaseReport):
    title = "Sales"

    def rows(self):
        with self.connect() as conn:  # error: CL101
            return conn.execute("select * from sales").fetchall()

    def heading(self):
        return self.title.upper()


def report_lines(report):
    return [report.title] + [str(row) for row in report.rows()]


def summary(orders):
    return {order.id: describe(order) for order in orders}
