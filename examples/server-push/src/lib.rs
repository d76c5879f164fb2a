//! Server push: background work and a ticker updating a session's tabs without a click.
//!
//! - `start_job` takes a [`Session`] handle from the context and spawns the work; when it
//!   is done, `session.trigger(Self::JOB_DONE, …)` runs `job_done` on every live tab of
//!   the session, which renders the result.
//! - The connect hook starts one ticker per session group; it pushes `TICK` periodically
//!   and stops when the group has no live connection left (`PushError::Disconnected`).

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use livetemplate::prelude::*;
use livetemplate::{App, LiveHandler, PushError, Session, Template};
use serde_json::json;

const TEMPLATE: &str = r#"<article>
  <h3>Server Push</h3>
  <form method="POST">
    <button name="start_job">Start a slow job</button>
  </form>
  <p>{{#if working}}Working…{{else}}{{#if result}}Result: <strong>{{result}}</strong>{{else}}No result yet.{{/if}}{{/if}}</p>
  <p>Server ticks: <strong>{{ticks}}</strong></p>
</article>"#;

/// How long things take.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// How long the slow job runs.
    pub job_takes: Duration,
    /// How often the ticker pushes.
    pub tick_every: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            job_takes: Duration::from_secs(2),
            tick_every: Duration::from_secs(1),
        }
    }
}

/// The session groups whose ticker is running.
#[derive(Clone, Debug, Default)]
pub struct Tickers(Arc<Mutex<HashSet<String>>>);

impl Tickers {
    /// How many tickers are running.
    pub fn running(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashSet<String>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One connection: its job (if it started one) and what the server pushed.
#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
pub struct PushState {
    working: bool,
    result: String,
    ticks: i64,
}

/// The controller: settings and the running tickers.
#[derive(Default)]
pub struct ServerPush {
    settings: Settings,
    tickers: Tickers,
}

impl ServerPush {
    /// A controller with these timings.
    pub fn new(settings: Settings) -> ServerPush {
        ServerPush {
            settings,
            tickers: Tickers::default(),
        }
    }

    /// The running tickers (shared with the controller).
    pub fn tickers(&self) -> Tickers {
        self.tickers.clone()
    }
}

/// Push `TICK` to the session until it has no live connection.
async fn tick(session: Session, every: Duration, tickers: Tickers) {
    let mut n = 0;
    loop {
        tokio::time::sleep(every).await;
        n += 1;
        if let Err(PushError::Disconnected) = session.trigger(ServerPush::TICK, json!({ "n": n })) {
            // Checked again under the lock: a tab connecting now registers before its
            // connect hook looks for a running ticker.
            let mut running = tickers.lock();
            if !session.is_connected() {
                running.remove(session.group_id());
                return;
            }
        }
    }
}

#[controller(state = PushState)]
impl ServerPush {
    /// One ticker per session group, started by its first connection.
    #[on_connect]
    fn connected(&self, ctx: &mut Context) {
        let session = ctx.session();
        if self.tickers.lock().insert(session.group_id().to_string()) {
            tokio::spawn(tick(
                session,
                self.settings.tick_every,
                self.tickers.clone(),
            ));
        }
    }

    #[action]
    fn start_job(&self, state: &mut PushState, ctx: &mut Context) {
        state.working = true;
        let session = ctx.session();
        let takes = self.settings.job_takes;
        tokio::spawn(async move {
            tokio::time::sleep(takes).await; // the slow work
            let result = format!("done after {} ms", takes.as_millis());
            // Nobody left to show it to: nothing to do.
            let _ = session.trigger(Self::JOB_DONE, json!({ "result": result }));
        });
    }

    /// Pushed when the job is done, to every tab of the session.
    #[action(internal)]
    fn job_done(&self, state: &mut PushState, ctx: &Context) {
        state.working = false;
        state.result = ctx.get_str("result").unwrap_or_default();
    }

    /// Pushed by the ticker.
    #[action(internal)]
    fn tick(&self, state: &mut PushState, ctx: &Context) {
        state.ticks = ctx.get_i64("n").unwrap_or(state.ticks);
    }
}

/// The page with this controller.
///
/// # Errors
///
/// The template does not compile.
pub fn handler(
    controller: ServerPush,
) -> Result<LiveHandler<ServerPush>, Box<dyn std::error::Error + Send + Sync>> {
    let template = Template::builder("server-push", TEMPLATE).build()?;
    Ok(LiveHandler::new(controller, template).title("Server Push"))
}

/// The app: the page at `/` with the default timings; with `client_dir` (an unpacked
/// `@livetemplate/client` 0.25.1 package) the browser client is served from it at `/_lvt`.
///
/// # Errors
///
/// The template does not compile.
pub fn app(client_dir: Option<PathBuf>) -> Result<App, Box<dyn std::error::Error + Send + Sync>> {
    let mut handler = handler(ServerPush::default())?;
    let mut app = App::new();
    if let Some(dir) = client_dir {
        handler = handler.client_assets("/_lvt");
        app = app.assets("/_lvt", dir);
    }
    Ok(app.page("/", handler))
}
