"""What a helper of the project does with a resource it is given decides the caller's duty."""
import socket
import sqlite3
import ssl
import subprocess


def close_quietly(conn):
    try:
        conn.close()
    except sqlite3.Error:
        pass


def uses_a_closing_helper(path):
    conn = sqlite3.connect(path)
    try:
        conn.execute("select 1")
    finally:
        close_quietly(conn)


def closes_through_a_keyword(path):
    conn = sqlite3.connect(path)
    try:
        conn.execute("select 1")
    finally:
        close_quietly(conn=conn)


def report(conn):
    print(conn.execute("select count(*) from t").fetchone())


def uses_a_borrowing_helper(path):
    conn = sqlite3.connect(path)  # error: CL102
    report(conn)


class _wrap_close:
    """A lower-case class that keeps the process it is given."""

    def __init__(self, stream, proc):
        self._stream = stream
        self._proc = proc

    def close(self):
        self._stream.close()
        return self._proc.wait()


def popen(cmd):
    proc = subprocess.Popen(cmd, shell=True, stdout=subprocess.PIPE)
    return _wrap_close(proc.stdout, proc)


class Dispatcher:
    def __init__(self):
        self.socket = None

    def set_socket(self, sock):
        self.socket = sock

    def create_socket(self, family, kind):
        sock = socket.socket(family, kind)
        sock.setblocking(False)
        self.set_socket(sock)

    def close(self):
        if self.socket is not None:
            self.socket.close()


def wraps_in_tls(host, context: ssl.SSLContext):
    sock = socket.create_connection((host, 443))
    sock = context.wrap_socket(sock, server_hostname=host)
    return sock


def forwards_to_a_closing_helper(conn):
    close_quietly(conn)


def closes_through_two_helpers(path):
    conn = sqlite3.connect(path)
    forwards_to_a_closing_helper(conn)


def ping_pong_a(conn, depth):
    if depth:
        ping_pong_b(conn, depth - 1)


def ping_pong_b(conn, depth):
    ping_pong_a(conn, depth)


def mutual_recursion_borrows(path):
    conn = sqlite3.connect(path)  # error: CL102
    ping_pong_a(conn, 3)
