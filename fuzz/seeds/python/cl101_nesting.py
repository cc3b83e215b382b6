"""CL101 inside loops, branches, try blocks, nested functions, classes and async code."""
import sqlite3
from contextlib import closing


def per_file(paths):
    totals = {}
    for path in paths:
        with sqlite3.connect(path) as conn:  # error: CL101
            totals[path] = conn.execute("select count(*) from t").fetchone()[0]
    return totals


def in_a_branch(path, readonly):
    if readonly:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:  # error: CL101
            return conn.execute("select 1").fetchall()
    else:
        with closing(sqlite3.connect(path)) as conn, conn:
            return conn.execute("select 1").fetchall()


def in_a_try(path, log):
    try:
        with sqlite3.connect(path) as conn:  # error: CL101
            conn.execute("vacuum")
    except sqlite3.Error as err:
        log.warning("vacuum failed: %s", err)


def nested_withs(path, other):
    with closing(sqlite3.connect(path)) as outer, outer:
        with sqlite3.connect(other) as inner:  # error: CL101
            inner.execute("attach database ? as o", (path,))


def two_items(path, other):
    with sqlite3.connect(path) as a, closing(sqlite3.connect(other)) as b:  # error: CL101
        a.execute("select 1")
        b.execute("select 1")


def outer_function(path):
    def helper():
        with sqlite3.connect(path) as conn:  # error: CL101
            return conn.execute("select 1").fetchone()

    return helper()


class Repository:
    def __init__(self, path):
        self.path = path

    def count(self):
        with sqlite3.connect(self.path) as conn:  # error: CL101
            return conn.execute("select count(*) from t").fetchone()[0]

    def count_fixed(self):
        with closing(sqlite3.connect(self.path)) as conn:
            return conn.execute("select count(*) from t").fetchone()[0]


async def async_handler(request, path):
    # A synchronous driver inside a coroutine leaks the same way.
    with sqlite3.connect(path) as conn:  # error: CL101
        rows = conn.execute("select * from t").fetchall()
    await request.respond(rows)


async def async_handler_fixed(request, path):
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("select * from t").fetchall()
    await request.respond(rows)


def while_loop(path, queue):
    while True:
        item = queue.get()
        if item is None:
            break
        with sqlite3.connect(path) as conn:  # error: CL101
            conn.execute("insert into t values (?)", (item,))
