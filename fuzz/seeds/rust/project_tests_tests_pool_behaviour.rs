// expect: clean
//! Pool tests hold several checkouts and reconnect in loops on purpose.
use std::net::TcpStream;

use sqlx::PgPool;

#[tokio::test]
async fn pool_hands_out_two(pool: PgPool) {
    let first = pool.acquire().await.unwrap();
    let second = pool.acquire().await.unwrap();
    drop((first, second));
}

#[test]
fn reconnects_every_time() {
    for _ in 0..100 {
        let stream = TcpStream::connect("127.0.0.1:7").unwrap();
        drop(stream);
    }
}
