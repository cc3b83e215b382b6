"""Async code: awaited opens and closes, `async with`, and an un-awaited close."""
import aiosqlite
import asyncpg


async def never_closed(dsn):
    conn = await asyncpg.connect(dsn)  # error: CL102
    return await conn.fetch("select 1")


async def closed_in_finally(dsn):
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch("select 1")
    finally:
        await conn.close()


async def closed_after_work(dsn):
    conn = await asyncpg.connect(dsn)  # error: CL103
    rows = await conn.fetch("select 1")
    await conn.close()
    return rows


async def aiosqlite_async_with(path):
    async with aiosqlite.connect(path) as db:
        await db.execute("select 1")


async def aiosqlite_never_closed(path):
    db = await aiosqlite.connect(path)  # error: CL102
    await db.execute("select 1")
