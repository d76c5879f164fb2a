//! [`Context`]: what an action or hook can see and ask of the runtime.
//!
//! The transport builds one per call (client action, lifecycle hook, peer or server
//! dispatch) and reads back what the user code queued (flash, publishes, topic changes,
//! cookies, redirects). This module holds the data; it must not touch sockets. The
//! topic and publish methods (`subscribe`, `publish`, `sync`, `session`, …) are in
//! `transport::realtime`.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// How the current mount came about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectKind {
    /// The initial HTTP GET that renders the page (or the JSON initial tree).
    InitialMount,
    /// A WebSocket connect with nothing restored from the session store.
    NewConnect,
    /// A WebSocket connect that restored persisted fields.
    Restored,
    /// Mount that runs before an HTTP POST action.
    Action,
}

/// Where the action being run came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// A browser (WebSocket message, JSON POST or plain form POST).
    Client,
    /// A peer connection's `ctx.publish`.
    Peer,
    /// Server code: `Session::trigger` or an out-of-band publish.
    Server,
    /// A lifecycle hook (mount, connect).
    Lifecycle,
}

/// What an action or hook receives besides its state.
#[derive(Debug)]
pub struct Context {
    /// Borrowed from the action table when the name resolved (no copy per call).
    pub(crate) action: Option<Cow<'static, str>>,
    pub(crate) data: Map<String, Value>,
    /// Borrowed from the action table when it names the action itself.
    pub(crate) submitter: Option<Cow<'static, str>>,
    pub(crate) query: BTreeMap<String, String>,
    pub(crate) kind: ConnectKind,
    pub(crate) origin: Origin,
    pub(crate) user_id: Option<Arc<str>>,
    pub(crate) group_id: Arc<str>,
    pub(crate) connection_id: Option<u64>,
    pub(crate) flash: BTreeMap<String, String>,
    pub(crate) flash_changed: bool,
    /// Topics, publishes and sync (see `transport::realtime`).
    pub(crate) realtime: crate::transport::realtime::CallState,
}

impl Context {
    /// A context for unit-testing an action without a server: `action` with `data`
    /// (a JSON object; anything else is treated as empty).
    pub fn for_test(action: &str, data: Value) -> Context {
        let mut ctx = Context::new(ConnectKind::NewConnect, Origin::Client, "test-group".into());
        ctx.action = Some(Cow::Owned(action.to_string()));
        if let Value::Object(m) = data {
            ctx.data = m;
        }
        ctx
    }

    pub(crate) fn new(kind: ConnectKind, origin: Origin, group_id: Arc<str>) -> Context {
        Context {
            action: None,
            data: Map::new(),
            submitter: None,
            query: BTreeMap::new(),
            kind,
            origin,
            user_id: None,
            group_id,
            connection_id: None,
            flash: BTreeMap::new(),
            flash_changed: false,
            realtime: Default::default(),
        }
    }

    /// The action being run; `None` in lifecycle hooks.
    pub fn action(&self) -> Option<&str> {
        self.action.as_deref()
    }

    /// The name of the clicked submit button, when the client reported one.
    pub fn submitter(&self) -> Option<&str> {
        self.submitter.as_deref()
    }

    /// The raw action data (form fields, button value, `data-*` attributes).
    pub fn data(&self) -> &Map<String, Value> {
        &self.data
    }

    /// Whether the action data has `key` (an empty string counts).
    pub fn has(&self, key: &str) -> bool {
        self.data.contains_key(key)
    }

    /// A data value as a string: strings as they are, numbers and booleans printed.
    pub fn get_str(&self, key: &str) -> Option<String> {
        match self.data.get(key)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A data value as an integer: integral numbers and numeric strings.
    pub fn get_i64(&self, key: &str) -> Option<i64> {
        match self.data.get(key)? {
            Value::Number(n) => n.as_i64().or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15)
                    .map(|f| f as i64)
            }),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A data value as a float: numbers and numeric strings.
    pub fn get_f64(&self, key: &str) -> Option<f64> {
        match self.data.get(key)? {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// A data value as a boolean: booleans and `"true"`/`"false"` in any case.
    pub fn get_bool(&self, key: &str) -> Option<bool> {
        match self.data.get(key)? {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
            Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
            _ => None,
        }
    }

    /// A data value deserialized as `T`.
    pub fn get<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        serde_json::from_value(self.data.get(key)?.clone()).ok()
    }

    /// The action data as `T`, read leniently with one error per bad field, exactly
    /// like the [`Form`](crate::input::Form) action parameter.
    ///
    /// # Errors
    ///
    /// Field errors (`"qty must be a whole number"`, `"title is required"`, …) or a
    /// general error; see [`Form`](crate::input::Form).
    pub fn bind<T: DeserializeOwned>(&self) -> Result<T, crate::error::Error> {
        crate::input::bind_lenient(&self.data)
    }

    /// The page URL's query parameters (mount on GET, WebSocket connect, navigate).
    pub fn query(&self) -> &BTreeMap<String, String> {
        &self.query
    }

    /// How the current mount came about.
    pub fn connect_kind(&self) -> ConnectKind {
        self.kind
    }

    /// Where the current action came from.
    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// The authenticated user, if the authenticator named one.
    pub fn user_id(&self) -> Option<&str> {
        self.user_id.as_deref()
    }

    /// The session group (all tabs of one browser, by default).
    pub fn group_id(&self) -> &str {
        &self.group_id
    }

    /// The connection this call runs on; `None` over plain HTTP.
    pub fn connection_id(&self) -> Option<u64> {
        self.connection_id
    }

    /// Set a flash message shown by `{{lvt.flash.KEY}}` until cleared.
    pub fn set_flash(&mut self, key: impl Into<String>, message: impl Into<String>) {
        self.flash.insert(key.into(), message.into());
        self.flash_changed = true;
    }

    /// Clear one flash message.
    pub fn clear_flash(&mut self, key: &str) {
        self.flash_changed |= self.flash.remove(key).is_some();
    }

    /// The current flash messages.
    pub fn flash(&self) -> &BTreeMap<String, String> {
        &self.flash
    }
}

/// What the disconnect hook learns about who left.
#[derive(Clone, Debug)]
pub struct Disconnect {
    /// The connection that closed.
    pub connection_id: u64,
    /// Its session group.
    pub group_id: String,
    /// Its user, if authenticated.
    pub user_id: Option<String>,
    /// Publishes to the remaining connections (the hook runs after this connection's
    /// subscriptions are gone), e.g. to tell a presence list who left.
    pub publisher: crate::transport::Publisher,
}
