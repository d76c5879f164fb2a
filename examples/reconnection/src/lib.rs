//! Reconnection: a form whose `#[persist]` fields survive a dropped WebSocket, a reload
//! and (with the Redis store) a server restart, next to a field that does not.
//!
//! The binary (`src/main.rs`) serves [`app`]; tests build it in-process.

use std::path::PathBuf;

use livetemplate::prelude::*;
use livetemplate::store::{RedisConnector, RedisStore};
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

/// How to run the example.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Config {
    /// Keep persisted fields in Redis at this URL (default: in memory).
    pub redis_url: Option<String>,
    /// Redis key prefix (default `livetemplate:session:`).
    pub redis_prefix: Option<String>,
    /// Serve the browser client from this directory instead of the CDN.
    pub client_dir: Option<PathBuf>,
}

impl Config {
    /// Read `--redis URL` and `--redis-prefix P` from `args` (without the program
    /// name), falling back to `LT_REDIS_URL` / `LT_REDIS_PREFIX` through `env`, and
    /// `LT_CLIENT_DIR`.
    ///
    /// # Errors
    ///
    /// An unknown argument or a flag without its value.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, String> {
        let mut config = Config {
            redis_url: env("LT_REDIS_URL"),
            redis_prefix: env("LT_REDIS_PREFIX"),
            client_dir: env("LT_CLIENT_DIR").map(PathBuf::from),
        };
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((f, v)) => (f.to_string(), Some(v.to_string())),
                None => (arg, None),
            };
            let slot = match flag.as_str() {
                "--redis" => &mut config.redis_url,
                "--redis-prefix" => &mut config.redis_prefix,
                other => return Err(format!("unknown argument `{other}`")),
            };
            match inline.or_else(|| args.next()) {
                Some(v) => *slot = Some(v),
                None => return Err(format!("`{flag}` needs a value")),
            }
        }
        Ok(config)
    }
}

/// The page handler (memory store unless the [`App`] gives it another).
///
/// # Errors
///
/// Never in practice: the template is fixed.
pub fn handler() -> Result<LiveHandler<Reconnection>, Box<dyn std::error::Error>> {
    let template = Template::builder("reconnection", TEMPLATE).build()?;
    Ok(LiveHandler::new(Reconnection, template).title("Reconnection"))
}

/// The app: the page at `/`, its persisted fields in Redis when configured.
///
/// # Errors
///
/// An invalid Redis URL. Redis being down is not an error: pages still work, saves are
/// retried and logged.
pub fn app(config: &Config) -> Result<App, Box<dyn std::error::Error>> {
    let mut handler = handler()?;
    let mut app = App::new();
    if let Some(dir) = &config.client_dir {
        handler = handler.client_assets("/_lvt");
        app = app.assets("/_lvt", dir);
    }
    let mut app = app.page("/", handler);
    if let Some(url) = &config.redis_url {
        let mut store = RedisStore::builder(RedisConnector::new(url)?);
        if let Some(prefix) = &config.redis_prefix {
            store = store.key_prefix(prefix);
        }
        app = app.session_store(store.build()?);
    }
    Ok(app)
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
        let c = Config::parse(
            args(&["--redis", "redis://flag/", "--redis-prefix=p:"]),
            env,
        )
        .expect("config");
        assert_eq!(c.redis_url.as_deref(), Some("redis://flag/"));
        assert_eq!(c.redis_prefix.as_deref(), Some("p:"));
    }

    #[test]
    fn bad_arguments_are_explained() {
        let none = |_: &str| None;
        assert_eq!(
            Config::parse(args(&["--redis"]), none),
            Err("`--redis` needs a value".to_string())
        );
        assert_eq!(
            Config::parse(args(&["--verbose"]), none),
            Err("unknown argument `--verbose`".to_string())
        );
    }

    #[test]
    fn an_invalid_redis_url_is_an_error() {
        let config = Config {
            redis_url: Some("not a url".into()),
            ..Config::default()
        };
        assert!(app(&config).is_err());
    }
}
