//! What the example binaries share: how they are configured (command line and
//! environment), how an app is wired to Redis to run as one of several replicas, and
//! serving on `127.0.0.1:$PORT`.
//!
//! Every example accepts:
//!
//! | Flag | Environment | Effect |
//! |---|---|---|
//! | `--redis URL` | `LT_REDIS_URL` | run as a replica: persisted fields in Redis, publishes, pushes and syncs through Redis pub/sub, the example's shared data in Redis |
//! | `--redis-prefix P` | `LT_REDIS_PREFIX` | the namespace of every Redis key and channel (default `livetemplate:`); replicas of one app use the same |
//! | | `PORT` | the port on 127.0.0.1 (default 8080) |
//! | | `LT_CLIENT_DIR` | serve the browser client from this unpacked `@livetemplate/client` 0.25.1 instead of the CDN |

use std::path::PathBuf;

use livetemplate::replica::RedisFanout;
use livetemplate::store::{RedisConnector, RedisStore};
use livetemplate::{App, Controller, LiveHandler};

/// Any error of setting up or serving an example.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The default namespace of Redis keys and channels.
pub const DEFAULT_PREFIX: &str = "livetemplate:";

/// How an example runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// Run as a replica on the Redis at this URL (default: alone, everything in memory).
    pub redis_url: Option<String>,
    /// Namespace of Redis keys and channels.
    pub prefix: String,
    /// Serve the browser client from this directory instead of the CDN.
    pub client_dir: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            redis_url: None,
            prefix: DEFAULT_PREFIX.to_string(),
            client_dir: None,
        }
    }
}

impl Config {
    /// Read `--redis URL` and `--redis-prefix P` (also `--flag=value`) from `args`
    /// (without the program name), falling back to `LT_REDIS_URL`, `LT_REDIS_PREFIX`
    /// and `LT_CLIENT_DIR` through `env`.
    ///
    /// # Errors
    ///
    /// An unknown argument, a flag without its value, or an empty prefix.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, String> {
        let mut redis_url = env("LT_REDIS_URL").filter(|u| !u.is_empty());
        let mut prefix = env("LT_REDIS_PREFIX");
        let client_dir = env("LT_CLIENT_DIR").map(PathBuf::from);
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) => (f.to_string(), Some(v.to_string())),
                None => (arg, None),
            };
            let slot = match flag.as_str() {
                "--redis" => &mut redis_url,
                "--redis-prefix" => &mut prefix,
                other => return Err(format!("unknown argument `{other}`")),
            };
            match inline.or_else(|| args.next()) {
                Some(v) => *slot = Some(v),
                None => return Err(format!("`{flag}` needs a value")),
            }
        }
        let prefix = prefix.unwrap_or_else(|| DEFAULT_PREFIX.to_string());
        if prefix.is_empty() {
            return Err("the Redis prefix is empty".into());
        }
        Ok(Config {
            redis_url,
            prefix,
            client_dir,
        })
    }

    /// The configuration of this process (its arguments and environment).
    ///
    /// # Errors
    ///
    /// As [`Config::parse`], with a usage line.
    pub fn from_process(name: &str) -> Result<Config, String> {
        Config::parse(std::env::args().skip(1), |k| std::env::var(k).ok())
            .map_err(|e| format!("{e}\nusage: {name} [--redis URL] [--redis-prefix PREFIX]"))
    }

    /// The Redis this example runs on, if any. Does not connect.
    ///
    /// # Errors
    ///
    /// An invalid Redis URL.
    pub fn redis(&self) -> Result<Option<Redis>, BoxError> {
        let Some(url) = &self.redis_url else {
            return Ok(None);
        };
        Ok(Some(Redis {
            connector: RedisConnector::new(url)?,
            prefix: self.prefix.clone(),
        }))
    }
}

/// The Redis of a replica: one connection setup for the session store, the fan-out and
/// the example's own data, and the namespace of its keys.
#[derive(Clone, Debug)]
pub struct Redis {
    /// The shared connection setup.
    pub connector: RedisConnector,
    /// The namespace of keys and channels (`livetemplate:` by default).
    pub prefix: String,
}

impl Redis {
    /// The key `name` in this namespace: `<prefix><name>`.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The shared connection (opened on first use).
    ///
    /// # Errors
    ///
    /// Redis cannot be reached.
    pub async fn connection(&self) -> redis::RedisResult<redis::aio::ConnectionManager> {
        self.connector.connection().await
    }
}

/// The app of an example: `handler` at `path`, the client served from
/// [`Config::client_dir`] when given, and with Redis the session store and the fan-out
/// under [`Config::prefix`].
///
/// # Errors
///
/// An invalid Redis configuration.
pub fn app<C: Controller>(
    config: &Config,
    path: &str,
    handler: LiveHandler<C>,
) -> Result<App, BoxError> {
    let mut handler = handler;
    let mut app = App::new();
    if let Some(dir) = &config.client_dir {
        handler = handler.client_assets("/_lvt");
        app = app.assets("/_lvt", dir);
    }
    let app = app.page(path, handler);
    replicate(app, config.redis()?.as_ref())
}

/// `app` as a replica on `redis` (unchanged without): persisted fields in a
/// [`RedisStore`] keyed `<prefix>session:…`, and a [`RedisFanout`] on channels
/// `<prefix>topic:…` and `<prefix>group:…`, both on the one connector.
///
/// # Errors
///
/// An invalid prefix, or an app that already has a fan-out.
pub fn replicate(app: App, redis: Option<&Redis>) -> Result<App, BoxError> {
    let Some(redis) = redis else {
        return Ok(app);
    };
    let store = RedisStore::builder(redis.connector.clone())
        .key_prefix(redis.key("session:"))
        .build()?;
    let fanout = RedisFanout::builder(redis.connector.clone())
        .prefix(&redis.prefix)
        .build()?;
    Ok(app.session_store(store).fanout(fanout)?)
}

/// Serve `app` on `127.0.0.1:$PORT` (default 8080), printing `<name>: http://<addr>`
/// once listening, until Ctrl-C or `SIGTERM`; then shut down gracefully (WebSockets
/// close with "going away" so browsers reconnect, to another replica if one runs, and
/// disconnect hooks run).
///
/// # Errors
///
/// The port cannot be bound, or the signal handlers cannot be installed.
pub async fn serve(name: &str, config: &Config, app: App) -> Result<(), BoxError> {
    let port = std::env::var("PORT")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(8080u16);
    let stop = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("{name}: http://{}", listener.local_addr()?);
    match &config.redis_url {
        Some(_) => eprintln!(
            "{name}: replica on Redis (prefix {}): run more with another PORT",
            config.prefix
        ),
        None => eprintln!("{name}: single instance, state in memory"),
    }
    livetemplate::serve_with_shutdown(listener, app, stop).await?;
    eprintln!("{name}: stopped");
    Ok(())
}

/// Resolves on Ctrl-C (`SIGINT`) or `SIGTERM` (what process managers send). The
/// handlers are installed here, before the server announces itself, so a signal that
/// comes early is never the default "terminate at once".
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}

/// Resolves on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
}

/// The `main` of an example: logs, configuration from the process, `build`, serve.
///
/// # Errors
///
/// Bad arguments, a failing `build`, or a port that cannot be bound.
pub async fn main(
    name: &str,
    build: impl FnOnce(&Config) -> Result<App, BoxError>,
) -> Result<(), BoxError> {
    tracing_subscriber::fmt::init();
    let config = Config::from_process(name)?;
    let app = build(&config)?;
    serve(name, &config, app).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn flags_override_the_environment() {
        let env = |k: &str| (k == "LT_REDIS_URL").then(|| "redis://env/".to_string());
        let c = Config::parse(args(&[]), env).expect("config");
        assert_eq!(c.redis_url.as_deref(), Some("redis://env/"));
        assert_eq!(c.prefix, DEFAULT_PREFIX);
        let c = Config::parse(
            args(&["--redis", "redis://flag/", "--redis-prefix=p:"]),
            env,
        )
        .expect("config");
        assert_eq!(c.redis_url.as_deref(), Some("redis://flag/"));
        assert_eq!(c.prefix, "p:");
        let redis = c.redis().expect("valid").expect("configured");
        assert_eq!(redis.key("chat:log"), "p:chat:log");
    }

    #[test]
    fn bad_arguments_are_explained() {
        let none = |_: &str| None;
        assert_eq!(
            Config::parse(args(&["--nope"]), none),
            Err("unknown argument `--nope`".into())
        );
        assert_eq!(
            Config::parse(args(&["--redis"]), none),
            Err("`--redis` needs a value".into())
        );
        assert_eq!(
            Config::parse(args(&["--redis-prefix="]), none),
            Err("the Redis prefix is empty".into())
        );
        assert!(Config::parse(args(&["--redis", "not a url"]), none)
            .expect("parsed")
            .redis()
            .is_err());
        assert_eq!(Config::parse(args(&[]), none), Ok(Config::default()));
    }
}
