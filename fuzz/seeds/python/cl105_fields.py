"""CL105: a class keeps a resource in a field and no method closes it."""
import atexit
import socket
import sqlite3
from contextlib import ExitStack, closing


class SettingsStore:
    def __init__(self, path):
        self.conn = sqlite3.connect(path)  # error: CL105

    def get(self, key):
        return self.conn.execute("select value from settings where key = ?", (key,)).fetchone()


class ClosingStore:
    def __init__(self, path):
        self.conn = sqlite3.connect(path)

    def close(self):
        self.conn.close()


class ContextStore:
    def __init__(self, path):
        self._db = sqlite3.connect(path)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._db.close()


class AliasClose:
    def __init__(self, host):
        self.sock = socket.create_connection((host, 80))

    def shutdown(self):
        sock, self.sock = self.sock, None
        sock.close()


class LocalAliasClose:
    def __init__(self, host):
        self.sock = socket.create_connection((host, 80))

    def close(self):
        sock = self.sock
        self.sock = None
        sock.close()


class ExposesIt:
    def __init__(self, path):
        self._conn = sqlite3.connect(path)

    def connection(self):
        return self._conn


class Base:
    def close(self):
        self.conn.close()


class Derived(Base):
    def __init__(self, path):
        self.conn = sqlite3.connect(path)


class OpensLazily:
    def __init__(self, path):
        self.path = path
        self.conn = None

    def connect(self):
        if self.conn is None:
            self.conn = sqlite3.connect(self.path)  # error: CL105
        return self.conn.cursor()


class RegisteredAtExit:
    def __init__(self, path):
        self.conn = sqlite3.connect(path)
        atexit.register(self.conn.close)


class EnteredInAStack:
    def __init__(self, path):
        self._stack = ExitStack()
        self.conn = self._stack.enter_context(closing(sqlite3.connect(path)))
        self.log = sqlite3.connect(path + ".log")
        self._stack.enter_context(closing(self.log))

    def close(self):
        self._stack.close()


class TwoFieldsOneClosed:
    def __init__(self, path, host):
        self.db = sqlite3.connect(path)
        self.sock = socket.create_connection((host, 80))  # error: CL105

    def close(self):
        self.db.close()


class CursorOnly:
    def __init__(self, conn):
        # A cursor is freed with its connection: not reported.
        self.cur = conn.cursor()


class Finalizer:
    def __init__(self, path):
        self.conn = sqlite3.connect(path)

    def __del__(self):
        self.conn.close()
