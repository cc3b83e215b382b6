"""CL106: opened and used at once, never bound, so never closed."""
import json
import socket
import sqlite3
import urllib.request
from contextlib import ExitStack, closing


def schema_version(path):
    return sqlite3.connect(path).execute("pragma user_version").fetchone()[0]  # error: CL106


def content_type(url):
    return urllib.request.urlopen(url).headers["content-type"]  # error: CL106


def read_to_the_end(url):
    # Reading a response to the end releases its connection.
    return json.loads(urllib.request.urlopen(url).read())


def iterate_rows(path):
    for row in sqlite3.connect(path).execute("select * from t"):  # error: CL106
        print(row)


def expected_to_fail(path, pytest):
    # A bare open is most often a test that expects it to raise: not reported.
    with pytest.raises(sqlite3.OperationalError):
        sqlite3.connect(path, uri=True)


def thrown_away(host):
    socket.create_connection((host, 80)).close()


def opened_and_closed_at_once(path):
    sqlite3.connect(path).close()


def wrapped_in_closing(path):
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("select 1").fetchone()


def passed_to_a_call(url):
    # Passed straight to another call: taken as handed off.
    return json.load(urllib.request.urlopen(url))


def entered_in_a_stack(stack: ExitStack, url):
    return stack.enter_context(urllib.request.urlopen(url)).read()


def returned_as_is(path):
    return sqlite3.connect(path)
