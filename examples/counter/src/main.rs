//! The counter: a live page with two buttons that also works without JavaScript.
//!
//! Run it with `cargo run -p counter` and open <http://127.0.0.1:8080>.
//!
//! Environment:
//! - `PORT`: the port to listen on (default 8080).
//! - `LT_CLIENT_DIR`: serve the browser client from this directory (an unpacked
//!   `@livetemplate/client` 0.25.1 package, e.g. `node_modules/@livetemplate/client`)
//!   instead of loading it from the CDN, so the page works offline.

use livetemplate::__private::{ActionKind, ActionSpec, BoxFuture};
use livetemplate::transport::Template;
use livetemplate::{App, Context, Controller, Error, LiveHandler, LiveState};
use serde::{Deserialize, Serialize};

const TEMPLATE: &str = r#"<main>
  <h1>Count: {{count}}</h1>
  <form method="POST">
    <button name="decrement">-1</button>
    <button name="increment">+1</button>
  </form>
</main>"#;

/// Each browser tab has its own count.
#[derive(Clone, Default, Serialize, Deserialize)]
struct Count {
    count: i64,
}

impl LiveState for Count {
    const PERSISTED: &'static [&'static str] = &[];

    fn save_persisted(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        Ok(None)
    }

    fn restore_persisted(&mut self, _bytes: &[u8]) -> Result<(), serde_json::Error> {
        Ok(())
    }
}

struct Counter;

impl Controller for Counter {
    type State = Count;

    const ACTIONS: &'static [ActionSpec] = &[
        ActionSpec {
            name: "increment",
            aliases: &["increment"],
            kind: ActionKind::Client,
        },
        ActionSpec {
            name: "decrement",
            aliases: &["decrement"],
            kind: ActionKind::Client,
        },
    ];

    fn dispatch<'a>(
        &'a self,
        index: usize,
        state: &'a mut Count,
        _ctx: &'a mut Context,
    ) -> BoxFuture<'a, Result<(), Error>> {
        match index {
            0 => state.count += 1,
            _ => state.count -= 1,
        }
        Box::pin(async { Ok(()) })
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
    println!("counter: http://127.0.0.1:{port}");
    livetemplate::serve(("127.0.0.1", port), app).await?;
    Ok(())
}
