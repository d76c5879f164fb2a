//! Running handlers without a web framework: [`App`] (a small router) and [`serve`].

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http::{Request, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::watch;

use super::broker::{Broker, FanoutError, Publisher};
use super::http::{respond, text};
use super::tracker::Tracker;
use super::{LiveHandler, Response};
use crate::controller::{BoxFuture, Controller};
use crate::replica::RedisFanout;
use crate::store::{MemoryStore, SessionStore};

/// A handler with its controller type erased.
trait Endpoint: Send + Sync + 'static {
    fn call(&self, req: Request<Incoming>) -> BoxFuture<'static, Response>;
    /// This endpoint using `store` unless it chose its own.
    fn adopt_store(&self, store: &Arc<dyn SessionStore>) -> Arc<dyn Endpoint>;
    /// Close the live connections and wait for them ([`LiveHandler::shutdown`]).
    fn shutdown(&self) -> BoxFuture<'static, ()>;
}

impl<C: Controller> Endpoint for LiveHandler<C> {
    fn call(&self, req: Request<Incoming>) -> BoxFuture<'static, Response> {
        let h = self.clone();
        Box::pin(async move { h.handle(req).await })
    }

    fn adopt_store(&self, store: &Arc<dyn SessionStore>) -> Arc<dyn Endpoint> {
        Arc::new(LiveHandler::adopt_store(self, store))
    }

    fn shutdown(&self) -> BoxFuture<'static, ()> {
        let h = self.clone();
        Box::pin(async move { h.shutdown().await })
    }
}

/// Several live pages (and optionally a directory of static files) on one server.
///
/// Pages match the request path exactly (any query). An `App` made from a single
/// handler (`App::from(handler)`) serves it on every path.
///
/// All pages share the app's [`Broker`] (unless a handler was given its own with
/// [`LiveHandler::broker`]), so a publish from one page reaches subscribers on every
/// page, and [`App::publisher`] reaches them all.
///
/// All pages of an `App` keep their `#[persist]` fields in one session store: a
/// [`MemoryStore`] by default, or the one given to [`App::session_store`]. Records are
/// keyed by session group and path, so pages never see each other's fields. A handler
/// given its own store with [`LiveHandler::session_store`] keeps it.
///
/// # Examples
///
/// ```no_run
/// # use livetemplate_runtime::transport::{App, LiveHandler};
/// # async fn demo<A: livetemplate_runtime::Controller, B: livetemplate_runtime::Controller>(
/// #     counter: LiveHandler<A>, todos: LiveHandler<B>) -> std::io::Result<()> {
/// let app = App::new().page("/", counter).page("/todos", todos);
/// livetemplate_runtime::transport::serve("127.0.0.1:8080", app).await
/// # }
/// ```
#[derive(Clone, Default)]
pub struct App {
    pages: Vec<(String, Arc<dyn Endpoint>)>,
    broker: Broker,
    fallback: Option<Arc<dyn Endpoint>>,
    assets: Vec<(String, PathBuf)>,
    store: Option<Arc<dyn SessionStore>>,
    /// How long [`serve_with_shutdown`] waits for connections (default
    /// [`DEFAULT_SHUTDOWN_GRACE`]).
    grace: Option<Duration>,
}

/// How long [`serve_with_shutdown`] waits, by default, for connections to end.
pub const DEFAULT_SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

impl App {
    /// An app with no pages.
    pub fn new() -> App {
        App::default()
    }

    /// Serve `handler` at `path` (exact match).
    pub fn page<C: Controller>(mut self, path: impl Into<String>, handler: LiveHandler<C>) -> App {
        let handler = handler.adopt_broker(&self.broker);
        let store = self
            .store
            .get_or_insert_with(|| Arc::new(MemoryStore::new()));
        let handler = handler.adopt_store(store);
        self.pages.push((path.into(), Arc::new(handler)));
        self
    }

    /// The broker every page without its own delivers publishes through (give it to
    /// handlers mounted elsewhere with [`LiveHandler::broker`] to share it).
    pub fn broker(&self) -> &Broker {
        &self.broker
    }

    /// A handle publishing out of band to the subscribers of every page (see
    /// [`Publisher`]).
    pub fn publisher(&self) -> Publisher {
        self.broker.publisher()
    }

    /// Keep the `#[persist]` fields of every page in `store` (pages added before and
    /// after this call), except pages whose handler set its own store.
    pub fn session_store(mut self, store: impl SessionStore) -> App {
        let store: Arc<dyn SessionStore> = Arc::new(store);
        for (_, page) in &mut self.pages {
            *page = page.adopt_store(&store);
        }
        if let Some(fallback) = &mut self.fallback {
            *fallback = fallback.adopt_store(&store);
        }
        self.store = Some(store);
        self
    }

    /// Run this app as one of several replicas: publishes, server pushes and
    /// `ctx.sync()` of every page that uses the app's broker also reach the connections
    /// of the other replicas, through `fanout` (see [`replica`](crate::replica)).
    /// Controllers do not change. Give every replica the same fan-out prefix and a shared
    /// session store (a [`RedisStore`](crate::store::RedisStore) on the same connector).
    ///
    /// # Errors
    ///
    /// [`FanoutError`] when the app already has a fan-out, or `fanout` serves another
    /// app.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use livetemplate_runtime::{replica::RedisFanout, store::{RedisConnector, RedisStore}};
    /// # use livetemplate_runtime::transport::{App, LiveHandler};
    /// # fn demo<C: livetemplate_runtime::Controller>(page: LiveHandler<C>) -> Result<App, Box<dyn std::error::Error>> {
    /// let redis = RedisConnector::new("redis://127.0.0.1:6379")?;
    /// let app = App::new()
    ///     .page("/", page)
    ///     .session_store(RedisStore::new(redis.clone()))
    ///     .fanout(RedisFanout::new(redis))?;
    /// # Ok(app) }
    /// ```
    pub fn fanout(self, fanout: RedisFanout) -> Result<App, FanoutError> {
        self.broker.fanout(fanout)?;
        Ok(self)
    }

    /// Serve the files under `dir` at URL prefix `prefix` (GET/HEAD only; no directory
    /// listings, no `..`). Use it to self-host the client: `App::assets("/_lvt",
    /// "node_modules/@livetemplate/client")` with
    /// [`LiveHandler::client_assets("/_lvt")`](LiveHandler::client_assets).
    pub fn assets(mut self, prefix: impl Into<String>, dir: impl Into<PathBuf>) -> App {
        let prefix = prefix.into().trim_end_matches('/').to_string();
        self.assets.push((prefix, dir.into()));
        self
    }

    /// How long [`serve_with_shutdown`] waits for connections to end once the signal
    /// came (disconnect hooks, requests in flight); default [`DEFAULT_SHUTDOWN_GRACE`].
    pub fn shutdown_grace(mut self, grace: Duration) -> App {
        self.grace = Some(grace);
        self
    }

    /// Shut every page's live connections down gracefully ([`LiveHandler::shutdown`]):
    /// WebSockets close with `1001` so clients reconnect, disconnect hooks run, new
    /// upgrades are refused. Resolves when all connection tasks have ended.
    pub async fn shutdown(&self) {
        let endpoints = self.pages.iter().map(|(_, ep)| ep).chain(&self.fallback);
        futures_util::future::join_all(endpoints.map(|ep| ep.shutdown())).await;
    }

    async fn call(&self, req: Request<Incoming>) -> Response {
        let path = req.uri().path();
        for (prefix, dir) in &self.assets {
            if let Some(rest) = path
                .strip_prefix(prefix.as_str())
                .and_then(|r| r.strip_prefix('/'))
            {
                return static_file(req.method(), dir, rest).await;
            }
        }
        if let Some((_, ep)) = self.pages.iter().find(|(p, _)| p == path) {
            return ep.call(req).await;
        }
        match &self.fallback {
            Some(ep) => ep.call(req).await,
            None => text(StatusCode::NOT_FOUND, "not found"),
        }
    }
}

impl<C: Controller> From<LiveHandler<C>> for App {
    fn from(handler: LiveHandler<C>) -> App {
        App {
            broker: handler.shared_broker().clone(),
            fallback: Some(Arc::new(handler)),
            ..App::default()
        }
    }
}

async fn static_file(method: &http::Method, dir: &Path, rest: &str) -> Response {
    if method != http::Method::GET && method != http::Method::HEAD {
        return text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    }
    let decoded = percent_encoding::percent_decode_str(rest).decode_utf8_lossy();
    let rel = Path::new(decoded.as_ref());
    if rel.components().any(|c| !matches!(c, Component::Normal(_))) {
        return text(StatusCode::NOT_FOUND, "not found");
    }
    let path = dir.join(rel);
    let content_type = match path.extension().and_then(|e| e.to_str()) {
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("map" | "json") => "application/json",
        Some("html") => "text/html; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    };
    match tokio::task::spawn_blocking(move || std::fs::read(path)).await {
        Ok(Ok(bytes)) => respond(StatusCode::OK, content_type, bytes),
        _ => text(StatusCode::NOT_FOUND, "not found"),
    }
}

/// Serve `app` (a [`LiveHandler`] or an [`App`]) on `addr` until the process ends.
///
/// # Errors
///
/// Binding the address failed.
pub async fn serve(addr: impl ToSocketAddrs, app: impl Into<App>) -> io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    serve_listener(listener, app).await
}

/// Serve `app` on an already bound listener (e.g. port 0 in tests) until the process
/// ends.
///
/// # Errors
///
/// None today: failed accepts are logged and retried.
pub async fn serve_listener(listener: TcpListener, app: impl Into<App>) -> io::Result<()> {
    serve_with_shutdown(listener, app, std::future::pending()).await
}

/// Serve `app` on `listener` until `signal` resolves, then shut down gracefully:
///
/// 1. stop accepting connections (the listener is closed);
/// 2. close every live WebSocket with `1001` (going away): the browser client
///    reconnects, to another replica behind a load balancer, and each connection's
///    `on_disconnect` hook runs (presence lists shrink at once);
/// 3. let HTTP requests in flight finish; idle keep-alive connections close;
/// 4. return once all of that is done, or after `grace`, whichever comes first.
///
/// ```no_run
/// # use livetemplate_runtime::transport::{serve_with_shutdown, App};
/// # async fn demo(app: App) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
/// let ctrl_c = async {
///     let _ = tokio::signal::ctrl_c().await;
/// };
/// serve_with_shutdown(listener, app, ctrl_c).await
/// # }
/// ```
///
/// # Errors
///
/// None today: failed accepts are logged and retried.
pub async fn serve_with_shutdown(
    listener: TcpListener,
    app: impl Into<App>,
    signal: impl Future<Output = ()>,
) -> io::Result<()> {
    let app = Arc::new(app.into());
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "listening");
    }
    let (stop, stopping) = watch::channel(false);
    let connections = Tracker::default();
    let mut signal = std::pin::pin!(signal);
    loop {
        // The signal first: a steady stream of connections must not hide it.
        let accepted = tokio::select! {
            biased;
            () = &mut signal => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, _peer) = match accepted {
            Ok(s) => s,
            Err(e) => {
                // Out of file descriptors and the like: wait a little instead of spinning.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let mut stopping = stopping.clone();
        let guard = connections.track();
        tokio::spawn(async move {
            let _guard = guard;
            let service = hyper::service::service_fn(move |req| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(app.call(req).await) }
            });
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                result = conn.as_mut() => result,
                () = stopped(&mut stopping) => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "HTTP connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down");
    stop.send_replace(true);
    let drained = async {
        tokio::join!(app.shutdown(), connections.wait_idle());
    };
    let grace = app.grace.unwrap_or(DEFAULT_SHUTDOWN_GRACE);
    if tokio::time::timeout(grace, drained).await.is_err() {
        tracing::warn!(
            ?grace,
            "connections still open after the shutdown grace period"
        );
    }
    Ok(())
}

/// Resolves once `stopping` turns true (never, if its sender is gone).
async fn stopped(stopping: &mut watch::Receiver<bool>) {
    if stopping.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}
