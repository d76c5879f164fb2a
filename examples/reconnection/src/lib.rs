//! Reconnection: a form whose `#[persist]` fields survive a dropped WebSocket, a reload
//! and (with the Redis store) a server restart, next to a field that does not.
//!
//! The binary (`src/main.rs`) serves [`app`]; tests build it in-process.

use livetemplate::prelude::*;
use livetemplate::{App, LiveHandler, Template};

const TEMPLATE: &str = r#"<main>
  <h1>Reconnection</h1>
  <form method="POST">
    <p>Counter (persisted): <output id="counter">{{counter}}</output>
      <button name="increment">+1</button></p>
  </form>
  <form method="POST">
    <p><label>Notes (persisted) <input name="notes" value="{{notes}}"></label></p>
    <p><label>Draft (not persisted) <input name="draft" value="{{draft}}"></label></p>
    <button name="save">Save</button>
  </form>
  <p>Notes: <span id="notes">{{notes}}</span></p>
  <p>Draft: <span id="draft">{{draft}}</span></p>
</main>"#;

/// The page's state: `counter` and `notes` are persisted, `draft` is not.
#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
pub struct Form {
    /// Clicks on "+1"; persisted.
    #[persist]
    pub counter: i64,
    /// Saved notes; persisted.
    #[persist]
    pub notes: String,
    /// Typed with the notes but not persisted: gone after a reconnect or reload.
    pub draft: String,
}

/// The controller (no dependencies).
pub struct Reconnection;

#[controller(state = Form)]
impl Reconnection {
    /// `+1`.
    #[action]
    fn increment(&self, state: &mut Form) {
        state.counter += 1;
    }

    /// Store the typed notes and draft.
    #[action]
    fn save(&self, state: &mut Form, ctx: &mut Context) {
        state.notes = ctx.get_str("notes").unwrap_or_default();
        state.draft = ctx.get_str("draft").unwrap_or_default();
    }
}

pub use example_support::Config;

/// The page handler (memory store unless the [`App`] gives it another).
///
/// # Errors
///
/// Never in practice: the template is fixed.
pub fn handler() -> Result<LiveHandler<Reconnection>, example_support::BoxError> {
    let template = Template::builder("reconnection", TEMPLATE).build()?;
    Ok(LiveHandler::new(Reconnection, template).title("Reconnection"))
}

/// The app: the page at `/`, its persisted fields in Redis when configured (keys
/// `<prefix>session:<group>|/`).
///
/// # Errors
///
/// An invalid Redis URL. Redis being down is not an error: pages still work, saves are
/// retried and logged.
pub fn app(config: &Config) -> Result<App, example_support::BoxError> {
    example_support::app(config, "/", handler()?)
}
