//! CL205: a pool or client built per request or per iteration.
use std::sync::{LazyLock, OnceLock};

use axum::extract::State;
use axum::routing::get;
use axum::Router;
use sqlx::postgres::PgPoolOptions;
use sqlx::PgPool;

static POOL: OnceLock<PgPool> = OnceLock::new();

async fn list_users(State(url): State<String>) -> String {
    let pool = PgPoolOptions::new().max_connections(5).connect(&url).await.unwrap(); // error: CL205
    format!("{pool:?}")
}

async fn list_users_fixed(State(pool): State<PgPool>) -> String {
    format!("{pool:?}")
}

async fn registered_handler(url: String) -> String {
    let pool = PgPool::connect(&url).await.unwrap(); // error: CL205
    format!("{pool:?}")
}

fn router() -> Router {
    Router::new().route("/users", get(registered_handler))
}

async fn per_iteration(url: &str, batches: Vec<Vec<i64>>) {
    for batch in batches {
        let pool = PgPool::connect(url).await.unwrap(); // error: CL205
        let _ = (pool, batch);
    }
}

async fn per_item(url: &str, ids: Vec<i64>) {
    let futures = ids.into_iter().map(|id| async move {
        let client = mongodb::Client::with_uri_str(url).await.unwrap(); // error: CL205
        let _ = (client, id);
    });
    futures::future::join_all(futures).await;
}

async fn one_pool_per_database(urls: Vec<String>) -> Vec<PgPool> {
    // A different database per iteration: a set of pools, built once.
    let mut pools = Vec::new();
    for url in urls {
        pools.push(PgPool::connect(&url).await.unwrap());
    }
    pools
}

async fn retried(url: &str) -> PgPool {
    loop {
        match PgPool::connect(url).await {
            Ok(pool) => break pool,
            Err(_) => tokio::time::sleep(std::time::Duration::from_secs(1)).await,
        }
    }
}

async fn built_once(url: &str) -> &'static PgPool {
    if POOL.get().is_none() {
        let pool = PgPool::connect_lazy(url).unwrap();
        let _ = POOL.set(pool);
    }
    POOL.get_or_init(|| PgPool::connect_lazy(url).unwrap())
}

static CLIENT: LazyLock<redis::Client> = LazyLock::new(|| redis::Client::open("redis://localhost").unwrap());

fn cloned(pool: &PgPool) -> PgPool {
    pool.clone()
}

#[tokio::main]
async fn main() {
    let pool = PgPool::connect("postgres://localhost/app").await.unwrap();
    let _ = (pool, &*CLIENT, router());
}

fn new_pool(url: &str) -> r2d2::Pool<Manager> {
    // A plain constructor: run once by its caller.
    r2d2::Pool::builder().max_size(8).build(Manager::new(url)).unwrap()
}
