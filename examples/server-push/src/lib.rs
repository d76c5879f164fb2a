//! Server push: background work and a ticker updating a session's tabs without a click.
//!
//! - `start_job` takes a [`Session`] handle from the context and spawns the work; when it
//!   is done, `session.trigger(Self::JOB_DONE, …)` runs `job_done` on every live tab of
//!   the session, which renders the result.
//! - The connect hook starts one ticker per session group; it pushes `TICK` periodically
//!   and stops when the group has no live connection left (`PushError::Disconnected`).
//! - With `--redis` (several replicas) pushes reach the session's tabs on every replica,
//!   and a lease in Redis keeps one ticker per session over all of them: the replica
//!   holding it ticks and renews it; the others wait and take over when it is released
//!   or expires.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use example_support::{BoxError, Config, Redis};
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

/// Who may run a session's ticker when there are several replicas: a lease in Redis,
/// `<prefix>server-push:ticker:<group>`, held by one replica and renewed every tick.
#[derive(Clone, Debug)]
struct Lease {
    redis: Redis,
    /// This process's token (the lease's value while it holds it).
    token: String,
}

/// Renew the lease if it is still ours.
const RENEW: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end";
/// Release the lease if it is still ours.
const RELEASE: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end";

impl Lease {
    fn key(&self, group: &str) -> String {
        self.redis.key(&format!("server-push:ticker:{group}"))
    }

    /// Take the lease of `group` for `ttl`; whether this process holds it now.
    async fn acquire(&self, group: &str, ttl: Duration) -> redis::RedisResult<bool> {
        let mut conn = self.redis.connection().await?;
        let set: Option<String> = redis::cmd("SET")
            .arg(self.key(group))
            .arg(&self.token)
            .arg("NX")
            .arg("PX")
            .arg(ttl_ms(ttl))
            .query_async(&mut conn)
            .await?;
        Ok(set.is_some())
    }

    /// Keep the lease for another `ttl`; `false` when it is no longer ours.
    async fn renew(&self, group: &str, ttl: Duration) -> redis::RedisResult<bool> {
        let mut conn = self.redis.connection().await?;
        let n: i64 = redis::Script::new(RENEW)
            .key(self.key(group))
            .arg(&self.token)
            .arg(ttl_ms(ttl))
            .invoke_async(&mut conn)
            .await?;
        Ok(n == 1)
    }

    async fn release(&self, group: &str) -> redis::RedisResult<()> {
        let mut conn = self.redis.connection().await?;
        redis::Script::new(RELEASE)
            .key(self.key(group))
            .arg(&self.token)
            .invoke_async::<i64>(&mut conn)
            .await?;
        Ok(())
    }
}

fn ttl_ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1)
}

/// The controller: settings, the running tickers and, with several replicas, the lease
/// that keeps one ticker per session across them.
#[derive(Default)]
pub struct ServerPush {
    settings: Settings,
    tickers: Tickers,
    lease: Option<Lease>,
    /// Sessions whose ticker runs on another replica, watched by a standby task here.
    waiting: Tickers,
}

impl ServerPush {
    /// A controller with these timings, for a single instance.
    pub fn new(settings: Settings) -> ServerPush {
        ServerPush {
            settings,
            tickers: Tickers::default(),
            lease: None,
            waiting: Tickers::default(),
        }
    }

    /// A controller with these timings for one of several replicas on `redis`: one
    /// ticker per session over all of them.
    pub fn replicated(settings: Settings, redis: Redis) -> ServerPush {
        ServerPush {
            settings,
            tickers: Tickers::default(),
            lease: Some(Lease {
                redis,
                token: format!("{:016x}", rand::random::<u64>()),
            }),
            waiting: Tickers::default(),
        }
    }

    /// The tickers running in this process (shared with the controller).
    pub fn tickers(&self) -> Tickers {
        self.tickers.clone()
    }
}

/// Push `TICK` to the session until it has no live connection (or, with a lease,
/// until the lease is lost).
async fn tick(session: Session, every: Duration, tickers: Tickers, lease: Option<Lease>) {
    let ttl = every * 3;
    let group = session.group_id().to_string();
    let mut n = 0;
    loop {
        tokio::time::sleep(every).await;
        n += 1;
        if let Some(lease) = &lease {
            match lease.renew(&group, ttl).await {
                Ok(true) => {}
                Ok(false) => {
                    // Another replica took over (this one was too slow to renew).
                    tickers.lock().remove(&group);
                    return;
                }
                Err(e) => tracing::warn!(error = %e, "ticker lease not renewed; ticking on"),
            }
        }
        if let Err(PushError::Disconnected) = session.trigger(ServerPush::TICK, json!({ "n": n })) {
            // Checked again under the lock: a tab connecting now registers before its
            // connect hook looks for a running ticker.
            let stopped = {
                let mut running = tickers.lock();
                let gone = !session.is_connected();
                if gone {
                    running.remove(&group);
                }
                gone
            };
            if stopped {
                if let Some(lease) = &lease {
                    if let Err(e) = lease.release(&group).await {
                        tracing::warn!(error = %e, "ticker lease not released; it expires");
                    }
                }
                return;
            }
        }
    }
}

/// With several replicas: wait for the lease of a session whose ticker runs elsewhere,
/// and take over when it is free (the other replica stopped, or died).
async fn standby(
    session: Session,
    every: Duration,
    tickers: Tickers,
    waiting: Tickers,
    lease: Lease,
) {
    let group = session.group_id().to_string();
    loop {
        tokio::time::sleep(every * 3).await;
        // A ticker started here meanwhile, or no tab of the session is left here (one
        // connecting later starts over in its connect hook).
        if tickers.lock().contains(&group) || !session.is_connected() {
            break;
        }
        match lease.acquire(&group, every * 3).await {
            Ok(true) => {
                tickers.lock().insert(group.clone());
                waiting.lock().remove(&group);
                tick(session, every, tickers, Some(lease)).await;
                return;
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "ticker lease unavailable"),
        }
    }
    waiting.lock().remove(&group);
}

#[controller(state = PushState)]
impl ServerPush {
    /// One ticker per session group (over every replica), started by its first
    /// connection.
    #[on_connect]
    async fn connected(&self, ctx: &mut Context) {
        let session = ctx.session();
        let group = session.group_id().to_string();
        if !self.tickers.lock().insert(group.clone()) {
            return;
        }
        let every = self.settings.tick_every;
        let Some(lease) = self.lease.clone() else {
            tokio::spawn(tick(session, every, self.tickers.clone(), None));
            return;
        };
        match lease.acquire(&group, every * 3).await {
            Ok(true) => {
                tokio::spawn(tick(session, every, self.tickers.clone(), Some(lease)));
            }
            held_or_failed => {
                if let Err(e) = held_or_failed {
                    tracing::warn!(error = %e, "ticker lease unavailable");
                }
                self.tickers.lock().remove(&group);
                if self.waiting.lock().insert(group) {
                    tokio::spawn(standby(
                        session,
                        every,
                        self.tickers.clone(),
                        self.waiting.clone(),
                        lease,
                    ));
                }
            }
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
pub fn handler(controller: ServerPush) -> Result<LiveHandler<ServerPush>, BoxError> {
    let template = Template::builder("server-push", TEMPLATE).build()?;
    Ok(LiveHandler::new(controller, template).title("Server Push"))
}

/// The app: the page at `/` with the default timings; with Redis in `config` one of
/// several replicas sharing one ticker per session.
///
/// # Errors
///
/// The template does not compile, or the Redis configuration is invalid.
pub fn app(config: &Config) -> Result<App, BoxError> {
    let controller = match config.redis()? {
        Some(redis) => ServerPush::replicated(Settings::default(), redis),
        None => ServerPush::default(),
    };
    example_support::app(config, "/", handler(controller)?)
}
