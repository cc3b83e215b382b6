#!/usr/bin/env run-cargo-script — a script's first line, skipped by rustc and syn
//! A `#!` line is not Rust: the diagnostics below must still land on their own lines.
use sqlx::PgPool;

async fn commit_dropped(pool: &PgPool) -> sqlx::Result<()> {
    let tx = pool.begin().await?;
    tx.commit(); // error: CL204
    Ok(())
}

async fn awaited(pool: &PgPool) -> sqlx::Result<()> {
    let tx = pool.begin().await?; // «déjà» vu: multi-byte text after the open
    tx.commit().await
}
