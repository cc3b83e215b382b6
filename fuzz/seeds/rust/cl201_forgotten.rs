//! CL201: a connection, pool or checkout whose destructor never runs.
use std::mem::{self, ManuallyDrop};
use std::net::TcpStream;
use std::os::unix::io::IntoRawFd;

use rusqlite::Connection;
use sqlx::PgPool;

fn shared(path: &str) -> &'static Connection {
    Box::leak(Box::new(Connection::open(path).unwrap())) // error: CL201
}

fn forgotten(path: &str) {
    let conn = Connection::open(path).unwrap();
    conn.execute_batch("pragma optimize").unwrap();
    mem::forget(conn); // error: CL201
}

fn manually_dropped(path: &str) -> ManuallyDrop<Connection> {
    ManuallyDrop::new(Connection::open(path).unwrap()) // error: CL201
}

async fn leaked_checkout(pool: &PgPool) -> sqlx::Result<()> {
    let conn = pool.acquire().await?;
    let raw = conn.leak(); // error: CL201
    drop(raw);
    Ok(())
}

async fn detached_per_item(pool: &PgPool, jobs: Vec<Job>) -> sqlx::Result<()> {
    for job in jobs {
        let conn = pool.acquire().await?;
        let dedicated = conn.detach(); // error: CL201
        job.run(dedicated).await;
    }
    Ok(())
}

async fn detached_for_a_session_lock(pool: &PgPool) -> sqlx::Result<sqlx::PgConnection> {
    // A dedicated session (for an advisory lock) is detached on purpose.
    let conn = pool.acquire().await?;
    Ok(conn.detach())
}

fn raw_descriptor_thrown_away(addr: &str) {
    let stream = TcpStream::connect(addr).unwrap();
    stream.into_raw_fd(); // error: CL201
}

fn raw_descriptor_handed_on(addr: &str) -> i32 {
    let stream = TcpStream::connect(addr).unwrap();
    stream.into_raw_fd()
}

fn not_a_connection(buffer: Vec<u8>) {
    mem::forget(buffer);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simulate_a_crash() {
        // Tests forget connections to simulate a crash.
        let conn = Connection::open_in_memory().unwrap();
        std::mem::forget(conn);
    }
}
