//! Several replicas of the real-time examples, linked through the Redis on 127.0.0.1:6379,
//! in headless Chromium: tabs and browsers on different replicas behave as on one instance.
//!
//! Each test serves its replicas in-process on free ports, under a Redis prefix of its own,
//! and runs one Node scenario (`tests/browser/replicas_<example>.js`) given every replica's URL.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use example_support::{Config, Redis};
use livetemplate::store::RedisConnector;
use livetemplate::App;
use livetemplate_tests::{run_served_replicas, unique_prefix, BoxError, SHARED_REDIS};
use server_push::{ServerPush, Settings, Tickers};

/// Serve `count` replicas of the example whose app `build` makes from a configuration.
fn replicas(name: &str, count: usize, build: fn(&Config) -> Result<App, BoxError>) {
    let config = Config {
        redis_url: Some(SHARED_REDIS.to_string()),
        prefix: unique_prefix(name),
        client_dir: None,
    };
    run_served_replicas(
        name,
        count,
        move |_, listener| {
            let app = build(&config);
            Box::pin(async move {
                livetemplate::transport::serve_listener(listener, app?).await?;
                Ok(())
            })
        },
        |command| Err(format!("unknown control command {command:?}")),
    );
}

/// Tabs of one session on three replicas count together; another session is not pushed to.
#[test]
fn replicas_multi_user_sync() {
    replicas("replicas_multi_user_sync", 3, multi_user_sync::app);
}

/// Browsers on two replicas chat live; a late joiner on either sees the history.
#[test]
fn replicas_chat() {
    replicas("replicas_chat", 2, chat::app);
}

/// Visitors on two replicas list each other; leaving and closing show on the other.
#[test]
fn replicas_presence() {
    replicas("replicas_presence", 2, presence::app);
}

/// How long the test waits for the number of tickers a scenario expects.
const TICKER_PATIENCE: Duration = Duration::from_secs(8);

/// `tickers <n>`: waits until the replicas run `n` tickers between them.
fn expect_tickers(all: &Mutex<Vec<Tickers>>, command: &str) -> Result<(), String> {
    let want: usize = command
        .strip_prefix("tickers ")
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| format!("unknown control command {command:?}"))?;
    let deadline = Instant::now() + TICKER_PATIENCE;
    loop {
        let running: usize = all
            .lock()
            .map_err(|_| "the tickers are poisoned".to_string())?
            .iter()
            .map(Tickers::running)
            .sum();
        if running == want {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!("{running} tickers run, expected {want}"));
        }
        thread::sleep(Duration::from_millis(50));
    }
}

/// A job started on one replica reaches the session's tab on the other; one ticker serves
/// the session on both and stops with it.
#[test]
fn replicas_server_push() {
    let name = "replicas_server_push";
    let prefix = unique_prefix(name);
    let tickers: Arc<Mutex<Vec<Tickers>>> = Arc::default();
    let seen = tickers.clone();
    run_served_replicas(
        name,
        2,
        move |_, listener| {
            let prefix = prefix.clone();
            let seen = seen.clone();
            Box::pin(async move {
                let redis = Redis {
                    connector: RedisConnector::new(SHARED_REDIS)?,
                    prefix,
                };
                let controller = ServerPush::replicated(Settings::default(), redis.clone());
                if let Ok(mut all) = seen.lock() {
                    all.push(controller.tickers());
                }
                let app = App::new().page("/", server_push::handler(controller)?);
                let app = example_support::replicate(app, Some(&redis))?;
                livetemplate::transport::serve_listener(listener, app).await?;
                Ok(())
            })
        },
        |command| expect_tickers(&tickers, command),
    );
}
