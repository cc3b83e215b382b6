"""Helpers in the same module: a function that returns a fresh resource is a factory."""
import sqlite3
from contextlib import closing, contextmanager

DB = "app.db"


def get_db():
    conn = sqlite3.connect(DB)
    conn.row_factory = sqlite3.Row
    return conn


def get_db_via_another_helper():
    return get_db()


def reads_through_the_factory():
    with get_db() as conn:  # error: CL101
        return conn.execute("select * from t").fetchall()


def reads_through_two_factories():
    with get_db_via_another_helper() as conn:  # error: CL101
        return conn.execute("select * from t").fetchall()


def never_closes_the_factory_result():
    conn = get_db()  # error: CL102
    return conn.execute("select 1").fetchone()


def closes_the_factory_result():
    with closing(get_db()) as conn, conn:
        return conn.execute("select 1").fetchone()


@contextmanager
def connection():
    conn = sqlite3.connect(DB)
    try:
        yield conn
    finally:
        conn.close()


def uses_the_closing_context():
    with connection() as conn:
        return conn.execute("select 1").fetchone()


@contextmanager
def leaky_connection():
    # Yields a raw connection and never closes it: reported here, not at every caller.
    conn = sqlite3.connect(DB)  # error: CL102
    yield conn


@contextmanager
def transaction_only_connection():
    with sqlite3.connect(DB) as conn:  # error: CL101
        yield conn


def uses_the_leaky_context():
    with leaky_connection() as conn:
        return conn.execute("select 1").fetchone()


def fallback_factory(primary, fallback):
    try:
        conn = sqlite3.connect(primary)
    except sqlite3.Error:
        conn = sqlite3.connect(fallback)
    return conn


def uses_the_fallback_factory():
    with fallback_factory("a.db", "b.db") as conn:  # error: CL101
        conn.execute("select 1")


class Repository:
    def __init__(self, path):
        self.path = path

    def _connect(self):
        return sqlite3.connect(self.path)

    def count(self):
        with self._connect() as conn:  # error: CL101
            return conn.execute("select count(*) from t").fetchone()[0]

    def count_fixed(self):
        with closing(self._connect()) as conn:
            return conn.execute("select count(*) from t").fetchone()[0]


def nested_helper():
    def open_it():
        return sqlite3.connect(DB)

    conn = open_it()  # error: CL102
    conn.execute("select 1")
