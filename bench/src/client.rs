//! One protocol client: the initial GET (for the session cookie), the WebSocket upgrade on the page URL, the
//! first frame, clicks and pings.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::ClientRequestBuilder;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::WebSocketStream;

use crate::target::Target;
use crate::BenchError;

/// Name of the session cookie the server sets on the initial GET.
pub const COOKIE_NAME: &str = "livetemplate-id";

/// Largest HTTP response to the initial GET this client accepts.
const MAX_GET_RESPONSE: usize = 16 * 1024 * 1024;

/// How much of an unexpected frame is shown in an error.
const DETAIL_LEN: usize = 200;

/// Opens a TCP connection with `TCP_NODELAY` set.
pub async fn tcp_connect(target: &Target, timeout: Duration) -> Result<TcpStream, BenchError> {
    let stream = tokio::time::timeout(timeout, TcpStream::connect(target.addr))
        .await
        .map_err(|_| BenchError::Timeout {
            what: format!("connecting to {}", target.addr),
            timeout,
        })?
        .map_err(|e| BenchError::io(format!("connecting to {}", target.addr), e))?;
    stream
        .set_nodelay(true)
        .map_err(|e| BenchError::io("setting TCP_NODELAY", e))?;
    Ok(stream)
}

/// Status and headers of an HTTP response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpHead {
    /// Status code.
    pub status: u16,
    /// Header (name, value) pairs in order; names as sent.
    pub headers: Vec<(String, String)>,
}

impl HttpHead {
    /// Values of all headers called `name` (case-insensitive).
    pub fn header_values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Parses an HTTP/1.x response head. `Ok(None)` while the head is incomplete; otherwise the head and its
/// length in bytes (including the blank line).
pub fn parse_response_head(buf: &[u8]) -> Result<Option<(HttpHead, usize)>, BenchError> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return Ok(None);
    };
    let text = String::from_utf8_lossy(&buf[..end]);
    let mut lines = text.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(BenchError::BadHttp(format!(
            "not an HTTP/1.x status line: {:?}",
            truncate(status_line)
        )));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| {
            BenchError::BadHttp(format!("bad status line: {:?}", truncate(status_line)))
        })?;
    let mut headers = Vec::new();
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| BenchError::BadHttp(format!("bad header line: {:?}", truncate(line))))?;
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    Ok(Some((HttpHead { status, headers }, end + 4)))
}

/// Extracts the value of cookie `name` from one `Set-Cookie` header value, e.g.
/// `livetemplate-id=abc; Path=/; HttpOnly` → `abc`. Surrounding double quotes are removed.
pub fn extract_cookie<'a>(set_cookie: &'a str, name: &str) -> Option<&'a str> {
    let pair = set_cookie.split(';').next()?;
    let (n, v) = pair.split_once('=')?;
    if n.trim() != name {
        return None;
    }
    let v = v.trim();
    let v = v
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(v);
    (!v.is_empty()).then_some(v)
}

/// Sends `GET <page>` with `Connection: close` and reads the whole response; returns its head.
pub async fn http_get(target: &Target, timeout: Duration) -> Result<HttpHead, BenchError> {
    http_get_with_cookie(target, None, timeout).await
}

/// Like [`http_get`], sending `Cookie: livetemplate-id=<cookie>` when `cookie` is given (a second tab of the
/// same browser session).
pub async fn http_get_with_cookie(
    target: &Target,
    cookie: Option<&str>,
    timeout: Duration,
) -> Result<HttpHead, BenchError> {
    let work = async {
        let mut stream = tcp_connect(target, timeout).await?;
        let cookie_line = cookie
            .map(|c| format!("Cookie: {COOKIE_NAME}={c}\r\n"))
            .unwrap_or_default();
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nAccept: text/html,application/xhtml+xml\r\nUser-Agent: \
             livetemplate-bench\r\n{cookie_line}Connection: close\r\n\r\n",
            target.path_and_query,
            target.host_header()
        );
        stream
            .write_all(request.as_bytes())
            .await
            .map_err(|e| BenchError::io("sending the initial GET", e))?;
        let mut buf = Vec::with_capacity(8 * 1024);
        let mut head: Option<(HttpHead, usize)> = None;
        let mut chunk = [0u8; 16 * 1024];
        loop {
            // The server should close after the response (Connection: close); stop earlier if the body is
            // complete by Content-Length or the chunked terminator, so a server ignoring it does not stall us.
            if let Some((h, len)) = &head {
                if body_complete(h, &buf[*len..]) {
                    break;
                }
            }
            let n = stream
                .read(&mut chunk)
                .await
                .map_err(|e| BenchError::io("reading the initial GET response", e))?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            if buf.len() > MAX_GET_RESPONSE {
                return Err(BenchError::BadHttp(format!(
                    "response larger than {MAX_GET_RESPONSE} bytes"
                )));
            }
            if head.is_none() {
                head = parse_response_head(&buf)?;
            }
        }
        match head {
            Some((h, _)) => Ok(h),
            None => Err(BenchError::BadHttp(format!(
                "connection closed before a complete response head ({} bytes received)",
                buf.len()
            ))),
        }
    };
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| BenchError::Timeout {
            what: "waiting for the initial GET response".into(),
            timeout,
        })?
}

fn body_complete(head: &HttpHead, body: &[u8]) -> bool {
    if head.status == 204 || head.status == 304 || (100..200).contains(&head.status) {
        return true;
    }
    if let Some(len) = head
        .header_values("content-length")
        .next()
        .and_then(|v| v.parse::<usize>().ok())
    {
        return body.len() >= len;
    }
    let chunked = head
        .header_values("transfer-encoding")
        .any(|v| v.to_ascii_lowercase().contains("chunked"));
    chunked && body.ends_with(b"0\r\n\r\n")
}

/// What a server → client WebSocket text frame is, following the client's classification order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reply {
    /// `{"pong": true}`, the answer to `__ping__`.
    Pong,
    /// An error envelope `{"type":"error","code":…}`.
    ErrorEnvelope {
        /// The error code, if it is a string.
        code: Option<String>,
    },
    /// An UpdateResponse answering an action: `tree` object and `meta.action`.
    Update {
        /// `meta.action`.
        action: String,
    },
    /// An UpdateResponse without `meta.action`: the initial render (with `meta`) or a server push (with or
    /// without `meta`).
    Render {
        /// Whether `meta` is present.
        has_meta: bool,
    },
    /// Upload envelopes (`upload_name` / `type: upload_progress`), not expected by this tool.
    Upload,
    /// Anything else; the string says why.
    Invalid(String),
}

/// Classifies one text frame sent by the server.
pub fn classify(text: &str) -> Reply {
    let value: serde_json::Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return Reply::Invalid(format!("not JSON ({e})")),
    };
    let Some(obj) = value.as_object() else {
        return Reply::Invalid("not a JSON object".into());
    };
    if obj.get("pong").is_some_and(truthy) {
        return Reply::Pong;
    }
    match obj.get("type").and_then(|t| t.as_str()) {
        Some("error") => {
            return Reply::ErrorEnvelope {
                code: obj.get("code").and_then(|c| c.as_str()).map(str::to_owned),
            }
        }
        Some("upload_progress") => return Reply::Upload,
        _ => {}
    }
    if obj.contains_key("upload_name") {
        return Reply::Upload;
    }
    match obj.get("tree") {
        Some(serde_json::Value::Object(_)) => {}
        Some(_) => return Reply::Invalid("`tree` is not an object".into()),
        None => return Reply::Invalid("no `tree`".into()),
    }
    match obj.get("meta") {
        None | Some(serde_json::Value::Null) => Reply::Render { has_meta: false },
        Some(serde_json::Value::Object(meta)) => {
            match meta.get("action").and_then(|a| a.as_str()) {
                Some(action) => Reply::Update {
                    action: action.to_owned(),
                },
                None => Reply::Render { has_meta: true },
            }
        }
        Some(_) => Reply::Invalid("`meta` is not an object".into()),
    }
}

fn truthy(v: &serde_json::Value) -> bool {
    match v {
        serde_json::Value::Null => false,
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        serde_json::Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

/// The message the browser client sends for a form named `ACTION` whose fields are `data` (a JSON object), e.g.
/// `{"action":"send","data":{"text":"hi"}}`.
pub fn action_message(action: &str, data: &serde_json::Value) -> String {
    serde_json::json!({ "action": action, "data": data }).to_string()
}

/// The click message the browser client sends for `<button name="ACTION">` in a form.
pub fn click_message(action: &str) -> String {
    let quoted = serde_json::Value::from(action).to_string();
    format!(r#"{{"action":{quoted},"data":{{}},"submitter":{quoted}}}"#)
}

/// Bytes a WebSocket frame with `payload` bytes occupies on the wire (header, mask key if `masked`, payload).
pub fn ws_wire_bytes(payload: usize, masked: bool) -> usize {
    let len_bytes = match payload {
        0..=125 => 0,
        126..=65535 => 2,
        _ => 8,
    };
    2 + len_bytes + if masked { 4 } else { 0 } + payload
}

/// Timings of one connect: GET, then upgrade and first frame.
#[derive(Debug, Clone, Copy)]
pub struct ConnectTiming {
    /// From starting the GET to having read its response.
    pub get: Duration,
    /// From starting the upgrade to receiving the first WebSocket frame.
    pub upgrade_to_first_frame: Duration,
    /// From starting the GET to receiving the first frame.
    pub total: Duration,
}

/// Result of one click.
#[derive(Debug, Clone, Copy)]
pub struct ClickOutcome {
    /// From sending the click to receiving the reply carrying `meta.action`.
    pub rtt: Duration,
    /// Payload bytes of the click frame.
    pub sent_bytes: usize,
    /// Payload bytes of the reply frame.
    pub reply_bytes: usize,
}

/// A connected client: session cookie, WebSocket, first frame received.
pub struct Session {
    ws: WebSocketStream<TcpStream>,
    timeout: Duration,
    /// The session cookie value the server set.
    pub cookie: String,
    /// Payload bytes of the first frame (the full tree).
    pub first_frame_bytes: usize,
    /// Frames skipped while waiting for replies: pushes without `meta.action` and stray pongs.
    pub skipped_frames: u64,
}

impl Session {
    /// GET the page for the cookie, upgrade on the page URL with it, and wait for the first frame (which must be
    /// a render with a `tree`). `timeout` bounds each step.
    pub async fn open(
        target: &Target,
        timeout: Duration,
    ) -> Result<(Self, ConnectTiming), BenchError> {
        Self::open_with_cookie(target, None, timeout).await
    }

    /// Like [`Session::open`], but the GET carries `cookie` as the session cookie (another tab of the same
    /// session). The cookie the server sets in answer, if any, replaces it, as a browser would do.
    pub async fn open_with_cookie(
        target: &Target,
        cookie: Option<&str>,
        timeout: Duration,
    ) -> Result<(Self, ConnectTiming), BenchError> {
        let start = Instant::now();
        let head = http_get_with_cookie(target, cookie, timeout).await?;
        if head.status != 200 {
            return Err(BenchError::BadHttp(format!(
                "GET {} answered {} (expected 200)",
                target.path_and_query, head.status
            )));
        }
        let cookie = head
            .header_values("set-cookie")
            .find_map(|v| extract_cookie(v, COOKIE_NAME))
            .or(cookie)
            .map(str::to_owned)
            .ok_or_else(|| BenchError::NoCookie(COOKIE_NAME.into()))?;
        let got = Instant::now();

        let uri = target
            .ws_url()
            .parse::<http::Uri>()
            .map_err(|e| BenchError::BadUrl {
                url: target.ws_url(),
                reason: e.to_string(),
            })?;
        let request = ClientRequestBuilder::new(uri)
            .with_header("Cookie", format!("{COOKIE_NAME}={cookie}"))
            .with_header("Origin", format!("http://{}", target.host_header()));
        let stream = tcp_connect(target, timeout).await?;
        // Small read buffer: thousands of idle client connections must not cost 128 KiB each.
        let config = WebSocketConfig::default().read_buffer_size(8 * 1024);
        let handshake = tokio_tungstenite::client_async_with_config(request, stream, Some(config));
        let (ws, _response) = tokio::time::timeout(timeout, handshake)
            .await
            .map_err(|_| BenchError::Timeout {
                what: "upgrading to WebSocket".into(),
                timeout,
            })?
            .map_err(upgrade_error)?;
        let mut session = Session {
            ws,
            timeout,
            cookie,
            first_frame_bytes: 0,
            skipped_frames: 0,
        };
        let context = "waiting for the first frame (full tree)";
        let text = session.next_text(context).await?;
        match classify(&text) {
            Reply::Render { .. } => {}
            other => {
                return Err(BenchError::UnexpectedFrame {
                    context: context.into(),
                    detail: format!("{other:?}: {}", truncate(&text)),
                })
            }
        }
        let end = Instant::now();
        session.first_frame_bytes = text.len();
        Ok((
            session,
            ConnectTiming {
                get: got - start,
                upgrade_to_first_frame: end - got,
                total: end - start,
            },
        ))
    }

    /// Next text frame; answers pings, fails on binary frames, close and timeouts.
    async fn next_text(&mut self, context: &str) -> Result<String, BenchError> {
        let timeout = self.timeout;
        tokio::time::timeout(timeout, self.next_text_untimed(context))
            .await
            .map_err(|_| BenchError::Timeout {
                what: context.into(),
                timeout,
            })?
    }

    /// Next text frame sent by the server, waiting as long as it takes (the caller bounds the wait); fails on
    /// binary frames and close. Cancel-safe: dropping the future loses no frame.
    pub async fn next_frame(&mut self) -> Result<String, BenchError> {
        self.next_text_untimed("waiting for a server frame").await
    }

    async fn next_text_untimed(&mut self, context: &str) -> Result<String, BenchError> {
        loop {
            let msg = self.ws.next().await;
            match msg {
                None => return Err(BenchError::Closed(context.into())),
                Some(Err(e)) => return Err(BenchError::ws(context, e)),
                Some(Ok(Message::Text(t))) => return Ok(t.as_str().to_owned()),
                Some(Ok(Message::Close(frame))) => {
                    let why = frame
                        .map(|f| {
                            format!(
                                " (code {}, reason {:?})",
                                u16::from(f.code),
                                f.reason.as_str()
                            )
                        })
                        .unwrap_or_default();
                    return Err(BenchError::Closed(format!("{context}{why}")));
                }
                Some(Ok(Message::Binary(b))) => {
                    return Err(BenchError::UnexpectedFrame {
                        context: context.into(),
                        detail: format!(
                            "binary frame of {} bytes (the protocol uses text frames)",
                            b.len()
                        ),
                    })
                }
                // Ping/pong control frames are answered by tungstenite itself.
                Some(Ok(_)) => {}
            }
        }
    }

    /// Sends `message` (a click for `action`) and waits for the reply whose `meta.action` is `action`, skipping
    /// pushes and stray pongs in between.
    pub async fn click(&mut self, message: &str, action: &str) -> Result<ClickOutcome, BenchError> {
        let start = Instant::now();
        self.ws
            .send(Message::text(message))
            .await
            .map_err(|e| BenchError::ws("sending a click", e))?;
        let context = "waiting for the reply to a click";
        loop {
            let text = self.next_text(context).await?;
            match classify(&text) {
                Reply::Update { action: a } if a == action => {
                    return Ok(ClickOutcome {
                        rtt: start.elapsed(),
                        sent_bytes: message.len(),
                        reply_bytes: text.len(),
                    })
                }
                Reply::Render { .. } | Reply::Pong => self.skipped_frames += 1,
                Reply::Update { action: a } => {
                    return Err(BenchError::UnexpectedFrame {
                        context: context.into(),
                        detail: format!(
                            "reply for action {a:?}, expected {action:?}: {}",
                            truncate(&text)
                        ),
                    })
                }
                other => {
                    return Err(BenchError::UnexpectedFrame {
                        context: context.into(),
                        detail: format!("{other:?}: {}", truncate(&text)),
                    })
                }
            }
        }
    }

    /// Sends `{"action":"__ping__"}` and waits for `{"pong":true}`, skipping pushes.
    pub async fn ping(&mut self) -> Result<Duration, BenchError> {
        let start = Instant::now();
        self.ws
            .send(Message::text(r#"{"action":"__ping__"}"#))
            .await
            .map_err(|e| BenchError::ws("sending __ping__", e))?;
        let context = "waiting for the pong";
        loop {
            let text = self.next_text(context).await?;
            match classify(&text) {
                Reply::Pong => return Ok(start.elapsed()),
                Reply::Render { .. } => self.skipped_frames += 1,
                other => {
                    return Err(BenchError::UnexpectedFrame {
                        context: context.into(),
                        detail: format!("{other:?}: {}", truncate(&text)),
                    })
                }
            }
        }
    }

    /// Closes the WebSocket politely (best effort, bounded by the session timeout).
    pub async fn close(mut self) {
        let timeout = self.timeout.min(Duration::from_secs(2));
        let _ = tokio::time::timeout(timeout, async {
            if self.ws.close(None).await.is_ok() {
                // Drain until the server's close frame (or EOF) so the server closes the TCP connection first.
                while let Some(Ok(_)) = self.ws.next().await {}
            }
        })
        .await;
    }
}

fn upgrade_error(e: tungstenite::Error) -> BenchError {
    match e {
        tungstenite::Error::Http(response) => {
            let body = response
                .body()
                .as_deref()
                .map(|b| format!(", body: {:?}", truncate(&String::from_utf8_lossy(b))))
                .unwrap_or_default();
            BenchError::UpgradeRefused {
                status: response.status().as_u16(),
                body,
            }
        }
        other => BenchError::ws("upgrading to WebSocket", other),
    }
}

/// Cuts `s` to a displayable length on a char boundary.
pub fn truncate(s: &str) -> String {
    if s.len() <= DETAIL_LEN {
        return s.to_owned();
    }
    let mut end = DETAIL_LEN;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes)", &s[..end], s.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookie_extraction() {
        let h = "livetemplate-id=g7f3a9; Path=/; HttpOnly; SameSite=Lax; Max-Age=31536000";
        assert_eq!(extract_cookie(h, COOKIE_NAME), Some("g7f3a9"));
        assert_eq!(
            extract_cookie("livetemplate-id=\"q1\"", COOKIE_NAME),
            Some("q1")
        );
        assert_eq!(
            extract_cookie(" livetemplate-id = v ;Path=/", COOKIE_NAME),
            Some("v")
        );
        assert_eq!(extract_cookie("lvt-flash=a%3Db; Path=/", COOKIE_NAME), None);
        assert_eq!(extract_cookie("xlivetemplate-id=v", COOKIE_NAME), None);
        assert_eq!(
            extract_cookie("livetemplate-id=; Max-Age=0", COOKIE_NAME),
            None
        );
        assert_eq!(extract_cookie("garbage", COOKIE_NAME), None);
        assert_eq!(extract_cookie("", COOKIE_NAME), None);
    }

    #[test]
    fn cookie_found_among_several_headers() {
        let raw =
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nset-cookie: lvt-flash=x; Path=/\r\n\
                    Set-Cookie: livetemplate-id=abc; Path=/\r\nContent-Length: 2\r\n\r\nok";
        let (head, len) = parse_response_head(raw).unwrap().unwrap();
        assert_eq!(head.status, 200);
        assert_eq!(&raw[len..], b"ok");
        let cookie = head
            .header_values("Set-Cookie")
            .find_map(|v| extract_cookie(v, COOKIE_NAME));
        assert_eq!(cookie, Some("abc"));
        assert!(body_complete(&head, b"ok"));
        assert!(!body_complete(&head, b"o"));
    }

    #[test]
    fn response_head_parsing() {
        assert_eq!(
            parse_response_head(b"HTTP/1.1 200 OK\r\nA: b\r\n").unwrap(),
            None
        );
        let (h, _) = parse_response_head(b"HTTP/1.0 404\r\n\r\n")
            .unwrap()
            .unwrap();
        assert_eq!((h.status, h.headers.len()), (404, 0));
        assert!(matches!(
            parse_response_head(b"SSH-2.0-OpenSSH\r\n\r\n"),
            Err(BenchError::BadHttp(_))
        ));
        assert!(matches!(
            parse_response_head(b"HTTP/1.1 abc OK\r\n\r\n"),
            Err(BenchError::BadHttp(_))
        ));
        assert!(matches!(
            parse_response_head(b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"),
            Err(BenchError::BadHttp(_))
        ));
        let (chunked, _) =
            parse_response_head(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                .unwrap()
                .unwrap();
        assert!(!body_complete(&chunked, b"2\r\nok\r\n"));
        assert!(body_complete(&chunked, b"2\r\nok\r\n0\r\n\r\n"));
    }

    #[test]
    fn reply_classification() {
        assert_eq!(classify(r#"{"pong":true}"#), Reply::Pong);
        assert_eq!(
            classify(
                r#"{"tree":{"0":"1"},"meta":{"success":true,"errors":{},"action":"increment"}}"#
            ),
            Reply::Update {
                action: "increment".into()
            }
        );
        // Initial render: meta without action.
        assert_eq!(
            classify(r#"{"tree":{"s":["a","b"],"0":"0"},"meta":{"success":true,"errors":{}}}"#),
            Reply::Render { has_meta: true }
        );
        // Pushes: without meta, or Go-style with meta and null errors.
        assert_eq!(
            classify(r#"{"tree":{"0":"5"}}"#),
            Reply::Render { has_meta: false }
        );
        assert_eq!(
            classify(r#"{"tree":{},"meta":{"success":true,"errors":null}}"#),
            Reply::Render { has_meta: true }
        );
        assert_eq!(
            classify(r#"{"type":"error","code":"topic_forbidden","topic":"room:42"}"#),
            Reply::ErrorEnvelope {
                code: Some("topic_forbidden".into())
            }
        );
        assert_eq!(
            classify(r#"{"upload_name":"f","entries":[]}"#),
            Reply::Upload
        );
        // pong false is not a pong; then it has no tree.
        assert!(matches!(classify(r#"{"pong":false}"#), Reply::Invalid(_)));
        assert!(matches!(
            classify(r#"{"tree":null,"meta":{}}"#),
            Reply::Invalid(_)
        ));
        assert!(matches!(classify(r#"{"tree":[1]}"#), Reply::Invalid(_)));
        assert!(matches!(
            classify(r#"{"tree":{},"meta":3}"#),
            Reply::Invalid(_)
        ));
        assert!(matches!(classify("[]"), Reply::Invalid(_)));
        assert!(matches!(classify("not json"), Reply::Invalid(_)));
        assert!(matches!(classify(""), Reply::Invalid(_)));
    }

    #[test]
    fn action_message_carries_the_data_object() {
        let data: serde_json::Value = serde_json::from_str(r#"{"text":"hi \"x\""}"#).unwrap();
        let msg = action_message("send", &data);
        let back: serde_json::Value = serde_json::from_str(&msg).unwrap();
        assert_eq!(back["action"], "send");
        assert_eq!(back["data"], data);
        assert_eq!(back.as_object().map(|o| o.len()), Some(2));
    }

    #[test]
    fn click_message_matches_the_browser_client() {
        assert_eq!(
            click_message("increment"),
            r#"{"action":"increment","data":{},"submitter":"increment"}"#
        );
    }

    #[test]
    fn wire_bytes() {
        assert_eq!(ws_wire_bytes(56, true), 62);
        assert_eq!(ws_wire_bytes(74, false), 76);
        assert_eq!(ws_wire_bytes(200, false), 204);
        assert_eq!(ws_wire_bytes(70_000, true), 70_014);
    }

    #[test]
    fn truncation_respects_char_boundaries() {
        let s = "é".repeat(300);
        let t = truncate(&s);
        assert!(t.len() < s.len());
        assert!(t.contains("600 bytes"));
        assert_eq!(truncate("short"), "short");
    }
}
