//! Serves the greet-wall example on `127.0.0.1:$PORT` (default 8080).
//!
//! `LT_CLIENT_DIR`: serve the browser client from this directory (an unpacked
//! `@livetemplate/client` 0.25.1 package) instead of the CDN.

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    tracing_subscriber::fmt::init();
    let app = greet_wall::app(std::env::var_os("LT_CLIENT_DIR").map(Into::into))?;
    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080u16);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("greet-wall: http://{}", listener.local_addr()?);
    livetemplate::transport::serve_listener(listener, app).await?;
    Ok(())
}
