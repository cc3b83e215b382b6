# expect: clean
"""Standard-library resources used correctly: never reported."""
import concurrent.futures
import dbm
import ftplib
import http.client
import imaplib
import multiprocessing
import multiprocessing.pool
import os
import poplib
import shelve
import shutil
import smtplib
import socket
import subprocess
import tarfile
import telnetlib
import tempfile
import urllib.request
import zipfile


def sockets(host):
    with socket.create_connection((host, 80)) as sock:
        sock.sendall(b"ping")
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as raw:
        raw.connect((host, 80))
    left, right = socket.socketpair()
    left.close()
    right.close()


def http_connection(host):
    conn = http.client.HTTPSConnection(host)
    try:
        conn.request("GET", "/")
        with conn.getresponse() as response:
            return response.read()
    finally:
        conn.close()


def urls(url):
    with urllib.request.urlopen(url) as response:
        body = response.read()
    opener = urllib.request.build_opener()
    with opener.open(url) as response:
        return body + response.read()


def mail(host):
    with ftplib.FTP(host) as ftp:
        ftp.login()
    with smtplib.SMTP(host) as smtp:
        smtp.noop()
    with imaplib.IMAP4_SSL(host) as imap:
        imap.noop()
    with telnetlib.Telnet(host) as tn:
        tn.read_all()
    pop = poplib.POP3(host)
    try:
        pop.stat()
    finally:
        pop.quit()


def files(path):
    with shelve.open(path) as shelf:
        shelf["k"] = 1
    with dbm.open(path, "c") as db:
        db[b"k"] = b"v"
    with zipfile.ZipFile(path) as archive:
        archive.namelist()
    with tarfile.open(path) as tar:
        tar.getnames()


def temporary():
    with tempfile.NamedTemporaryFile() as handle:
        handle.write(b"x")
    with tempfile.SpooledTemporaryFile(max_size=1024) as spooled:
        spooled.write(b"x")
    with tempfile.TemporaryDirectory() as folder:
        os.listdir(folder)
    fd, name = tempfile.mkstemp()
    try:
        os.write(fd, b"x")
    finally:
        os.close(fd)
        os.unlink(name)
    fd, name = tempfile.mkstemp()
    with os.fdopen(fd, "w") as handle:
        handle.write("x")
    folder = tempfile.mkdtemp()
    try:
        os.listdir(folder)
    finally:
        shutil.rmtree(folder)


def processes(args):
    with subprocess.Popen(args, stdout=subprocess.PIPE) as proc:
        out = proc.stdout.read()
    child = subprocess.Popen(args)
    child.wait()
    with multiprocessing.Pool(4) as pool:
        pool.map(len, out)
    with multiprocessing.pool.ThreadPool(2) as threads:
        threads.map(len, out)
    context = multiprocessing.get_context("spawn")
    with context.Pool(2) as spawned:
        spawned.map(len, out)
    with concurrent.futures.ThreadPoolExecutor() as executor:
        executor.submit(len, out)
