//! The counter: a live page with two buttons that also works without JavaScript.
//!
//! Run it with `cargo run -p counter` and open <http://127.0.0.1:8080>.
//!
//! Environment:
//! - `PORT`: the port to listen on (default 8080).
//! - `LT_CLIENT_DIR`: serve the browser client from this directory (an unpacked
//!   `@livetemplate/client` 0.25.1 package, e.g. `node_modules/@livetemplate/client`)
//!   instead of loading it from the CDN, so the page works offline.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt::init();

    let app = counter::app(std::env::var_os("LT_CLIENT_DIR").map(Into::into))?;
    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080u16);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("counter: http://{}", listener.local_addr()?);
    livetemplate::transport::serve_listener(listener, app).await?;
    Ok(())
}
