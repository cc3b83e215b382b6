# expect: clean
"""Database drivers whose `with` closes the connection: never reported."""
import cx_Oracle
import duckdb
import MySQLdb
import mysql.connector
import mysql.connector.pooling
import oracledb
import psycopg
import psycopg2.pool
import psycopg_pool
import pymongo
import pymssql
import pymysql
import redis
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker


def psycopg3(dsn):
    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur:
            cur.execute("select 1")


def psycopg3_class_connect(dsn):
    with psycopg.Connection.connect(dsn) as conn:
        conn.execute("select 1")


def psycopg3_pool_connection(dsn):
    with psycopg_pool.ConnectionPool(dsn) as pool:
        with pool.connection() as conn:
            conn.execute("select 1")


def psycopg3_pool_putconn(dsn):
    with psycopg_pool.ConnectionPool(dsn) as pool:
        conn = pool.getconn()
        try:
            conn.execute("select 1")
        finally:
            pool.putconn(conn)


def psycopg2_pool_putconn(dsn):
    pool = psycopg2.pool.ThreadedConnectionPool(1, 4, dsn)
    try:
        conn = pool.getconn()
        try:
            conn.cursor().execute("select 1")
        finally:
            pool.putconn(conn)
    finally:
        pool.closeall()


def pymysql_closes(host):
    with pymysql.connect(host=host) as conn:
        with conn.cursor() as cur:
            cur.execute("select 1")


def mysqlclient_closes(host):
    with MySQLdb.connect(host=host) as conn:
        with conn.cursor() as cur:
            cur.execute("select 1")


def mysql_connector_closes(host):
    with mysql.connector.connect(host=host) as cnx:
        with cnx.cursor() as cur:
            cur.execute("select 1")


def mysql_connector_pool(pool: mysql.connector.pooling.MySQLConnectionPool):
    with pool.get_connection() as cnx:
        cnx.cmd_query("select 1")


def oracle_closes(dsn):
    with oracledb.connect(dsn=dsn) as conn:
        with conn.cursor() as cur:
            cur.execute("select 1 from dual")


def oracle_pool(dsn):
    pool = oracledb.create_pool(dsn=dsn, min=1, max=4)
    try:
        with pool.acquire() as conn:
            conn.ping()
    finally:
        pool.close()


def cx_oracle_closes(dsn):
    with cx_Oracle.connect(dsn) as conn:
        with conn.cursor() as cur:
            cur.execute("select 1 from dual")


def cx_oracle_session_pool(pool: cx_Oracle.SessionPool):
    with pool.acquire() as conn:
        conn.ping()


def duckdb_closes(path):
    with duckdb.connect(path) as con:
        with con.cursor() as cur:
            return cur.execute("select 42").fetchall()


def mssql_closes(server):
    with pymssql.connect(server) as conn:
        with conn.cursor() as cur:
            cur.execute("select 1")


def sqlalchemy_connections(url):
    engine = create_engine(url)
    with engine.connect() as conn:
        conn.exec_driver_sql("select 1")
    with engine.begin() as conn:
        conn.exec_driver_sql("select 1")
    raw = engine.raw_connection()
    try:
        raw.cursor().execute("select 1")
    finally:
        raw.close()
    engine.dispose()


def sqlalchemy_sessions(engine):
    with Session(engine) as session:
        session.execute("select 1")
    factory = sessionmaker(bind=engine)
    with factory() as session:
        session.execute("select 1")
    with factory.begin() as session:
        session.execute("select 1")


def redis_clients(url):
    with redis.Redis.from_url(url) as client:
        client.ping()
    with redis.ConnectionPool(max_connections=4) as pool:
        with redis.Redis(connection_pool=pool) as client:
            client.ping()


def mongo_client(uri):
    with pymongo.MongoClient(uri) as client:
        return client.admin.command("ping")
