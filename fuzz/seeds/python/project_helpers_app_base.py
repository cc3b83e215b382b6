# expect: clean
"""A base class whose methods the subclasses in app/service.py inherit."""
import sqlite3


class Base:
    path = "/var/lib/app/app.db"

    def _connect(self):
        return sqlite3.connect(self.path)

    def attach(self, sock):
        self.sock = sock

    def close(self):
        self.sock.close()
