//! Live dashboard: one ticker for the whole server refreshes every viewer.
//!
//! The metrics live on the controller. The first connection starts a single ticker task
//! that advances them and publishes `REFRESH` to [`TOPIC`] through a [`Publisher`]: an
//! out-of-band publish, immediate, excluding nobody. Every viewer subscribed in mount and
//! runs `refresh`, which copies the metrics and counts the pushes it received.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use livetemplate::prelude::*;
use livetemplate::{App, Broker, LiveHandler, Publisher, Template};
use tokio::task::JoinHandle;

/// The topic every viewer subscribes to.
pub const TOPIC: &str = "dashboard";

const TEMPLATE: &str = r#"<article>
  <h3>Live Dashboard</h3>
  <p>Tick <strong>{{metrics.tick}}</strong></p>
  <table>
    <tr><th>Active users</th><td>{{metrics.users}}</td></tr>
    <tr><th>Requests</th><td>{{metrics.requests}}</td></tr>
    <tr><th>Errors</th><td>{{metrics.errors}}</td></tr>
  </table>
  <p><small>Pushes received: {{pushes}}</small></p>
</article>"#;

/// The shared numbers.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Metrics {
    tick: u64,
    users: u64,
    requests: u64,
    errors: u64,
}

impl Metrics {
    /// One step of made-up traffic (deterministic).
    fn advance(&mut self) {
        self.tick += 1;
        let noise = self
            .tick
            .wrapping_mul(6_364_136_223_846_793_005)
            .rotate_left(17);
        self.users = 40 + noise % 25;
        self.requests += 100 + noise % 60;
        if noise % 7 == 0 {
            self.errors += 1;
        }
    }
}

/// One viewer: its copy of the metrics and how many refreshes reached it.
#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
pub struct DashboardState {
    metrics: Metrics,
    pushes: u64,
}

/// The metrics, the publisher and the one ticker.
pub struct Dashboard {
    metrics: Arc<Mutex<Metrics>>,
    publisher: Publisher,
    every: Duration,
    ticker: Mutex<Option<JoinHandle<()>>>,
}

impl Dashboard {
    fn snapshot(&self) -> Metrics {
        self.metrics
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Start the ticker unless it runs.
    fn ensure_ticker(&self) {
        let mut ticker = self.ticker.lock().unwrap_or_else(|e| e.into_inner());
        if ticker.as_ref().is_some_and(|t| !t.is_finished()) {
            return;
        }
        let (metrics, publisher, every) =
            (self.metrics.clone(), self.publisher.clone(), self.every);
        *ticker = Some(tokio::spawn(async move {
            loop {
                tokio::time::sleep(every).await;
                metrics.lock().unwrap_or_else(|e| e.into_inner()).advance();
                // Every subscriber, nobody excluded; zero viewers is fine.
                let _ = publisher.publish(TOPIC, Dashboard::REFRESH, ());
            }
        }));
    }
}

#[controller(state = DashboardState)]
impl Dashboard {
    #[mount]
    fn mount(&self, state: &mut DashboardState, ctx: &mut Context) -> Result<()> {
        ctx.subscribe(TOPIC)?;
        state.metrics = self.snapshot();
        Ok(())
    }

    #[on_connect]
    fn connected(&self) {
        self.ensure_ticker();
    }

    /// What the ticker's publish runs on every viewer.
    #[action(internal)]
    fn refresh(&self, state: &mut DashboardState) {
        state.metrics = self.snapshot();
        state.pushes += 1;
    }
}

/// The page, ticking every `every`. It has its own [`Broker`], whose publisher the
/// ticker uses; an [`App`] keeps it.
///
/// # Errors
///
/// The template does not compile.
pub fn handler(
    every: Duration,
) -> Result<LiveHandler<Dashboard>, Box<dyn std::error::Error + Send + Sync>> {
    let template = Template::builder("live-dashboard", TEMPLATE).build()?;
    let broker = Broker::new();
    let dashboard = Dashboard {
        metrics: Arc::default(),
        publisher: broker.publisher(),
        every,
        ticker: Mutex::new(None),
    };
    Ok(LiveHandler::new(dashboard, template)
        .title("Live Dashboard")
        .broker(broker)
        .topic_acl(|req| req.topic == TOPIC))
}

/// The app: the page at `/`, ticking every second; with `client_dir` (an unpacked
/// `@livetemplate/client` 0.25.1 package) the browser client is served from it at `/_lvt`.
///
/// # Errors
///
/// The template does not compile.
pub fn app(client_dir: Option<PathBuf>) -> Result<App, Box<dyn std::error::Error + Send + Sync>> {
    let mut handler = handler(Duration::from_secs(1))?;
    let mut app = App::new();
    if let Some(dir) = client_dir {
        handler = handler.client_assets("/_lvt");
        app = app.assets("/_lvt", dir);
    }
    Ok(app.page("/", handler))
}
