"""Inherited methods: a factory and a method that keeps its argument."""
import socket
from contextlib import closing

from app.base import Base


class Service(Base):
    def count(self):
        with self._connect() as conn:  # error: CL101
            return conn.execute("select count(*) from items").fetchone()[0]

    def count_fixed(self):
        with closing(self._connect()) as conn:
            return conn.execute("select count(*) from items").fetchone()[0]

    def listen(self, port):
        sock = socket.socket()
        sock.bind(("", port))
        self.attach(sock)
