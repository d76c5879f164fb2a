//! The counter: a live page with two buttons that also works without JavaScript.
//!
//! Run it with `cargo run -p counter` and open <http://127.0.0.1:8080>.
//!
//! Environment:
//! - `PORT`: the port to listen on (default 8080).
//! - `LT_CLIENT_DIR`: serve the browser client from this directory (an unpacked
//!   `@livetemplate/client` 0.25.1 package, e.g. `node_modules/@livetemplate/client`)
//!   instead of loading it from the CDN, so the page works offline.

use livetemplate::prelude::*;
use livetemplate::Template;
use livetemplate::{App, LiveHandler};

const TEMPLATE: &str = r#"<main>
  <h1>Count: {{count}}</h1>
  <form method="POST">
    <button name="decrement">-1</button>
    <button name="increment">+1</button>
  </form>
</main>"#;

/// The page's state. `#[persist]` keeps the count per browser session across reloads,
/// reconnects and form posts without JavaScript.
#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct Count {
    #[persist]
    count: i64,
}

struct Counter;

#[controller(state = Count)]
impl Counter {
    #[action]
    fn increment(&self, state: &mut Count) {
        state.count += 1;
    }

    #[action]
    fn decrement(&self, state: &mut Count) {
        state.count -= 1;
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt::init();

    let template = Template::builder("counter", TEMPLATE).build()?;
    let mut handler = LiveHandler::new(Counter, template).title("Counter");
    let mut app = App::new();
    if let Ok(dir) = std::env::var("LT_CLIENT_DIR") {
        handler = handler.client_assets("/_lvt");
        app = app.assets("/_lvt", dir);
    }
    let app = app.page("/", handler);

    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080u16);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("counter: http://{}", listener.local_addr()?);
    livetemplate::transport::serve_listener(listener, app).await?;
    Ok(())
}
