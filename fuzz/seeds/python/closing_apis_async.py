# expect: clean
"""Async drivers used correctly: never reported."""
import aiomysql
import aiopg
import aiosqlite
import asyncpg
import mysql.connector.aio
import oracledb
import psycopg
import redis.asyncio
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine


async def aiosqlite_closes(path):
    async with aiosqlite.connect(path) as db:
        async with db.execute("select 1") as cursor:
            return await cursor.fetchall()


async def aiosqlite_cursor(path):
    async with aiosqlite.connect(path) as db:
        cursor = await db.cursor()
        await cursor.execute("select 1")
        await cursor.close()


async def asyncpg_connection(dsn):
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch("select 1")
    finally:
        await conn.close()


async def asyncpg_pool(dsn):
    async with asyncpg.create_pool(dsn) as pool:
        async with pool.acquire() as conn:
            return await conn.fetch("select 1")


async def asyncpg_manual_release(pool: asyncpg.Pool):
    conn = await pool.acquire()
    try:
        return await conn.fetch("select 1")
    finally:
        await pool.release(conn)


async def aiomysql_usage(host):
    async with aiomysql.connect(host=host) as conn:
        async with conn.cursor() as cur:
            await cur.execute("select 1")
    pool = await aiomysql.create_pool(host=host)
    try:
        async with pool.acquire() as conn:
            await conn.ping()
    finally:
        pool.close()
        await pool.wait_closed()


async def aiopg_usage(dsn):
    async with aiopg.connect(dsn) as conn:
        async with conn.cursor() as cur:
            await cur.execute("select 1")
    async with aiopg.create_pool(dsn) as pool:
        async with pool.acquire() as conn:
            await conn.cursor()


async def psycopg_async(dsn):
    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        async with conn.cursor() as cur:
            await cur.execute("select 1")


async def oracle_async(dsn):
    async with oracledb.connect_async(dsn=dsn) as conn:
        await conn.ping()
    pool = oracledb.create_pool_async(dsn=dsn)
    try:
        async with pool.acquire() as conn:
            await conn.ping()
    finally:
        await pool.close()


async def mysql_connector_async(host):
    async with await mysql.connector.aio.connect(host=host) as cnx:
        await cnx.ping()


async def sqlalchemy_async(url):
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        await conn.exec_driver_sql("select 1")
    async with AsyncSession(engine) as session:
        await session.execute("select 1")
    factory = async_sessionmaker(engine)
    async with factory() as session:
        await session.execute("select 1")
    await engine.dispose()


async def redis_async(url):
    async with redis.asyncio.from_url(url) as client:
        await client.ping()
