//! The counter: a live page with two buttons that also works without JavaScript.
//!
//! [`app`] builds the app. The binary (`cargo run -p counter`) serves it on
//! `127.0.0.1:$PORT` (default 8080); tests serve it on a free port.

use example_support::{BoxError, Config};
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

/// The app: the page at `/`; with Redis in `config` its persisted count in Redis (and
/// a replica of the others on that Redis).
///
/// # Errors
///
/// The template does not compile, or the Redis configuration is invalid.
pub fn app(config: &Config) -> Result<App, BoxError> {
    let template = Template::builder("counter", TEMPLATE).build()?;
    let handler = LiveHandler::new(Counter, template).title("Counter");
    example_support::app(config, "/", handler)
}
