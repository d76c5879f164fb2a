//! The counter: a live page with two buttons that also works without JavaScript.
//!
//! [`app`] builds the app. The binary (`cargo run -p counter`) serves it on
//! `127.0.0.1:$PORT` (default 8080); tests serve it on a free port.

use std::path::PathBuf;

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

/// Builds the counter app: the page at `/`.
///
/// With `client_dir` (an unpacked `@livetemplate/client` 0.25.1 package) the browser client is
/// served from it at `/_lvt` instead of being loaded from the CDN.
///
/// # Errors
///
/// The template does not compile.
pub fn app(client_dir: Option<PathBuf>) -> Result<App, Box<dyn std::error::Error + Send + Sync>> {
    let template = Template::builder("counter", TEMPLATE).build()?;
    let mut handler = LiveHandler::new(Counter, template).title("Counter");
    let mut app = App::new();
    if let Some(dir) = client_dir {
        handler = handler.client_assets("/_lvt");
        app = app.assets("/_lvt", dir);
    }
    Ok(app.page("/", handler))
}
