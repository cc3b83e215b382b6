//! CL204: an async commit, rollback or close whose future is dropped.
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

async fn commit_dropped(pool: &PgPool) -> sqlx::Result<()> {
    let tx = pool.begin().await?;
    tx.commit(); // error: CL204
    Ok(())
}

async fn rollback_ignored(tx: Transaction<'_, Postgres>) {
    let _ = tx.rollback(); // error: CL204
}

async fn close_dropped(conn: PgConnection) {
    conn.close(); // error: CL204
}

async fn awaited(tx: Transaction<'_, Postgres>) -> sqlx::Result<()> {
    tx.commit().await
}

fn sync_driver(conn: rusqlite::Connection) {
    // rusqlite is synchronous: its close is not a future.
    let _ = conn.close();
}

async fn sync_driver_in_async_code(mut conn: rusqlite::Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.commit()?;
    Ok(())
}
