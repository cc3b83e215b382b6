"""Shapes that are not leaks, found while measuring precision on real code."""
import asyncore
import http.client
import io
import os
import socket
import sqlite3
import tarfile
import tempfile
import zipfile
from pathlib import Path
from unittest import mock

import aiosqlite
import pytest
from sqlalchemy import create_engine


def client_that_never_connects(host):
    # An HTTPConnection opens its socket on first use; this one only parses the host.
    conn = http.client.HTTPConnection(host)
    return conn.host, conn.port


def client_that_connects(host):
    conn = http.client.HTTPConnection(host)  # error: CL102
    conn.request("GET", "/")
    return conn.getresponse().status


def client_on_a_fake_socket(host, fake_socket):
    conn = http.client.HTTPConnection(host)
    conn.sock = fake_socket
    conn.request("GET", "/")
    return conn.getresponse().status


def archive_in_memory(data):
    archive = zipfile.ZipFile(io.BytesIO(data))
    return archive.namelist()


def tar_on_a_caller_file(handle):
    tar = tarfile.open(fileobj=handle, mode="r")
    return tar.getnames()


def archive_on_disk(path):
    archive = zipfile.ZipFile(path)  # error: CL102
    return archive.namelist()


def expected_to_fail(path):
    with pytest.raises(sqlite3.OperationalError):
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.execute("select 1")


def against_a_mock(path):
    with mock.patch("sqlite3.connect"):
        conn = sqlite3.connect(path)
        conn.execute("select 1")


def autocommit_connection(url):
    engine = create_engine(url)
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("vacuum")
    engine.dispose()


def invalidated(url):
    engine = create_engine(url)
    conn = engine.connect()
    conn.invalidate()
    engine.dispose()


async def stopped(path):
    db = await aiosqlite.connect(path)
    await db.stop()


def pure_conversion_before_the_close():
    handle, name = tempfile.mkstemp()
    path = Path(os.fsdecode(name))
    os.close(handle)
    return path


class Dispatcher(asyncore.dispatcher):
    def __init__(self, sock):
        asyncore.dispatcher.__init__(self, sock)


def given_to_a_base_initializer(host):
    sock = socket.create_connection((host, 80))
    return Dispatcher(sock)


class Proxy:
    def __init__(self, host):
        self._server = socket.create_server((host, 0))
        self._socks = []

    def accept(self):
        client, _ = self._server.accept()
        upstream = socket.create_connection(("upstream", 80))
        self._socks += [client, upstream]

    def close(self):
        for sock in [self._server, *self._socks]:
            sock.close()


class Storage:
    def __init__(self, args):
        import subprocess

        self.__pipe = subprocess.Popen(args, stdin=subprocess.PIPE)

    def _cleanup(self, proc):
        proc.stdin.close()
        proc.wait()

    def __del__(self):
        self._cleanup(self.__pipe)


def mail(host, message):
    import smtplib

    # smtplib closes the connection itself when sendmail fails.
    server = smtplib.SMTP(host)
    server.sendmail("a@example.org", ["b@example.org"], message)
    server.quit()


def mail_client_not_connected_yet():
    import smtplib

    # Without a host, `SMTP()` connects nothing: there is nothing to close yet.
    client = smtplib.SMTP()
    return client.local_hostname


def shelf_over_a_dict():
    import shelve

    # `Shelf` wraps a mapping the caller owns; only `shelve.open` opens a file.
    shelf = shelve.Shelf({})
    shelf["k"] = 1
    return len(shelf)


def mail_connected(host):
    import smtplib

    client = smtplib.SMTP(host)  # error: CL102
    return client.noop()


def test_never_returns_on_failure(self, path, ok):
    # `self.fail` raises: in a test, that error path is not reported.
    conn = sqlite3.connect(path)
    if not ok:
        self.fail("unexpected")
    conn.close()


def registered_in_the_test_case(self, host):
    sock = self.enterContext(socket.create_connection((host, 80)))
    return sock.recv(10)


def transaction_only_in_the_test_case(self, path):
    # `enterContext` runs the connection's own `__exit__`, which only commits.
    conn = self.enterContext(sqlite3.connect(path))  # error: CL101
    return conn.execute("select 1").fetchall()


def joined_path_before_the_close(folder, name):
    handle, _ = tempfile.mkstemp(dir=folder)
    target = os.path.join(folder, name)
    os.close(handle)
    return target


def make_mail_client():
    import smtplib

    # The factory gives the host; its callers give nothing.
    return smtplib.SMTP("mail.example.org", 25)


def send_status():
    client = make_mail_client()  # error: CL102
    return client.noop()


def read_spooled_bytes():
    # `read()` releases an HTTP response; a temporary file stays open.
    spool = tempfile.TemporaryFile()  # error: CL102
    spool.write(b"payload")
    spool.seek(0)
    return spool.read()
