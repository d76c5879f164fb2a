//! Shared pieces of the protocol tests: a hand-written counter controller, an
//! in-process server on port 0, a raw HTTP/1.1 client and WebSocket helpers.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use livetemplate_runtime::controller::{ActionKind, ActionSpec, BoxFuture, Controller, LiveState};
use livetemplate_runtime::transport::{App, LiveHandler};
use livetemplate_runtime::Template;
use livetemplate_runtime::{Context, Disconnect, Error, FieldError};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// The counter's state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Count {
    pub count: i64,
    /// Filler text (`pad` action) for tests that need big frames.
    #[serde(default)]
    pub pad: String,
}

impl LiveState for Count {
    const PERSISTED: &'static [&'static str] = &[];
    fn save_persisted(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        Ok(None)
    }
    fn restore_persisted(&mut self, _bytes: &[u8]) -> Result<(), serde_json::Error> {
        Ok(())
    }
}

/// A counter controller; `CHANGE` sets `HAS_CHANGE`. Mount reads `?start=N` and fails
/// when the query has `fail`.
#[derive(Default)]
pub struct Counter<const CHANGE: bool = false> {
    /// Every `on_disconnect` call.
    pub gone: Arc<Mutex<Vec<Disconnect>>>,
}

const fn spec(
    name: &'static str,
    aliases: &'static [&'static str],
    kind: ActionKind,
) -> ActionSpec {
    ActionSpec {
        name,
        aliases,
        kind,
    }
}

impl<const CHANGE: bool> Controller for Counter<CHANGE> {
    type State = Count;
    const ACTIONS: &'static [ActionSpec] = &[
        spec("increment", &["increment"], ActionKind::Client),
        spec("decrement", &["decrement"], ActionKind::Client),
        spec("fail", &["fail"], ActionKind::Client),
        spec("boom", &["boom"], ActionKind::Client),
        spec("note", &["note"], ActionKind::Client),
        spec("set", &["set"], ActionKind::Client),
        spec("secret", &["secret"], ActionKind::Internal),
        spec("panic", &["panic"], ActionKind::Client),
        spec("pad", &["pad"], ActionKind::Client),
    ];
    const HAS_CHANGE: bool = CHANGE;

    fn dispatch<'a>(
        &'a self,
        index: usize,
        state: &'a mut Count,
        ctx: &'a mut Context,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            match index {
                0 => state.count += 1,
                1 => state.count -= 1,
                2 => {
                    state.count = 999;
                    return Err(FieldError::new("count", "too big").into());
                }
                3 => {
                    state.count = 999;
                    return Err(Error::msg("it broke"));
                }
                4 => ctx.set_flash("note", "Saved!"),
                5 => state.count = ctx.get_i64("to").unwrap_or(-1),
                6 => state.count = 100,
                7 => panic!("deliberate panic in an action"),
                _ => {
                    state.pad = "x".repeat(ctx.get_i64("n").unwrap_or(0).clamp(0, 1 << 20) as usize)
                }
            }
            Ok(())
        })
    }

    /// Increment, decrement and panic run at once (as plain `fn` actions do); the
    /// others through `dispatch`.
    fn dispatch_now(
        &self,
        index: usize,
        state: &mut Count,
        _ctx: &mut Context,
    ) -> Option<Result<(), Error>> {
        match index {
            0 => state.count += 1,
            1 => state.count -= 1,
            7 => panic!("deliberate panic in an action"),
            _ => return None,
        }
        Some(Ok(()))
    }

    fn mount<'a>(
        &'a self,
        state: &'a mut Count,
        ctx: &'a mut Context,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            if ctx.query().contains_key("fail") {
                return Err(Error::msg("mount refused"));
            }
            if let Some(start) = ctx.query().get("start").and_then(|s| s.parse().ok()) {
                state.count = start;
            }
            Ok(())
        })
    }

    fn on_disconnect<'a>(&'a self, _state: &'a Count, info: &'a Disconnect) -> BoxFuture<'a, ()> {
        self.gone.lock().expect("lock").push(info.clone());
        Box::pin(async {})
    }
}

/// The counter template: slot 0 count, 1 general error, 2 field error, 3 flash.
pub const TEMPLATE: &str = "<p>Count: {{count}}</p><p>{{lvt.errors._general}}</p><p>{{lvt.errors.count}}</p><p>{{lvt.flash.note}}</p><form method=\"POST\"><button name=\"increment\">+</button><button name=\"decrement\">-</button></form>";

/// The statics of [`TEMPLATE`] as JSON.
pub const STATICS: &str = r#"["<p>Count: ","</p><p>","</p><p>","</p><p>","</p><form method=\"POST\"><button name=\"increment\">+</button><button name=\"decrement\">-</button></form>"]"#;

pub fn template() -> Template {
    Template::builder("counter", TEMPLATE)
        .build()
        .expect("template")
}

pub fn counter() -> LiveHandler<Counter> {
    LiveHandler::new(Counter::default(), template()).title("Counter")
}

/// Start `app` on 127.0.0.1:0 in this runtime.
pub async fn start(app: impl Into<App>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = app.into();
    tokio::spawn(
        async move { livetemplate_runtime::transport::serve_listener(listener, app).await },
    );
    addr
}

/// A raw HTTP response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    /// The first header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    /// All headers `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    /// `name=value` of the `Set-Cookie` for `name`.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.all("set-cookie")
            .into_iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(|c| c.split(';').next().unwrap_or("").to_string())
    }
}

/// Send one HTTP/1.1 request (`Connection: close`) and read the whole response.
pub async fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Reply {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        req.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).await.expect("write");
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut raw))
        .await
        .expect("response in time")
        .expect("read");
    let text = String::from_utf8(raw).expect("utf8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("head");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Reply {
        status,
        headers,
        body: body.to_string(),
    }
}

pub type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// GET the page first (for the cookie), like a browser.
pub async fn session_cookie(addr: SocketAddr, path: &str) -> String {
    let r = request(addr, "GET", path, &[("Accept", "text/html")], "").await;
    assert_eq!(r.status, 200, "{r:?}");
    r.cookie("livetemplate-id").expect("session cookie")
}

/// Open a WebSocket at `path` with extra headers.
pub async fn try_connect(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    let mut req = format!("ws://{addr}{path}")
        .into_client_request()
        .expect("request");
    for (k, v) in headers {
        req.headers_mut().insert(
            http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
            http::HeaderValue::from_str(v).expect("value"),
        );
    }
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
}

/// Open a WebSocket (must succeed).
pub async fn connect(addr: SocketAddr, path: &str, cookie: &str) -> Ws {
    try_connect(addr, path, &[("Cookie", cookie)])
        .await
        .expect("websocket")
}

/// The next text frame (pings/pongs skipped). Panics on close or after 20 s.
pub async fn recv(ws: &mut Ws) -> String {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("a frame in time");
        match msg {
            Some(Ok(Message::Text(t))) => return t.to_string(),
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => continue,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }
}

/// The next frame of any kind (or `None` at the end of the stream).
pub async fn next_frame(ws: &mut Ws) -> Option<Message> {
    tokio::time::timeout(Duration::from_secs(20), ws.next())
        .await
        .expect("a frame in time")
        .and_then(Result::ok)
}

/// Send a text frame and return the reply.
pub async fn call(ws: &mut Ws, text: &str) -> String {
    ws.send(Message::text(text)).await.expect("send");
    recv(ws).await
}

/// Poll `cond` until it holds (panics after 20 s).
pub async fn eventually(mut cond: impl FnMut() -> bool) {
    for _ in 0..2000 {
        if cond() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not reached");
}

/// One row of [`Rows`].
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct RowItem {
    pub id: String,
    pub name: String,
}

/// A keyed list's state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Rows {
    pub rows: Vec<RowItem>,
}

impl LiveState for Rows {
    const PERSISTED: &'static [&'static str] = &[];
    fn save_persisted(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        Ok(None)
    }
    fn restore_persisted(&mut self, _bytes: &[u8]) -> Result<(), serde_json::Error> {
        Ok(())
    }
}

/// A keyed list: `add` (`id`, `name`), `rename` (`id`, `name`), `remove` (`id`),
/// `reverse`; `fail` errors without changing the list.
#[derive(Default)]
pub struct List;

impl Rows {
    /// Apply one of [`List`]'s actions (also used by tests to follow the state).
    pub fn apply(&mut self, action: &str, id: &str, name: &str) -> Result<(), Error> {
        match action {
            "add" => self.rows.push(RowItem {
                id: id.into(),
                name: name.into(),
            }),
            "rename" => {
                if let Some(r) = self.rows.iter_mut().find(|r| r.id == id) {
                    r.name = name.into();
                }
            }
            "remove" => self.rows.retain(|r| r.id != id),
            "reverse" => self.rows.reverse(),
            _ => return Err(Error::msg("no such row")),
        }
        Ok(())
    }
}

impl Controller for List {
    type State = Rows;
    const ACTIONS: &'static [ActionSpec] = &[
        spec("add", &["add"], ActionKind::Client),
        spec("rename", &["rename"], ActionKind::Client),
        spec("remove", &["remove"], ActionKind::Client),
        spec("reverse", &["reverse"], ActionKind::Client),
        spec("fail", &["fail"], ActionKind::Client),
    ];
    const HAS_CHANGE: bool = false;

    fn dispatch<'a>(
        &'a self,
        index: usize,
        state: &'a mut Rows,
        ctx: &'a mut Context,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let action = Self::ACTIONS[index].name;
            let id = ctx.get_str("id").unwrap_or_default();
            let name = ctx.get_str("name").unwrap_or_default();
            state.apply(action, &id, &name)
        })
    }
}

/// The list template: a keyed range, then the general error.
pub const LIST_TEMPLATE: &str = r#"<ul>{{#each rows}}<li data-key="{{id}}">{{name}}</li>{{/each}}</ul><p>{{lvt.errors._general}}</p>"#;

pub fn list_template() -> Template {
    Template::builder("list", LIST_TEMPLATE)
        .build()
        .expect("template")
}

pub fn list() -> LiveHandler<List> {
    LiveHandler::new(List, list_template())
        .title("List")
        .rate_limit(1000.0, 1000)
}
