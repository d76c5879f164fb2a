//! A trivial server that speaks just enough of the protocol to be benchmarked: the floor a real server is
//! compared against.
//!
//! * `GET` (and `HEAD`) on any path: `200` with a minimal page, `X-LiveTemplate-WebSocket: enabled` and a
//!   `livetemplate-id` cookie when the request has none.
//! * WebSocket upgrade on any path: first frame = a fixed full tree; `{"action":"__ping__"}` → `{"pong":true}`;
//!   `{"action":"publish",…}` → the fixed push [`PUSH_FRAME`] to every other connected WebSocket, then the
//!   reply [`PUBLISH_REPLY`] to the publisher (fan-out, like a handler publishing to a topic everyone
//!   listens to); any other action → a fixed reply for `increment`.
//!
//! It does no rendering, no diffing and no state: whatever it costs is transport, framing and JSON parsing.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use crate::client::COOKIE_NAME;
use crate::BenchError;

/// The first frame every connection receives.
pub const FIRST_FRAME: &str = r#"{"tree":{"s":["<main><h1>Counter: ","</h1><form method=\"POST\"><button name=\"increment\">+1</button></form></main>"],"0":"0"},"meta":{"success":true,"errors":{}}}"#;

/// The reply to every action other than `__ping__`.
pub const CLICK_REPLY: &str =
    r#"{"tree":{"0":"1"},"meta":{"success":true,"errors":{},"action":"increment"}}"#;

/// The push every other connection receives when one connection sends action `publish`.
pub const PUSH_FRAME: &str = r#"{"tree":{"0":"x"}}"#;

/// The reply to action `publish`, sent to the publisher after the pushes were handed out.
pub const PUBLISH_REPLY: &str =
    r#"{"tree":{"0":"x"},"meta":{"success":true,"errors":{},"action":"publish"}}"#;

/// Publishes buffered per connection before a slow one skips ahead (it then gets a single push).
const HUB_CAPACITY: usize = 64;

/// The reply to `__ping__`.
pub const PONG: &str = r#"{"pong":true}"#;

const PAGE: &str = "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>noop</title></head><body>\
<div data-lvt-id=\"lvt-noop\" data-lvt-loading=\"true\"><main><h1>Counter: 0</h1><form method=\"POST\">\
<button name=\"increment\">+1</button></form></main></div></body></html>";

/// Default WebSocket read buffer of the no-op server, bytes.
///
/// tungstenite's own default (128 KiB, allocated per connection up front) costs about 130 KB of resident
/// memory per idle connection, which would hide everything else; a small buffer is what a memory-conscious
/// server uses, so it is the fairer floor.
pub const DEFAULT_READ_BUFFER: usize = 4 * 1024;

/// Binds `addr` and serves forever on a spawned task with a WebSocket read buffer of `read_buffer` bytes;
/// returns the bound address and the accept loop's handle (abort it to stop accepting).
pub async fn start(
    addr: SocketAddr,
    read_buffer: usize,
) -> Result<(SocketAddr, JoinHandle<()>), BenchError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| BenchError::io(format!("binding {addr}"), e))?;
    let local = listener
        .local_addr()
        .map_err(|e| BenchError::io("reading the bound address", e))?;
    Ok((local, tokio::spawn(serve(listener, read_buffer))))
}

/// Fan-out hub shared by all connections of one server: a publish is the publishing connection's id, and
/// every WebSocket holds a receiver (an `Arc` and a position: a few bytes per idle connection).
type Hub = broadcast::Sender<u64>;

/// Accepts connections on `listener` forever.
pub async fn serve(listener: TcpListener, read_buffer: usize) {
    let (hub, _) = broadcast::channel::<u64>(HUB_CAPACITY);
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve_connection(stream, read_buffer, hub.clone()));
            }
            Err(e) => {
                // Typically EMFILE: back off instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

async fn serve_connection(stream: TcpStream, read_buffer: usize, hub: Hub) {
    if let Err(e) = stream.set_nodelay(true) {
        tracing::debug!(error = %e, "set_nodelay failed");
    }
    let conn = hyper::server::conn::http1::Builder::new()
        .serve_connection(
            TokioIo::new(stream),
            service_fn(move |req| handle(req, read_buffer, hub.clone())),
        )
        .with_upgrades();
    if let Err(e) = conn.await {
        tracing::debug!(error = %e, "connection error");
    }
}

fn new_session_id() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let t = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    format!("{t:016x}{n:08x}")
}

fn has_session_cookie<B>(req: &Request<B>) -> bool {
    req.headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .any(|pair| {
            pair.split_once('=')
                .is_some_and(|(n, v)| n.trim() == COOKIE_NAME && !v.trim().is_empty())
        })
}

fn set_cookie_value() -> Option<HeaderValue> {
    HeaderValue::from_str(&format!(
        "{COOKIE_NAME}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000",
        new_session_id()
    ))
    .ok()
}

fn is_upgrade<B>(req: &Request<B>) -> bool {
    req.headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

fn plain(status: StatusCode, body: &'static str) -> Response<Full<Bytes>> {
    let mut res = Response::new(Full::new(Bytes::from_static(body.as_bytes())));
    *res.status_mut() = status;
    res
}

async fn handle(
    mut req: Request<Incoming>,
    read_buffer: usize,
    hub: Hub,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let fresh_cookie = (!has_session_cookie(&req)).then(set_cookie_value).flatten();
    let mut res = if is_upgrade(&req) {
        let Some(key) = req.headers().get(header::SEC_WEBSOCKET_KEY).cloned() else {
            return Ok(plain(StatusCode::BAD_REQUEST, "missing Sec-WebSocket-Key"));
        };
        let accept = derive_accept_key(key.as_bytes());
        let on_upgrade = hyper::upgrade::on(&mut req);
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(upgraded) => {
                    let ws = WebSocketStream::from_raw_socket(
                        TokioIo::new(upgraded),
                        Role::Server,
                        Some(WebSocketConfig::default().read_buffer_size(read_buffer)),
                    )
                    .await;
                    run_socket(ws, hub).await;
                }
                Err(e) => tracing::debug!(error = %e, "upgrade failed"),
            }
        });
        let mut res = plain(StatusCode::SWITCHING_PROTOCOLS, "");
        let h = res.headers_mut();
        h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        if let Ok(v) = HeaderValue::from_str(&accept) {
            h.insert(header::SEC_WEBSOCKET_ACCEPT, v);
        }
        res
    } else if req.method() == Method::GET || req.method() == Method::HEAD {
        let mut res = if req.method() == Method::HEAD {
            plain(StatusCode::OK, "")
        } else {
            plain(StatusCode::OK, PAGE)
        };
        let h = res.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        h.insert(
            "x-livetemplate-websocket",
            HeaderValue::from_static("enabled"),
        );
        res
    } else {
        plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
    };
    if let Some(cookie) = fresh_cookie {
        res.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(res)
}

#[derive(serde::Deserialize)]
struct Action<'a> {
    #[serde(borrow, default)]
    action: std::borrow::Cow<'a, str>,
}

fn next_connection_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

async fn run_socket<S>(mut ws: WebSocketStream<S>, hub: Hub)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let id = next_connection_id();
    // Subscribed before the first frame: a client holding its first frame is sure to get later pushes.
    let mut pushes = hub.subscribe();
    if ws.send(Message::text(FIRST_FRAME)).await.is_err() {
        return;
    }
    loop {
        let frame = tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(text))) => match serde_json::from_str::<Action>(text.as_str()) {
                    Ok(a) if a.action == "__ping__" => PONG,
                    Ok(a) if a.action == "publish" => {
                        // No receivers is not an error: then there is nobody to push to.
                        let _ = hub.send(id);
                        PUBLISH_REPLY
                    }
                    Ok(_) => CLICK_REPLY,
                    // Like the real protocol: malformed JSON is ignored.
                    Err(_) => continue,
                },
                Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                Some(Ok(_)) => continue,
            },
            pushed = pushes.recv() => match pushed {
                Ok(from) if from == id => continue,
                // Lagged: several publishes were missed; one push stands for them.
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => PUSH_FRAME,
                Err(broadcast::error::RecvError::Closed) => break,
            },
        };
        if ws.send(Message::text(frame)).await.is_err() {
            break;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::{classify, Reply};

    #[test]
    fn fixed_frames_classify_as_expected() {
        assert_eq!(classify(FIRST_FRAME), Reply::Render { has_meta: true });
        assert_eq!(
            classify(CLICK_REPLY),
            Reply::Update {
                action: "increment".into()
            }
        );
        assert_eq!(classify(PONG), Reply::Pong);
        assert_eq!(classify(PUSH_FRAME), Reply::Render { has_meta: false });
        assert_eq!(
            classify(PUBLISH_REPLY),
            Reply::Update {
                action: "publish".into()
            }
        );
    }

    #[test]
    fn cookie_detection() {
        let req = Request::builder()
            .header("cookie", "a=b; livetemplate-id=xyz")
            .body(())
            .unwrap();
        assert!(has_session_cookie(&req));
        let req = Request::builder()
            .header("cookie", "livetemplate-id=")
            .body(())
            .unwrap();
        assert!(!has_session_cookie(&req));
        assert!(!has_session_cookie(&Request::new(())));
        assert_ne!(new_session_id(), new_session_id());
    }
}
