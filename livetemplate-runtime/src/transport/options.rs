//! Handler options and their defaults. Plain data; the builder methods live on
//! [`LiveHandler`](super::LiveHandler).

use std::sync::Arc;

use super::persist::Persistence;
use super::realtime::PubSubOptions;
use super::session::Authenticator;

/// The pinned client version.
pub const CLIENT_VERSION: &str = "0.25.1";

/// Where the pinned client is loaded from by default (the npm package root on jsDelivr).
pub const DEFAULT_CLIENT_BASE_URL: &str =
    "https://cdn.jsdelivr.net/npm/@livetemplate/client@0.25.1";

/// Path of the browser bundle inside the client package.
pub const CLIENT_SCRIPT_PATH: &str = "dist/livetemplate-client.browser.js";

/// Path of the stylesheet inside the client package.
pub const CLIENT_STYLE_PATH: &str = "livetemplate.css";

/// Where the pinned client is loaded from.
#[derive(Clone, Debug)]
pub(crate) struct ClientAssets {
    pub(crate) script_url: String,
    pub(crate) style_url: String,
}

impl ClientAssets {
    /// Assets laid out like the npm package under `base_url`.
    pub(crate) fn at(base_url: &str) -> ClientAssets {
        let base = base_url.trim_end_matches('/');
        ClientAssets {
            script_url: format!("{base}/{CLIENT_SCRIPT_PATH}"),
            style_url: format!("{base}/{CLIENT_STYLE_PATH}"),
        }
    }
}

/// Per-connection message rate limit (token bucket).
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct RateLimit {
    /// Tokens added per second.
    pub(crate) per_second: f64,
    /// Bucket size (and initial fill).
    pub(crate) burst: u32,
}

/// The default rate limit: 10 messages per second, bursts of 20.
const DEFAULT_RATE_LIMIT: RateLimit = RateLimit {
    per_second: 10.0,
    burst: 20,
};

/// Environment variable overriding the default rate limit: `off` (or `0`) disables it,
/// `<per_second>,<burst>` (e.g. `50,100`) sets it. Code options still win.
pub const RATE_LIMIT_ENV: &str = "LT_RATE_LIMIT";

impl RateLimit {
    pub(crate) fn enabled(&self) -> bool {
        self.per_second > 0.0 && self.burst > 0
    }

    /// Parse the value of [`RATE_LIMIT_ENV`].
    pub(crate) fn parse(text: &str) -> Option<RateLimit> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") || text == "0" {
            return Some(RateLimit {
                per_second: 0.0,
                burst: 0,
            });
        }
        let (rate, burst) = text.split_once(',')?;
        let per_second: f64 = rate
            .trim()
            .parse()
            .ok()
            .filter(|r: &f64| r.is_finite() && *r >= 0.0)?;
        let burst: u32 = burst.trim().parse().ok()?;
        Some(RateLimit { per_second, burst })
    }

    /// The default, or the environment's override.
    fn from_env() -> RateLimit {
        match std::env::var(RATE_LIMIT_ENV) {
            Err(_) => DEFAULT_RATE_LIMIT,
            Ok(v) => RateLimit::parse(&v).unwrap_or_else(|| {
                tracing::warn!(
                    value = %v,
                    "ignoring {RATE_LIMIT_ENV}: expected `off` or `<per_second>,<burst>`"
                );
                DEFAULT_RATE_LIMIT
            }),
        }
    }
}

/// Everything configurable on a handler.
#[derive(Clone)]
pub(crate) struct Options {
    pub(crate) title: String,
    pub(crate) max_message_size: usize,
    pub(crate) websocket: bool,
    pub(crate) allowed_origins: Option<Vec<String>>,
    pub(crate) trust_forwarded_headers: bool,
    pub(crate) send_queue: usize,
    pub(crate) dispatch_queue: usize,
    pub(crate) pubsub: PubSubOptions,
    pub(crate) rate_limit: RateLimit,
    pub(crate) assets: ClientAssets,
    pub(crate) loading_indicator: bool,
    pub(crate) authenticator: Option<Arc<dyn Authenticator>>,
    pub(crate) persistence: Persistence,
    pub(crate) render_cache: bool,
    pub(crate) max_connections: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            title: String::new(),
            max_message_size: 64 * 1024,
            websocket: true,
            allowed_origins: None,
            trust_forwarded_headers: true,
            send_queue: 32,
            dispatch_queue: 16,
            pubsub: PubSubOptions::default(),
            rate_limit: RateLimit::from_env(),
            assets: ClientAssets::at(DEFAULT_CLIENT_BASE_URL),
            loading_indicator: true,
            render_cache: true,
            max_connections: usize::MAX,
            authenticator: None,
            persistence: Persistence::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RateLimit;

    #[test]
    fn rate_limit_env_values() {
        assert!(!RateLimit::parse("off").unwrap().enabled());
        assert!(!RateLimit::parse(" 0 ").unwrap().enabled());
        assert_eq!(
            RateLimit::parse("50, 100"),
            Some(RateLimit {
                per_second: 50.0,
                burst: 100
            })
        );
        assert_eq!(RateLimit::parse("fast"), None);
        assert_eq!(RateLimit::parse("-1,5"), None);
        assert_eq!(RateLimit::parse("5,x"), None);
    }
}
