//! CL203: a transaction that can end its scope on a success path without commit or rollback.
use rusqlite::{Connection, DropBehavior};
use sqlx::{PgPool, Postgres, Transaction};

async fn never_committed(pool: &PgPool, name: &str) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?; // error: CL203
    sqlx::query("insert into users (name) values ($1)").bind(name).execute(&mut *tx).await?;
    Ok(())
}

async fn committed(pool: &PgPool, name: &str) -> sqlx::Result<()> {
    let mut tx = pool.begin().await?;
    sqlx::query("insert into users (name) values ($1)").bind(name).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

async fn early_success_return(pool: &PgPool, name: &str) -> sqlx::Result<bool> {
    let mut tx = pool.begin().await?; // error: CL203
    if name.is_empty() {
        return Ok(false);
    }
    sqlx::query("insert into users (name) values ($1)").bind(name).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(true)
}

async fn error_returns_roll_back(pool: &PgPool, name: &str) -> sqlx::Result<()> {
    // Returning an error drops (rolls back) the transaction: that is what drop is for.
    let mut tx = pool.begin().await?;
    if name.is_empty() {
        return Err(sqlx::Error::RowNotFound);
    }
    sqlx::query("insert into users (name) values ($1)").bind(name).execute(&mut *tx).await?;
    tx.commit().await
}

async fn rolled_back(pool: &PgPool) -> sqlx::Result<()> {
    let tx = pool.begin().await?;
    tx.rollback().await
}

async fn moved_to_a_helper(pool: &PgPool) -> sqlx::Result<()> {
    let tx = pool.begin().await?;
    finish(tx).await
}

async fn finish(tx: Transaction<'_, Postgres>) -> sqlx::Result<()> {
    tx.commit().await
}

async fn returned(pool: &PgPool) -> sqlx::Result<Transaction<'static, Postgres>> {
    let tx = pool.begin().await?;
    Ok(tx)
}

fn rusqlite_forgotten(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction()?; // error: CL203
    tx.execute("delete from t", [])?;
    Ok(())
}

fn rusqlite_committed(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.execute("delete from t", [])?;
    tx.commit()
}

fn rusqlite_commit_on_drop(conn: &mut Connection) -> rusqlite::Result<()> {
    let mut tx = conn.transaction()?;
    tx.set_drop_behavior(DropBehavior::Commit);
    tx.execute("delete from t", [])?;
    Ok(())
}

fn explicit_drop_is_a_rollback(conn: &mut Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction()?;
    tx.execute("delete from t", [])?;
    drop(tx);
    Ok(())
}

fn diesel_closure_scoped(conn: &mut diesel::PgConnection) -> diesel::QueryResult<()> {
    // A closure-scoped transaction commits on Ok and rolls back on Err.
    conn.transaction(|c| {
        let _ = c;
        Ok(())
    })
}

fn postgres_in_a_branch(client: &mut postgres::Client, flag: bool) -> Result<(), postgres::Error> {
    let mut tx = client.transaction()?; // error: CL203
    tx.execute("update t set x = 1", &[])?;
    if flag {
        tx.commit()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[sqlx::test]
    async fn rolls_back_test_data(pool: sqlx::PgPool) {
        // Tests drop transactions on purpose to undo their writes.
        let mut tx = pool.begin().await.unwrap();
        sqlx::query("insert into t values (1)").execute(&mut *tx).await.unwrap();
    }
}
