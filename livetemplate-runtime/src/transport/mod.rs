//! The transport: turns a controller and a template into a live page driven by the
//! browser client `@livetemplate/client` 0.25.1.
//!
//! One [`LiveHandler`] per page URL answers, on that URL with any query:
//!
//! | request | answer |
//! |---|---|
//! | `GET` (HTML) | the full page: layout + `<div data-lvt-id="lvt-…" data-lvt-loading="true">` holding the rendered live region |
//! | `HEAD` | `200`, header `X-LiveTemplate-WebSocket: enabled` or `disabled` (on every response) |
//! | `GET` + `Upgrade: websocket` | the live connection ([`ws`] module docs list the answers to bad input) |
//! | `GET` + `Accept: application/json` | `{"tree":<full>,"meta":{"success":true,"errors":{}}}` (+ `capabilities`) |
//! | `POST` JSON action | `{"tree":<full>,"meta":{…,"action":…}}`: HTTP answers always carry the full tree |
//! | `POST` form (no JS) | success: `303` to the same path and query, flash in the `lvt-flash` cookie; errors: `200` page re-rendered with them |
//!
//! Lifecycle: every page and connection starts from a clone of the initial state with
//! its `#[persist]` fields restored from the session store (per session group and
//! path; [`persist`] gives the schedule, [`LiveHandler::session_store`]
//! and [`App::session_store`] the store); mount runs on every GET, every POST (before the action) and every WebSocket connect
//! (query = the URL's query) and `__navigate__`; `on_connect` runs after mount on
//! WebSocket connects only (its errors are logged and ignored); `on_disconnect` when a
//! connection ends. Actions run on a clone of the state that replaces it only on
//! success; a failed action's errors reach the template (`lvt.errors`) and `meta`.
//! Field errors are cleared at the start of every client action; flash messages stay
//! on a connection until cleared.
//!
//! Templates see the state serialized as a JSON object plus the reserved key `lvt`:
//! `lvt.errors` (field → message, `_general` for general errors) and `lvt.flash`
//! (key → message). Layouts also get `lvt.title`, `lvt.head`, `lvt.body`,
//! `lvt.client_script_url` and `lvt.client_style_url` (see [`page`]).
//!
//! Modules: `handler` ([`LiveHandler`], the service and its options), `live` (page
//! lifecycle), `pick` (the data of templates that render without handlebars),
//! [`persist`] (when `#[persist]` fields are read and written), `http` and
//! [`ws`] (the two transports), [`session`] (groups, cookie, authentication),
//! [`registry`] (live connections), [`page`] (HTML document and layout), `serve`
//! ([`App`], [`serve`]), `broker` ([`Broker`], [`Publisher`]: topic subscriptions and
//! publishes), [`push`] ([`push::Session`]: server push to a session group), `realtime`
//! (the topic and publish methods of `Context`).

mod broker;
mod handler;
mod http;
mod live;
mod options;
pub mod page;
pub mod persist;
mod pick;
pub mod push;
pub(crate) mod realtime;
pub mod registry;
mod serve;
pub mod session;
mod tracker;
pub mod ws;

pub use broker::{
    Broker, BrokerMetrics, FanoutError, PublishError, Publisher, MAX_PUBLISHES_PER_ACTION,
};
pub use handler::{LiveHandler, WEBSOCKET_HEADER};
pub use live::LVT_KEY;
pub use options::{CLIENT_SCRIPT_PATH, CLIENT_STYLE_PATH, CLIENT_VERSION, DEFAULT_CLIENT_BASE_URL};
pub use persist::{PersistStats, REWRITE_AFTER};
pub use realtime::{Published, SubscribeError, TOPIC_FORBIDDEN, TOPIC_INVALID};
pub use registry::{ConnectionHandle, Dispatch, DispatchError, DispatchSender, Registry};
pub use serve::{serve, serve_listener, serve_with_shutdown, App, DEFAULT_SHUTDOWN_GRACE};
pub use session::{AuthError, Authenticator, BasicAuth, Identity, FLASH_COOKIE, SESSION_COOKIE};

use crate::input::{parse_message, parse_post_body};
use crate::template::{RenderError, Template};
use crate::tree::json::full_json;

/// What the handler answers with.
pub type Response = ::http::Response<http_body_util::Full<bytes::Bytes>>;

/// Boxed error of request bodies.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
