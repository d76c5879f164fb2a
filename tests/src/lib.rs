//! Helpers shared by the livetemplate-rs integration and browser tests.
//!
//! - [`TestServer`]: runs an app on `127.0.0.1` (a free port by default) on its own Tokio runtime,
//!   so that stopping it closes every connection, as a process exit would; it can be restarted on
//!   the same port.
//! - [`BrowserEnv`]: finds Node.js, Chromium and the npm packages of `tests/browser`, and runs a
//!   browser scenario (`node tests/browser/<name>.js <url>`) with a timeout, answering the
//!   scenario's control requests (such as "restart the server").
//! - [`ExampleProcess`]: an example binary running as its own process (e.g. one replica).
//! - [`run_served_replicas`]: several replicas of one app, one browser scenario across them.
//! - [`workspace_root`], [`shared_dir`], [`browser_dir`]: where things are;
//!   [`unique_prefix`]: a Redis namespace no other test uses.
//!
//! Browser tests fail with an actionable message when something they need is missing, unless
//! `LT_SKIP_BROWSER=1` is set; then they print that they skip.

mod node;
mod process;
mod server;

use std::path::{Path, PathBuf};

pub use node::{BrowserEnv, NodeOutput, SetupError, SKIP_ENV};
pub use process::ExampleProcess;
pub use server::{BoxError, ServeFuture, ServerError, TestServer};

/// The root of the Cargo workspace (the directory holding the top-level `Cargo.toml`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

/// The shared specification folder beside the workspace (`<root>/../shared`), if it is there.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = workspace_root().join("..").join("shared");
    dir.is_dir().then_some(dir)
}

/// The folder of the browser scenarios and their `package.json` (`<root>/tests/browser`).
pub fn browser_dir() -> PathBuf {
    workspace_root().join("tests").join("browser")
}

/// Serve `serve` on a free port of 127.0.0.1, run the Node scenario `name` against it
/// (a scenario that sends no control commands), check that it passed and that the server
/// stopped without errors. Skips (prints why) when [`BrowserEnv::for_test`] says so.
///
/// # Panics
///
/// When the server cannot start, the scenario fails, or serving ended in an error.
pub fn run_served_scenario<F>(name: &str, serve: F)
where
    F: Fn(tokio::net::TcpListener) -> ServeFuture + Send + Sync + 'static,
{
    let Some(env) = BrowserEnv::for_test(name) else {
        return;
    };
    let mut server = TestServer::start(serve).expect("start the app under test");
    let output = env
        .run_scenario(name, &server.url(), |command| {
            Err(format!("unknown control command {command:?}"))
        })
        .expect("run the scenario with node");
    print!("{}", output.stdout);
    output.assert_passed();
    server.stop().expect("the app served without errors");
}

/// The Redis every test process shares.
pub const SHARED_REDIS: &str = "redis://127.0.0.1:6379/";

/// A Redis key and channel prefix that no other test, test process or run uses, so that
/// tests sharing one Redis stay apart.
pub fn unique_prefix(test: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("lt-test:{test}:{}:{nanos}:", std::process::id())
}

/// Waits (up to 20 s) until `n` clients subscribe to the Redis pub/sub `channel` of the
/// Redis at [`SHARED_REDIS`] (for example both replicas of an example, before a test
/// publishes).
///
/// # Panics
///
/// When Redis cannot be reached, or the count is not reached in time.
pub fn wait_for_subscribers(channel: &str, n: i64) {
    let client = redis::Client::open(SHARED_REDIS).expect("Redis URL");
    let mut conn = client
        .get_connection()
        .expect("Redis is running on 127.0.0.1:6379 (scripts/setup starts it)");
    let mut last = -1;
    for _ in 0..2000 {
        let (_, count): (String, i64) = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(channel)
            .query(&mut conn)
            .expect("PUBSUB NUMSUB");
        if count == n {
            return;
        }
        last = count;
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    panic!("{channel}: {last} subscribers, expected {n}");
}

/// Whether `key` exists in the Redis at [`SHARED_REDIS`].
///
/// # Panics
///
/// When Redis cannot be reached.
pub fn redis_key_exists(key: &str) -> bool {
    let client = redis::Client::open(SHARED_REDIS).expect("Redis URL");
    let mut conn = client.get_connection().expect("Redis is running");
    redis::cmd("EXISTS")
        .arg(key)
        .query::<i64>(&mut conn)
        .expect("EXISTS")
        == 1
}

/// Serve `count` replicas of one app on free ports (`serve(i, listener)` serves replica
/// `i`), run the Node scenario `name` with all their URLs (`ctx.urls`), answering its
/// control commands with `control`, and check that it passed and that every replica
/// stopped without errors. Skips (prints why) when [`BrowserEnv::for_test`] says so.
///
/// # Panics
///
/// When a replica cannot start, the scenario fails, or serving ended in an error.
pub fn run_served_replicas<F>(
    name: &str,
    count: usize,
    serve: F,
    control: impl FnMut(&str) -> Result<(), String>,
) where
    F: Fn(usize, tokio::net::TcpListener) -> ServeFuture + Send + Sync + Clone + 'static,
{
    let Some(env) = BrowserEnv::for_test(name) else {
        return;
    };
    let mut servers: Vec<TestServer> = (0..count)
        .map(|i| {
            let serve = serve.clone();
            TestServer::start(move |listener| serve(i, listener)).expect("start a replica")
        })
        .collect();
    let urls: Vec<String> = servers.iter().map(TestServer::url).collect();
    let urls: Vec<&str> = urls.iter().map(String::as_str).collect();
    let output = env
        .run_scenario_on(name, &urls, control)
        .expect("run the scenario with node");
    print!("{}", output.stdout);
    output.assert_passed();
    for server in &mut servers {
        server.stop().expect("the replica served without errors");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workspace_root_holds_the_workspace_manifest() {
        let manifest = std::fs::read_to_string(workspace_root().join("Cargo.toml"))
            .expect("the workspace root has a Cargo.toml");
        assert!(manifest.contains("[workspace]"), "{manifest}");
        assert!(
            manifest.contains("\"tests\""),
            "tests is a workspace member"
        );
    }

    #[test]
    fn browser_dir_holds_the_scenarios() {
        let dir = browser_dir();
        for file in [
            "package.json",
            "package-lock.json",
            "lib/harness.js",
            "click_patch.js",
        ] {
            assert!(
                dir.join(file).is_file(),
                "missing {}",
                dir.join(file).display()
            );
        }
    }
}
