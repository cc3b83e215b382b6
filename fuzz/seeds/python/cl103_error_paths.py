"""CL103: closed on the normal path, leaked when an exception is raised first."""
import socket
import sqlite3
from contextlib import closing, contextmanager

import pytest


def close_after_work(path):
    conn = sqlite3.connect(path)  # error: CL103
    rows = conn.execute("select * from t").fetchall()
    conn.close()
    return rows


def close_after_an_explicit_raise(path, expected):
    conn = sqlite3.connect(path)  # error: CL103
    if conn.total_changes != expected:
        raise ValueError("unexpected changes")
    conn.close()


def reraised_from_a_handler(path, log):
    conn = sqlite3.connect(path)  # error: CL103
    try:
        conn.execute("delete from t")
    except sqlite3.Error:
        log.exception("delete failed")
        raise
    conn.close()


def handled_then_closed(path):
    conn = sqlite3.connect(path)
    try:
        conn.execute("delete from t")
    except sqlite3.Error:
        pass
    conn.close()


def handler_that_could_raise_itself(path, log):
    # An exception raised while handling another one is not counted.
    conn = sqlite3.connect(path)
    try:
        conn.execute("delete from t")
    except sqlite3.Error:
        log.exception("delete failed")
    conn.close()


def closed_in_finally(path):
    conn = sqlite3.connect(path)
    try:
        return conn.execute("select 1").fetchall()
    finally:
        conn.close()


def only_safe_statements_in_between(path):
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    conn.isolation_level = None
    marker = "done"
    conn.close()
    return marker


def two_closes_in_a_row(path):
    conn = sqlite3.connect(path)
    try:
        cur = conn.cursor()
        cur.execute("select 1")
        cur.close()
    finally:
        conn.close()


def cursor_opened_before_the_try(path):
    conn = sqlite3.connect(path)  # error: CL103
    cur = conn.cursor()
    try:
        cur.execute("select 1")
    finally:
        cur.close()
        conn.close()


def socket_send_then_close(host):
    sock = socket.create_connection((host, 25))  # error: CL103
    sock.sendall(b"QUIT\r\n")
    sock.close()


def generator_closes_after_yield(path):
    conn = sqlite3.connect(path)  # error: CL103
    for row in conn.execute("select * from t"):
        yield row
    conn.close()


def generator_closes_in_finally(path):
    conn = sqlite3.connect(path)
    try:
        yield from conn.execute("select * from t")
    finally:
        conn.close()


@contextmanager
def context_closes_after_yield(path):
    conn = sqlite3.connect(path)  # error: CL103
    yield conn
    conn.close()


@contextmanager
def context_closes_in_finally(path):
    conn = sqlite3.connect(path)
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def database(tmp_path):
    # A fixture's teardown after `yield` always runs.
    conn = sqlite3.connect(tmp_path / "test.db")
    yield conn
    conn.close()


def factory_that_may_raise_first(path):
    # Handed off on the normal path: the factory's ordinary shape, not reported.
    conn = sqlite3.connect(path)
    conn.execute("pragma foreign_keys = on")
    return conn


def fallback_assignment_then_closing(primary, fallback):
    try:
        conn = sqlite3.connect(primary)
    except sqlite3.Error:
        conn = sqlite3.connect(fallback)
    with closing(conn):
        return conn.execute("select 1").fetchall()


def factory_closes_on_its_error_path(host, port):
    # Returned on success, closed on failure: the factory's shape, not reported.
    sock = None
    try:
        sock = socket.create_connection((host, port))
        sock.settimeout(5)
        return sock
    except OSError:
        if sock is not None:
            sock.close()
        raise
