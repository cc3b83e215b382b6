"""The opener is found however it is imported."""
import sqlite3 as db
import sqlite3.dbapi2
from sqlite3 import connect
from sqlite3 import connect as open_db
from psycopg2 import connect as pg_connect


def via_module_alias(path):
    with db.connect(path) as conn:  # error: CL101
        conn.execute("select 1")


def via_from_import(path):
    with connect(path) as conn:  # error: CL101
        conn.execute("select 1")


def via_renamed_function(path):
    with open_db(path) as conn:  # error: CL101
        conn.execute("select 1")


def via_submodule(path):
    with sqlite3.dbapi2.connect(path) as conn:  # error: CL101
        conn.execute("select 1")


def via_renamed_psycopg2(dsn):
    with pg_connect(dsn) as conn:  # error: CL101
        conn.cursor()


def via_function_level_import(dsn):
    import pyodbc as odbc

    with odbc.connect(dsn) as cnxn:  # error: CL101
        cnxn.execute("select 1")


def not_the_library(path):
    # A local function that happens to be called `open` is not an opener.
    with open(path) as handle:
        return handle.read()
