//! Multi-user sync: a counter on the server, shown in every tab of a session.
//!
//! Mount subscribes each connection to its self topic (`ctx.self_topic()`: the tabs of
//! this browser) and reads the shared value, so a tab opened late starts right.
//! `increment` bumps the shared value, shows it, and publishes `REFRESH_COUNTER` to the
//! self topic; the other tabs run it and reload the value. The publishing tab is not a
//! receiver: it updated its own state in the action.
//!
//! The shared value lives in this process ([`Counter::Memory`]) or, when the example
//! runs as one of several replicas, in Redis ([`Counter::Redis`], one `INCR` key), so
//! that tabs on different replicas count together. The controller is the same either
//! way; the publish reaches the tabs on the other replicas through the app's fan-out.

use std::sync::atomic::{AtomicI64, Ordering};

use example_support::{BoxError, Config, Redis};
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

/// Where the shared counter lives.
pub enum Counter {
    /// In this process.
    Memory(AtomicI64),
    /// In Redis, under `<prefix>multi-user-sync:counter`, shared by every replica.
    Redis(Redis),
}

impl Counter {
    async fn get(&self) -> Result<i64> {
        match self {
            Counter::Memory(n) => Ok(n.load(Ordering::SeqCst)),
            Counter::Redis(r) => {
                let mut conn = r.connection().await.map_err(unavailable)?;
                let n: Option<i64> = redis::cmd("GET")
                    .arg(r.key("multi-user-sync:counter"))
                    .query_async(&mut conn)
                    .await
                    .map_err(unavailable)?;
                Ok(n.unwrap_or(0))
            }
        }
    }

    async fn increment(&self) -> Result<i64> {
        match self {
            Counter::Memory(n) => Ok(n.fetch_add(1, Ordering::SeqCst) + 1),
            Counter::Redis(r) => {
                let mut conn = r.connection().await.map_err(unavailable)?;
                redis::cmd("INCR")
                    .arg(r.key("multi-user-sync:counter"))
                    .query_async(&mut conn)
                    .await
                    .map_err(unavailable)
            }
        }
    }
}

fn unavailable(e: redis::RedisError) -> Error {
    Error::msg(format!("the shared counter is unavailable: {e}"))
}

/// The shared counter (one per app).
pub struct SharedCounter {
    counter: Counter,
}

impl Default for SharedCounter {
    fn default() -> SharedCounter {
        SharedCounter {
            counter: Counter::Memory(AtomicI64::new(0)),
        }
    }
}

#[controller(state = SyncState)]
impl SharedCounter {
    #[mount]
    async fn mount(&self, state: &mut SyncState, ctx: &mut Context) -> Result<()> {
        let me = ctx.self_topic();
        ctx.subscribe(&me)?;
        state.counter = self.counter.get().await?;
        Ok(())
    }

    #[action]
    async fn increment(&self, state: &mut SyncState, ctx: &mut Context) -> Result<()> {
        state.counter = self.counter.increment().await?;
        let me = ctx.self_topic();
        ctx.publish(&me, Self::REFRESH_COUNTER, ())
    }

    /// What the other tabs run: reload the shared value. Not callable from a browser.
    #[action(internal)]
    async fn refresh_counter(&self, state: &mut SyncState) -> Result<()> {
        state.counter = self.counter.get().await?;
        Ok(())
    }
}

/// The page, counting in `counter`.
///
/// # Errors
///
/// The template does not compile.
pub fn handler(counter: Counter) -> Result<LiveHandler<SharedCounter>, BoxError> {
    let template = Template::builder("multi-user-sync", TEMPLATE).build()?;
    Ok(LiveHandler::new(SharedCounter { counter }, template).title("Multi-User Sync"))
}

/// The app: the page at `/`; with Redis in `config` a replica whose counter is in Redis.
///
/// # Errors
///
/// The template does not compile, or the Redis configuration is invalid.
pub fn app(config: &Config) -> Result<App, BoxError> {
    let counter = match config.redis()? {
        Some(redis) => Counter::Redis(redis),
        None => Counter::Memory(AtomicI64::new(0)),
    };
    example_support::app(config, "/", handler(counter)?)
}
