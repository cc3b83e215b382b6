//! CL202: the connection half of tokio_postgres::connect must be spawned or awaited.
use tokio_postgres::{Client, Config, NoTls};

async fn discarded(url: &str) -> Result<Client, tokio_postgres::Error> {
    let (client, _) = tokio_postgres::connect(url, NoTls).await?; // error: CL202
    Ok(client)
}

async fn bound_but_never_polled(url: &str) -> Result<Client, tokio_postgres::Error> {
    let (client, _connection) = tokio_postgres::connect(url, NoTls).await?; // error: CL202
    Ok(client)
}

async fn only_the_client(url: &str) -> Result<Client, tokio_postgres::Error> {
    let client = tokio_postgres::connect(url, NoTls).await?.0; // error: CL202
    Ok(client)
}

async fn spawned(url: &str) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            eprintln!("connection error: {e}");
        }
    });
    Ok(client)
}

async fn from_a_config(config: &Config) -> Result<Client, tokio_postgres::Error> {
    let (client, connection) = config.connect(NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

async fn from_a_builder(host: &str) -> Result<Client, tokio_postgres::Error> {
    let (client, _) = Config::new().host(host).connect(NoTls).await?; // error: CL202
    Ok(client)
}

async fn selected(url: &str, shutdown: tokio::sync::oneshot::Receiver<()>) -> Result<(), tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, NoTls).await?;
    tokio::select! {
        result = connection => result?,
        _ = shutdown => drop(client),
    }
    Ok(())
}
