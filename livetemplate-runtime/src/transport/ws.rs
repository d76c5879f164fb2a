//! The WebSocket at the page URL (E3): the upgrade, then one task per connection
//! running a serialized event loop over client frames, server dispatches and its own
//! bounded send queue, so a reply is written by the task that rendered it.
//!
//! # Answers to bad input
//!
//! | input | answer |
//! |---|---|
//! | text frame that is not a valid action message | `{"tree":{},"meta":{"success":false,"errors":{"_general":"malformed message: …"}}}`; connection kept |
//! | unknown action, or an internal action named by the client | the action fails with `_general` = `unknown action "x"` (rendered, `success:false`, `meta.action` echoed); warning logged |
//! | frame or message over the size limit | close `1009` (message too big) |
//! | binary frame | close `1003` (unsupported data): the client only sends text |
//! | over the rate limit | `{"tree":{},"meta":{"success":false,"errors":{"_rate_limit":"…"},"action":"…"}}` (`action` echoed when the message names one); message dropped |
//! | a client that does not read (send queue full) | connection dropped |
//! | over [`LiveHandler::max_connections`](super::LiveHandler::max_connections) | `503` before the upgrade |
//! | the server shuts down ([`Registry::close_all`](super::Registry::close_all)) | close `1001` (going away); the client reconnects; upgrades answered `503` meanwhile |
//! | foreign `Origin` | `403` before the upgrade |
//! | `ctx.subscribe` refused (policy, someone else's `lvt:` topic, malformed topic) | `{"type":"error","code":"topic_forbidden"` (or `"topic_invalid"`)`,"topic":"…"}` before the reply; connection kept, even when mount returns the error |
//!
//! Server-initiated updates (peer publishes, server pushes, another tab's `sync`) are
//! sent as `{"tree":…}` without `meta`; field errors on screen are kept until the
//! user's own next action.

use std::borrow::Cow;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use std::collections::VecDeque;
use std::task::{Context, Poll};

use futures_util::{Sink, SinkExt, StreamExt};
use http::header::{
    CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_VERSION, UPGRADE,
};
use http::{HeaderValue, Request, StatusCode};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

use super::http::{auth_response, origin_allowed, query_map, respond, text};
use super::live::{close_update, error_message, Meta, Page, RenderFailure, Shared, UPDATE_OPEN};
use super::options::RateLimit;
use super::realtime::{is_topic_error, owned_parts, Link};
use super::registry::{ConnectionHandle, Delivery};
use super::session::{identify, Who};
use super::{parse_message, Response};
use crate::context::Disconnect;
use crate::controller::Controller;
use crate::error::GENERAL_ERROR_KEY;
use crate::input::read_message;

/// Reply to a rate-limited message.
const RATE_LIMIT_MESSAGE: &str = "Too many requests. Please slow down.";

static NEXT_CONNECTION_ID: AtomicU64 = AtomicU64::new(1);

/// Whether the request asks for a WebSocket upgrade.
pub(crate) fn is_upgrade<B>(req: &Request<B>) -> bool {
    let has_token = |name, token: &str| {
        req.headers()
            .get_all(name)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    has_token(UPGRADE, "websocket")
}

/// Validate the upgrade request, answer 101 and start the connection task.
pub(crate) fn upgrade<C: Controller, B>(shared: Arc<Shared<C>>, req: Request<B>) -> Response {
    let opts = &shared.options;
    if !opts.websocket {
        return text(StatusCode::BAD_REQUEST, "WebSocket is disabled");
    }
    if shared.registry.is_closing() {
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "the server is shutting down",
        );
    }
    // The body of an upgrade request is empty; only the head matters.
    let (mut parts, _body) = req.into_parts();
    let connection_upgrade = parts
        .headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case("upgrade"));
    let version_ok = parts
        .headers
        .get(SEC_WEBSOCKET_VERSION)
        .is_some_and(|v| v == "13");
    let Some(key) = parts
        .headers
        .get(SEC_WEBSOCKET_KEY)
        .filter(|_| connection_upgrade && version_ok)
    else {
        return text(StatusCode::BAD_REQUEST, "invalid WebSocket upgrade request");
    };
    let accept = derive_accept_key(key.as_bytes());
    if !origin_allowed(
        &parts,
        opts.allowed_origins.as_deref(),
        opts.trust_forwarded_headers,
    ) {
        tracing::warn!(origin = ?parts.headers.get(http::header::ORIGIN), "WebSocket from a foreign origin refused");
        return text(StatusCode::FORBIDDEN, "origin not allowed");
    }
    let who = match identify(
        &parts,
        opts.authenticator.as_deref(),
        opts.trust_forwarded_headers,
    ) {
        Ok(w) => w,
        Err(e) => return auth_response(e),
    };
    let Some(on_upgrade) = parts.extensions.remove::<OnUpgrade>() else {
        tracing::error!("WebSocket upgrade requested but the server does not support upgrades");
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            "upgrades not supported by this server",
        );
    };
    let query = query_map(&parts);
    let request = Arc::new(owned_parts(&parts));
    let mut resp = respond(StatusCode::SWITCHING_PROTOCOLS, "text/plain", Bytes::new());
    resp.headers_mut().remove(http::header::CONTENT_TYPE);
    let h = resp.headers_mut();
    h.insert(UPGRADE, HeaderValue::from_static("websocket"));
    h.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(v) = HeaderValue::from_str(&accept) {
        h.insert(SEC_WEBSOCKET_ACCEPT, v);
    }
    if let Some(c) = &who.set_cookie {
        super::http::add_cookie(&mut resp, c);
    }
    let Some(task) = shared.registry.try_track_task(opts.max_connections) else {
        tracing::warn!(
            max = opts.max_connections,
            "WebSocket refused: connection limit reached"
        );
        return text(StatusCode::SERVICE_UNAVAILABLE, "too many connections");
    };
    tokio::spawn(async move {
        let _task = task;
        match on_upgrade.await {
            Ok(upgraded) => match upgraded.downcast::<TokioIo<TcpStream>>() {
                // A TCP connection served by hyper-util (`serve`, axum): frames go
                // straight to the socket instead of through the upgrade's layers.
                Ok(parts) => {
                    // A copy of what was read ahead, and hyper's read buffer (which the
                    // `Bytes` would keep alive for the life of the connection) let go.
                    let ahead = parts.read_buf.to_vec();
                    drop(parts.read_buf);
                    run(shared, parts.io.into_inner(), ahead, who, query, request).await
                }
                Err(upgraded) => {
                    let io = TokioIo::new(upgraded);
                    run(shared, io, Vec::new(), who, query, request).await
                }
            },
            Err(e) => tracing::debug!(error = %e, "WebSocket upgrade failed"),
        }
    });
    resp
}

/// The socket configuration: small buffers so idle connections stay cheap.
fn config(max_message_size: usize) -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(1024)
        .write_buffer_size(0)
        .max_write_buffer_size(16 << 20)
        .max_message_size(Some(max_message_size))
        .max_frame_size(Some(max_message_size))
}

/// A token bucket.
struct Bucket {
    limit: RateLimit,
    tokens: f64,
    last: Instant,
}

impl Bucket {
    fn new(limit: RateLimit) -> Bucket {
        Bucket {
            limit,
            tokens: f64::from(limit.burst),
            last: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        if !self.limit.enabled() {
            return true;
        }
        let now = Instant::now();
        let refill = now.duration_since(self.last).as_secs_f64() * self.limit.per_second;
        self.tokens = (self.tokens + refill).min(f64::from(self.limit.burst));
        self.last = now;
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// What woke the event loop.
enum Event {
    /// A frame, an error or the end of the stream.
    Frame(Option<Result<Message, WsError>>),
    /// A server or peer dispatch.
    Dispatch(Delivery),
    /// Writing failed or the server shuts down.
    End(End),
}

/// Why the event loop stopped.
enum End {
    /// The client closed or the socket failed.
    Gone,
    /// We close with this code and reason.
    Close(CloseCode, &'static str),
    /// The client does not read: drop it without ceremony.
    Slow,
}

/// The bounded send queue of one connection, written by the connection's own task:
/// a reply goes out on the next turn of the event loop, with no hand-off to another
/// task (a cross-thread wake-up would cost more than the whole render).
struct Outbox {
    queue: VecDeque<Message>,
    capacity: usize,
    /// Frames were handed to the socket but not flushed yet.
    unflushed: bool,
    /// Where updates are composed: kept between updates, so an update costs one
    /// allocation (its frame) whatever its parts.
    compose: String,
}

/// Updates up to this size are copied out of the composition buffer, which is kept;
/// a larger one takes the buffer with it (idle connections stay small).
const COMPOSE_KEEP: usize = 4096;

impl Outbox {
    fn new(capacity: usize) -> Outbox {
        Outbox {
            queue: VecDeque::new(),
            capacity: capacity.max(1),
            unflushed: false,
            compose: String::new(),
        }
    }

    /// Begin an UpdateResponse with the page's update (rendered and diffed against
    /// what the client holds); [`Outbox::finish_update`] completes and queues it.
    /// Returns whether the tree is not empty (`{}`: nothing changed).
    fn begin_update<C: Controller>(
        &mut self,
        page: &mut Page<C>,
        shared: &Shared<C>,
    ) -> Result<bool, RenderFailure> {
        let out = &mut self.compose;
        out.clear();
        out.push_str(UPDATE_OPEN);
        page.render_update(shared, out)?;
        Ok(&out[UPDATE_OPEN.len()..] != "{}")
    }

    /// Complete the update begun by [`Outbox::begin_update`] with `meta` and queue it.
    fn finish_update(&mut self, meta: Option<&Meta<'_>>) -> Result<(), End> {
        close_update(&mut self.compose, meta);
        let text = if self.compose.len() > COMPOSE_KEEP {
            std::mem::take(&mut self.compose)
        } else {
            // Exactly sized: the frame takes this allocation over as it is.
            self.compose.as_str().to_owned()
        };
        self.send(text)
    }

    /// Queue a text frame; `Err` when the client does not keep up.
    fn send(&mut self, text: String) -> Result<(), End> {
        if self.queue.len() >= self.capacity {
            tracing::warn!("send queue full: slow client disconnected");
            return Err(End::Slow);
        }
        self.queue.push_back(Message::text(text));
        self.unflushed = true;
        Ok(())
    }

    /// Whether something waits to be written or flushed.
    fn pending(&self) -> bool {
        self.unflushed
    }

    /// Write the queue into the socket and flush it. Cancel-safe: a frame leaves the
    /// queue only when the socket has taken it.
    fn poll_drain<S>(&mut self, sink: &mut S, cx: &mut Context<'_>) -> Poll<Result<(), End>>
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        while !self.queue.is_empty() {
            match sink.poll_ready_unpin(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(write_failed(e))),
                Poll::Ready(Ok(())) => {}
            }
            if let Some(msg) = self.queue.pop_front() {
                if let Err(e) = sink.start_send_unpin(msg) {
                    return Poll::Ready(Err(write_failed(e)));
                }
            }
        }
        match sink.poll_flush_unpin(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => Poll::Ready(Err(write_failed(e))),
            Poll::Ready(Ok(())) => {
                self.unflushed = false;
                Poll::Ready(Ok(()))
            }
        }
    }

    /// [`Outbox::poll_drain`] as a future.
    async fn drain<S>(&mut self, sink: &mut S) -> Result<(), End>
    where
        S: Sink<Message, Error = WsError> + Unpin,
    {
        std::future::poll_fn(|cx| self.poll_drain(sink, cx)).await
    }
}

/// How a failed write ends the connection.
fn write_failed(e: WsError) -> End {
    match e {
        WsError::WriteBufferFull(_) => {
            tracing::warn!("write buffer full: slow client disconnected");
            End::Slow
        }
        e => {
            tracing::debug!(error = %e, "WebSocket write failed");
            End::Gone
        }
    }
}

/// One connection, from the first frame to `on_disconnect`.
async fn run<C, S>(
    shared: Arc<Shared<C>>,
    io: S,
    read_ahead: Vec<u8>,
    who: Who,
    query: std::collections::BTreeMap<String, String>,
    request: Arc<http::request::Parts>,
) where
    C: Controller,
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let opts = &shared.options;
    let config = Some(config(opts.max_message_size));
    let mut ws = if read_ahead.is_empty() {
        WebSocketStream::from_raw_socket(io, Role::Server, config).await
    } else {
        // Bytes of the first frames that arrived with the upgrade request.
        WebSocketStream::from_partially_read(io, read_ahead, Role::Server, config).await
    };
    let mut outbox = Outbox::new(opts.send_queue);

    let id = NEXT_CONNECTION_ID.fetch_add(1, Ordering::Relaxed);
    let (sender, mut dispatch_rx) = shared.registry.dispatch_queue(opts.dispatch_queue);
    shared.registry.register(ConnectionHandle {
        id,
        group_id: who.group_id.clone(),
        user_id: who.user_id.clone(),
        sender: sender.clone(),
    });
    opts.pubsub
        .broker
        .attach(&shared.scope, &shared.registry, &who.group_id);
    let mut page = Page::new(&shared, who, query, request.uri.path()).await;
    page.connection_id = Some(id);
    page.link = Some(Arc::new(Link::new(
        &opts.pubsub,
        shared.registry.clone(),
        shared.scope.clone(),
        request,
        Some((id, sender)),
    )));
    let kind = page.persist.connect_kind();
    tracing::debug!(connection = id, group = %page.who.group_id, "connected");

    let end = 'conn: {
        if let Err(e) = page.mount(&shared, kind).await {
            // A refused subscription was answered with an error envelope; the page
            // stays usable without it.
            if !is_topic_error(&e) {
                tracing::warn!(connection = id, error = %e, "mount failed; closing");
                break 'conn End::Close(CloseCode::Error, "mount failed");
            }
        }
        page.on_connect(&shared).await;
        if let Err(end) = send_envelopes(&mut page, &mut outbox) {
            break 'conn end;
        }
        if let Err(e) = outbox.begin_update(&mut page, &shared) {
            tracing::error!(connection = id, error = %e, "render failed; closing");
            break 'conn End::Close(CloseCode::Error, "render failed");
        }
        let meta = Meta {
            capabilities: shared.capabilities(),
            ..page.meta(None)
        };
        if let Err(end) = outbox.finish_update(Some(&meta)) {
            break 'conn end;
        }
        let mut bucket = Bucket::new(opts.rate_limit);
        let mut closing = shared.registry.closing();
        // One future for the whole loop: it stays registered with the registry's watch
        // instead of registering again for every frame.
        let shutdown = shutting_down(&mut closing);
        tokio::pin!(shutdown);
        loop {
            // One poll for everything the connection waits on: the socket (unsplit, so
            // reading and writing need no lock between them), the dispatch queue and
            // shutdown. Writing what is queued comes first; it never blocks reading.
            let event = std::future::poll_fn(|cx| {
                if outbox.pending() {
                    if let Poll::Ready(Err(end)) = outbox.poll_drain(&mut ws, cx) {
                        return Poll::Ready(Event::End(end));
                    }
                }
                if let Poll::Ready(frame) = ws.poll_next_unpin(cx) {
                    return Poll::Ready(Event::Frame(frame));
                }
                // The connection holds a sender itself: the queue never closes.
                if let Poll::Ready(Some(d)) = dispatch_rx.poll_recv(cx) {
                    return Poll::Ready(Event::Dispatch(d));
                }
                if std::future::Future::poll(shutdown.as_mut(), cx).is_ready() {
                    return Poll::Ready(Event::End(End::Close(
                        CloseCode::Away,
                        "server shutting down",
                    )));
                }
                Poll::Pending
            })
            .await;
            let step = match event {
                Event::Frame(Some(Ok(Message::Text(t)))) => {
                    on_text(&shared, &mut page, &mut bucket, &mut outbox, t.as_str()).await
                }
                Event::Frame(Some(Ok(Message::Binary(_)))) => Err(End::Close(
                    CloseCode::Unsupported,
                    "binary frames are not supported",
                )),
                Event::Frame(Some(Ok(Message::Close(_))) | None) => Err(End::Gone),
                Event::Frame(Some(Ok(_))) => Ok(()),
                Event::Frame(Some(Err(WsError::Capacity(e)))) => {
                    tracing::warn!(connection = id, error = %e, "oversized message; closing");
                    Err(End::Close(CloseCode::Size, "message too big"))
                }
                Event::Frame(Some(Err(e))) => {
                    tracing::debug!(connection = id, error = %e, "WebSocket read failed");
                    Err(End::Gone)
                }
                Event::Dispatch(d) => on_dispatch(&shared, &mut page, &mut outbox, d).await,
                Event::End(end) => Err(end),
            };
            if let Err(end) = step {
                break 'conn end;
            }
            if outbox.pending() {
                // Write the reply now: the socket nearly always takes it at once. If it
                // does not, the waker is registered and the next poll finishes the job.
                let now = std::future::poll_fn(|cx| Poll::Ready(outbox.poll_drain(&mut ws, cx)));
                if let Poll::Ready(Err(end)) = now.await {
                    break 'conn end;
                }
            }
        }
    };

    // Say goodbye within a bounded time: what is queued, then the close handshake. A
    // client that does not read is dropped without ceremony.
    if let End::Close(code, reason) = end {
        outbox.queue.push_back(Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        })));
        outbox.unflushed = true;
    }
    if !matches!(end, End::Slow) {
        let goodbye = async {
            if outbox.drain(&mut ws).await.is_ok() {
                let _ = SinkExt::close(&mut ws).await;
            }
        };
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), goodbye).await;
    }
    drop(ws);

    // Gone from the registry and the broker first, so that the hook's publishes and
    // pushes reach only the connections that remain.
    shared.registry.unregister(&page.who.group_id, id);
    opts.pubsub.broker.remove_connection(id);
    opts.pubsub.broker.detach(&page.who.group_id);
    let info = Disconnect {
        connection_id: id,
        group_id: page.who.group_id.clone(),
        user_id: page.who.user_id.clone(),
        publisher: opts.pubsub.broker.publisher(),
    };
    let hook = std::panic::AssertUnwindSafe(shared.controller.on_disconnect(&page.state, &info));
    if futures_util::FutureExt::catch_unwind(hook).await.is_err() {
        tracing::error!(connection = id, "on_disconnect panicked");
    }
    tracing::debug!(connection = id, "disconnected");
}

/// Resolves once the registry is closing.
async fn shutting_down(closing: &mut tokio::sync::watch::Receiver<bool>) {
    if closing.wait_for(|closing| *closing).await.is_err() {
        // The registry is gone: nothing will ever ask this connection to close.
        std::future::pending::<()>().await;
    }
}

/// One client text frame.
async fn on_text<C: Controller>(
    shared: &Shared<C>,
    page: &mut Page<C>,
    bucket: &mut Bucket,
    outbox: &mut Outbox,
    text: &str,
) -> Result<(), End> {
    if !bucket.take() {
        // Echo the action (decision 6): the client passes `meta.action` on in its
        // `lvt:error`/`lvt:done`/`lvt:updated` events, so handlers scoped to an action
        // learn that theirs was refused. Pings and unreadable messages get the bare reply.
        let action = parse_message(text, shared.options.max_message_size)
            .ok()
            .map(|m| m.action)
            .filter(|a| !a.starts_with("__"));
        return outbox.send(error_message(
            "_rate_limit",
            RATE_LIMIT_MESSAGE,
            action.as_deref(),
        ));
    }
    let msg = match read_message(text, shared.options.max_message_size) {
        Ok(m) => m,
        Err(e) => {
            tracing::debug!(error = %e, "malformed message");
            return outbox.send(error_message(
                GENERAL_ERROR_KEY,
                &format!("malformed message: {e}"),
                None,
            ));
        }
    };
    let action = match &*msg.action {
        "__ping__" => return outbox.send("{\"pong\":true}".into()),
        "__navigate__" => {
            let kind = page.persist.connect_kind();
            page.navigate(shared, msg.data, kind).await;
            Cow::Borrowed("__navigate__")
        }
        name => {
            page.client_action(shared, name, msg.data, msg.submitter.as_deref())
                .await
        }
    };
    send_envelopes(page, outbox)?;
    match outbox.begin_update(page, shared) {
        Ok(_) => outbox.finish_update(Some(&page.meta(Some(&action)))),
        Err(e) => {
            tracing::error!(error = %e, action = %action, "render failed");
            outbox.send(error_message(
                GENERAL_ERROR_KEY,
                "render failed",
                Some(&action),
            ))
        }
    }
}

/// Send the error envelopes the last call produced (refused subscriptions).
fn send_envelopes<C: Controller>(page: &mut Page<C>, outbox: &mut Outbox) -> Result<(), End> {
    for envelope in page.envelopes.drain(..) {
        outbox.send(envelope)?;
    }
    Ok(())
}

/// One server/peer dispatch or sync: on success the diff goes out without `meta`.
async fn on_dispatch<C: Controller>(
    shared: &Shared<C>,
    page: &mut Page<C>,
    outbox: &mut Outbox,
    delivery: Delivery,
) -> Result<(), End> {
    let changed = match delivery {
        Delivery::Run(d) => page.server_dispatch(shared, *d).await,
        Delivery::Replace(state) => page.replace_state(&state),
    };
    send_envelopes(page, outbox)?;
    if !changed {
        return Ok(());
    }
    match outbox.begin_update(page, shared) {
        Ok(false) => Ok(()),
        Ok(true) => outbox.finish_update(None),
        Err(e) => {
            tracing::error!(error = %e, "render failed after a dispatch");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_refuses() {
        let mut b = Bucket::new(RateLimit {
            per_second: 0.0001,
            burst: 2,
        });
        assert!(b.take() && b.take());
        assert!(!b.take());
        let mut off = Bucket::new(RateLimit {
            per_second: 0.0,
            burst: 0,
        });
        assert!((0..100).all(|_| off.take()));
    }
}
