"""CL104: pool checkouts that do not go back to the pool on every path."""
import asyncpg
import oracledb
import psycopg_pool
from psycopg2.pool import SimpleConnectionPool, ThreadedConnectionPool

POOL = ThreadedConnectionPool(1, 10, "dbname=app")


def returned_in_finally():
    conn = POOL.getconn()
    try:
        with conn.cursor() as cur:
            cur.execute("select 1")
            return cur.fetchone()
    finally:
        POOL.putconn(conn)


def never_returned():
    conn = POOL.getconn()  # error: CL104
    conn.cursor().execute("select 1")


def returned_on_the_normal_path_only():
    conn = POOL.getconn()  # error: CL104
    conn.cursor().execute("select 1")
    POOL.putconn(conn)


def with_on_a_checkout():
    with POOL.getconn() as conn:  # error: CL104
        conn.cursor().execute("insert into t values (1)")


def untyped_pool_parameter(pool):
    conn = pool.getconn()  # error: CL104
    conn.cursor().execute("select 1")


def untyped_pool_returned(pool):
    conn = pool.getconn()
    try:
        return conn.server_version
    finally:
        pool.putconn(conn)


class Service:
    def __init__(self, dsn):
        self._pool = SimpleConnectionPool(1, 4, dsn)

    def leaky(self):
        conn = self._pool.getconn()  # error: CL104
        conn.cursor().execute("select 1")

    def fixed(self):
        conn = self._pool.getconn()
        try:
            conn.cursor().execute("select 1")
        finally:
            self._pool.putconn(conn)

    def close(self):
        self._pool.closeall()


def psycopg3_getconn(pool: psycopg_pool.ConnectionPool):
    with pool.getconn() as conn:  # error: CL104
        conn.execute("select 1")


def psycopg3_connection(pool: psycopg_pool.ConnectionPool):
    with pool.connection() as conn:
        conn.execute("select 1")


async def asyncpg_never_released(pool: asyncpg.Pool):
    conn = await pool.acquire()  # error: CL104
    return await conn.fetch("select 1")


async def asyncpg_untyped_pool(db_pool):
    conn = await db_pool.acquire()  # error: CL104
    await conn.execute("select 1")


async def asyncpg_async_with(db_pool):
    async with db_pool.acquire() as conn:
        await conn.execute("select 1")


async def asyncpg_released(db_pool):
    conn = await db_pool.acquire()
    try:
        await conn.execute("select 1")
    finally:
        await db_pool.release(conn)


def oracle_acquire_released(pool: oracledb.ConnectionPool):
    conn = pool.acquire()
    try:
        conn.ping()
    finally:
        pool.release(conn)


def oracle_acquire_leaked(pool: oracledb.ConnectionPool):
    conn = pool.acquire()  # error: CL104
    conn.ping()


def a_lock_is_not_a_pool(lock):
    lock.acquire()
    try:
        return 1
    finally:
        lock.release()


async def released_by_closing_the_pool(dsn):
    pool = await asyncpg.create_pool(dsn)
    conn = await pool.acquire()
    try:
        await conn.execute("select 1")
    finally:
        await pool.close()
