"""CL101 on sqlite3: `with` commits or rolls back but never closes the connection."""
import sqlite3
from contextlib import ExitStack, closing

DB_PATH = "app.db"

# Module level: a script's process owns this connection; not reported.
with sqlite3.connect(DB_PATH) as boot:
    boot.execute("create table if not exists t (x)")


def read_one(path):
    with sqlite3.connect(path) as conn:  # error: CL101
        return conn.execute("select x from t").fetchone()


def write_many(path, rows):
    with sqlite3.connect(path) as conn:  # error: CL101
        conn.executemany("insert into t values (?)", rows)


def without_name(path):
    with sqlite3.connect(path):  # error: CL101
        pass


def bound_first_then_with(path):
    conn = sqlite3.connect(path)  # error: CL101
    with conn:
        conn.execute("delete from t")


def closed_in_finally(path):
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute("delete from t")
    finally:
        conn.close()


def closing_wrapper(path):
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("select 1").fetchone()


def layered_closing(path):
    with closing(sqlite3.connect(path)) as conn, conn:
        conn.execute("delete from t")


def closed_inside_the_block(path):
    # Closed, but only when `execute` does not raise: CL103, not CL101.
    with sqlite3.connect(path) as conn:  # error: CL103
        conn.execute("delete from t")
        conn.close()


def exit_stack_with_closing(path):
    with ExitStack() as stack:
        conn = stack.enter_context(closing(sqlite3.connect(path)))
        return conn.execute("select 1").fetchall()


def exit_stack_without_closing(path):
    with ExitStack() as stack:
        conn = stack.enter_context(sqlite3.connect(path))  # error: CL101
        return conn.execute("select 1").fetchall()


def returned_to_the_caller(path):
    with sqlite3.connect(path) as conn:
        conn.execute("pragma journal_mode=wal")
    return conn


def stored_on_an_object(holder, path):
    with sqlite3.connect(path) as conn:
        conn.execute("select 1")
    holder.conn = conn


def through_the_class_constructor(path):
    with sqlite3.Connection(path) as conn:  # error: CL101
        conn.execute("select 1")


def blob_closes_on_with(path):
    with closing(sqlite3.connect(path)) as conn:
        with conn.blobopen("t", "x", 1) as blob:
            return blob.read()


def cursors_are_freed_with_their_connection(path):
    with closing(sqlite3.connect(path)) as conn:
        cur = conn.cursor()
        cur.execute("select 1")
        conn.execute("select 2")
        conn.executemany("insert into t values (?)", [(1,)])
        conn.executescript("select 3;")
        return cur.fetchall()
