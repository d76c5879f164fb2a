//! Multi-user sync: a counter on the server, shown in every tab of a session.
//!
//! Mount subscribes each connection to its self topic (`ctx.self_topic()`: the tabs of
//! this browser) and reads the shared value, so a tab opened late starts right.
//! `increment` bumps the shared value, shows it, and publishes `REFRESH_COUNTER` to the
//! self topic; the other tabs run it and reload the value. The publishing tab is not a
//! receiver: it updated its own state in the action.

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};

use livetemplate::prelude::*;
use livetemplate::{App, LiveHandler, Template};

const TEMPLATE: &str = r#"<article>
  <h3>Multi-User Sync</h3>
  <p>Counter: <strong>{{counter}}</strong></p>
  <form method="POST">
    <button name="increment">Increment</button>
  </form>
  <p><small><strong>Try:</strong> open this page in a second tab and click Increment in either.</small></p>
</article>"#;

/// One connection's view: the last value it loaded.
#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
pub struct SyncState {
    counter: i64,
}

/// The shared counter (one per server).
#[derive(Default)]
pub struct SharedCounter {
    counter: AtomicI64,
}

#[controller(state = SyncState)]
impl SharedCounter {
    #[mount]
    fn mount(&self, state: &mut SyncState, ctx: &mut Context) -> Result<()> {
        let me = ctx.self_topic();
        ctx.subscribe(&me)?;
        state.counter = self.counter.load(Ordering::SeqCst);
        Ok(())
    }

    #[action]
    fn increment(&self, state: &mut SyncState, ctx: &mut Context) -> Result<()> {
        state.counter = self.counter.fetch_add(1, Ordering::SeqCst) + 1;
        let me = ctx.self_topic();
        ctx.publish(&me, Self::REFRESH_COUNTER, ())
    }

    /// What the other tabs run: reload the shared value. Not callable from a browser.
    #[action(internal)]
    fn refresh_counter(&self, state: &mut SyncState) {
        state.counter = self.counter.load(Ordering::SeqCst);
    }
}

/// The page.
///
/// # Errors
///
/// The template does not compile.
pub fn handler() -> Result<LiveHandler<SharedCounter>, Box<dyn std::error::Error + Send + Sync>> {
    let template = Template::builder("multi-user-sync", TEMPLATE).build()?;
    Ok(LiveHandler::new(SharedCounter::default(), template).title("Multi-User Sync"))
}

/// The app: the page at `/`; with `client_dir` (an unpacked `@livetemplate/client`
/// 0.25.1 package) the browser client is served from it at `/_lvt`.
///
/// # Errors
///
/// The template does not compile.
pub fn app(client_dir: Option<PathBuf>) -> Result<App, Box<dyn std::error::Error + Send + Sync>> {
    let mut handler = handler()?;
    let mut app = App::new();
    if let Some(dir) = client_dir {
        handler = handler.client_assets("/_lvt");
        app = app.assets("/_lvt", dir);
    }
    Ok(app.page("/", handler))
}
