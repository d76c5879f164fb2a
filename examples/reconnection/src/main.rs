//! Reconnection example: `cargo run -p reconnection [-- --redis redis://127.0.0.1:6379]`,
//! then open <http://127.0.0.1:8080>. See README.md for what to try.
//!
//! Environment: `PORT` (default 8080), `LT_REDIS_URL` (like `--redis`),
//! `LT_REDIS_PREFIX` (like `--redis-prefix`), `LT_CLIENT_DIR` (serve the client from an
//! unpacked `@livetemplate/client` 0.25.1 instead of the CDN).

use reconnection::{app, Config};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt::init();
    let config = Config::parse(std::env::args().skip(1), |k| std::env::var(k).ok())
        .map_err(|e| format!("{e}\nusage: reconnection [--redis URL] [--redis-prefix PREFIX]"))?;
    let app = app(&config)?;

    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080u16);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("reconnection: http://{}", listener.local_addr()?);
    match &config.redis_url {
        Some(_) => eprintln!("persisted fields: Redis (they survive a restart)"),
        None => eprintln!("persisted fields: memory (lost when the server stops)"),
    }
    livetemplate::transport::serve_listener(listener, app).await?;
    Ok(())
}
