//! CL207: a second checkout from the same pool while the first is held.
use sqlx::PgPool;

async fn nested(pool: &PgPool) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    let mut audit = pool.acquire().await?; // error: CL207
    sqlx::query("insert into audit values (1)").execute(&mut *audit).await?;
    sqlx::query("update t set x = 1").execute(&mut *tx).await?;
    tx.commit().await
}

async fn sequential(pool: &PgPool) -> sqlx::Result<()> {
    let mut first = pool.acquire().await?;
    sqlx::query("select 1").execute(&mut *first).await?;
    drop(first);
    let mut second = pool.acquire().await?;
    sqlx::query("select 1").execute(&mut *second).await?;
    Ok(())
}

async fn first_no_longer_used(pool: &PgPool) -> sqlx::Result<()> {
    let mut first = pool.acquire().await?;
    sqlx::query("select 1").execute(&mut *first).await?;
    let mut second = pool.acquire().await?;
    sqlx::query("select 1").execute(&mut *second).await?;
    Ok(())
}

async fn different_pools(reads: &PgPool, writes: &PgPool) -> sqlx::Result<()> {
    let mut r = reads.acquire().await?;
    let mut w = writes.acquire().await?;
    sqlx::query("select 1").execute(&mut *r).await?;
    sqlx::query("select 1").execute(&mut *w).await?;
    Ok(())
}

fn r2d2_nested(pool: &r2d2::Pool<Manager>) {
    let first = pool.get().unwrap();
    let second = pool.get().unwrap(); // error: CL207
    first.execute("select 1");
    second.execute("select 1");
}
