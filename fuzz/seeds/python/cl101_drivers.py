"""CL101 on the other transaction-only drivers: psycopg2, pyodbc, apsw."""
import apsw
import psycopg2
import psycopg2.extensions
import pyodbc
from contextlib import closing


def pg_report(dsn):
    with psycopg2.connect(dsn) as conn:  # error: CL101
        with conn.cursor() as cur:
            cur.execute("select count(*) from orders")
            return cur.fetchone()


def pg_report_fixed(dsn):
    with closing(psycopg2.connect(dsn)) as conn, conn:
        with conn.cursor() as cur:
            cur.execute("select count(*) from orders")
            return cur.fetchone()


def pg_low_level(dsn):
    with psycopg2.extensions.connection(dsn) as conn:  # error: CL101
        conn.cursor().execute("select 1")


def odbc_export(conn_str, out):
    with pyodbc.connect(conn_str) as cnxn:  # error: CL101
        # The pyodbc cursor's `with` only commits too, but a cursor is freed with its
        # connection, so it is not reported on its own.
        with cnxn.cursor() as cursor:
            for row in cursor.execute("select * from items"):
                out.write(row)


def odbc_export_fixed(conn_str, out):
    cnxn = pyodbc.connect(conn_str)
    try:
        with cnxn:
            for row in cnxn.execute("select * from items"):
                out.write(row)
    finally:
        cnxn.close()


def odbc_by_constructor(conn_str):
    with pyodbc.Connection(conn_str) as cnxn:  # error: CL101
        cnxn.execute("select 1")


def apsw_savepoint(path):
    with apsw.Connection(path) as db:  # error: CL101
        db.execute("insert into t values (1)")


def apsw_fixed(path):
    db = apsw.Connection(path)
    try:
        with db:
            cursor = db.cursor()
            cursor.execute("insert into t values (1)")
    finally:
        db.close()
