//! [`LiveHandler`]: one controller + template mounted at one URL, as a
//! `tower_service::Service`.

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context as TaskContext, Poll};

use bytes::Bytes;
use http::{HeaderValue, Method, Request, StatusCode};
use hyper::body::Body;

use super::broker::{Broker, Publisher};
use super::live::Shared;
use super::options::{ClientAssets, Options, RateLimit};
use super::page::new_wrapper_id;
use super::persist::PersistStats;
use super::registry::Registry;
use super::session::Authenticator;
use super::{http as http_paths, ws, BoxError, Response, Template};
use crate::controller::Controller;
use crate::pubsub::{AclRequest, TopicPolicy};
use crate::store::SessionStore;

/// Header telling the client whether to use WebSocket (`enabled`) or HTTP (`disabled`).
pub const WEBSOCKET_HEADER: &str = "x-livetemplate-websocket";

/// A live page: serves, at one URL with any query, the HTML page (GET), the capability
/// probe (HEAD), the WebSocket, the JSON initial tree and actions, and no-JS form posts.
///
/// It is a `tower_service::Service` for any request body, so it mounts in axum with
/// `route_service`/`nest_service`, or runs alone with [`serve`](super::serve).
///
/// The live template sees the state serialized as a JSON object plus the reserved key
/// `lvt`: `lvt.errors` (field → message; `_general` for general errors) and
/// `lvt.flash` (key → message). A state field named `lvt` is shadowed.
///
/// # Examples
///
/// ```no_run
/// # use livetemplate_runtime::{transport::LiveHandler, Template};
/// # fn demo<C: livetemplate_runtime::Controller>(controller: C, state: C::State) {
/// let template = Template::builder("counter", "<p>Count: {{count}}</p>").build().unwrap();
/// let handler = LiveHandler::with_state(controller, template, state)
///     .title("Counter")
///     .rate_limit(20.0, 40);
/// # }
/// ```
pub struct LiveHandler<C: Controller> {
    shared: Arc<Shared<C>>,
}

impl<C: Controller> Clone for LiveHandler<C> {
    fn clone(&self) -> Self {
        LiveHandler {
            shared: self.shared.clone(),
        }
    }
}

impl<C: Controller> LiveHandler<C>
where
    C::State: Default,
{
    /// A handler whose initial state is `C::State::default()`.
    pub fn new(controller: C, template: Template) -> LiveHandler<C> {
        LiveHandler::with_state(controller, template, C::State::default())
    }
}

impl<C: Controller> LiveHandler<C> {
    /// A handler with this initial state (every page and connection starts from a clone).
    pub fn with_state(controller: C, template: Template, state: C::State) -> LiveHandler<C> {
        let scope: Arc<str> = format!("{}#{}", std::any::type_name::<C>(), template.name()).into();
        LiveHandler {
            shared: Arc::new(Shared {
                controller: Arc::new(controller),
                template: Arc::new(template),
                layout: None,
                initial: Arc::new(state),
                options: Options::default(),
                registry: Arc::new(Registry::new()),
                wrapper_id: new_wrapper_id(),
                scope,
            }),
        }
    }

    fn shared_mut(&mut self) -> &mut Shared<C> {
        Arc::make_mut(&mut self.shared)
    }

    /// Replace the initial state.
    pub fn state(mut self, state: C::State) -> Self {
        self.shared_mut().initial = Arc::new(state);
        self
    }

    /// The page `<title>` (default layout) and `lvt.title` (custom layouts).
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.shared_mut().options.title = title.into();
        self
    }

    /// A custom full-document layout; see the [`page`](super::page) module for the data
    /// it receives (`{{{lvt.head}}}`, `{{{lvt.body}}}`, …).
    pub fn layout(mut self, layout: Template) -> Self {
        self.shared_mut().layout = Some(Arc::new(layout));
        self
    }

    /// Largest accepted client message (WebSocket message or POST body) in bytes;
    /// default 64 KiB. A larger WebSocket message closes the socket with 1009, a larger
    /// POST gets 413.
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.shared_mut().options.max_message_size = bytes.max(1);
        self
    }

    /// Turn the WebSocket off: every response says `X-LiveTemplate-WebSocket: disabled`
    /// (the client then uses HTTP) and upgrade requests get 400.
    pub fn websocket(mut self, enabled: bool) -> Self {
        self.shared_mut().options.websocket = enabled;
        self
    }

    /// Keep a render cache per WebSocket connection (default on). For templates whose
    /// `{{#each}}` items can be reused, each connection then holds a copy of its
    /// template data and its rendered items, and an update renders only the items whose
    /// data changed: one changed row of a 1,000-row table costs ~0.1 ms instead of ~2 ms,
    /// but the connection holds about 5× the memory of its last tree (~1.8 MB instead of
    /// ~0.4 MB for such a table). Turn it off for pages with big lists and very many
    /// viewers where memory matters more than update time. Templates without reusable
    /// items keep no cache either way.
    pub fn render_cache(mut self, enabled: bool) -> Self {
        self.shared_mut().options.render_cache = enabled;
        self
    }

    /// Origins allowed to open the WebSocket and POST (exact match, `"*"` allows all).
    /// Default: same origin only. Requests without an `Origin` header are allowed.
    pub fn allowed_origins<I, S>(mut self, origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.shared_mut().options.allowed_origins =
            Some(origins.into_iter().map(Into::into).collect());
        self
    }

    /// Whether `X-Forwarded-Proto` / `Forwarded: proto=` are believed (for the cookie's
    /// `Secure` flag and the same-origin check). Default true: run behind a proxy that
    /// sets them, or turn this off.
    pub fn trust_forwarded_headers(mut self, trust: bool) -> Self {
        self.shared_mut().options.trust_forwarded_headers = trust;
        self
    }

    /// Live WebSocket connections this handler keeps at most (default: no limit). An
    /// upgrade over the limit is answered `503` and logged; the page itself still loads
    /// (and the browser client retries its WebSocket later). Counts connections until
    /// their disconnect hook has run.
    pub fn max_connections(mut self, connections: usize) -> Self {
        self.shared_mut().options.max_connections = connections;
        self
    }

    /// Messages a connection may have waiting to be written (default 32). A client that
    /// falls this far behind is disconnected.
    pub fn send_queue(mut self, messages: usize) -> Self {
        self.shared_mut().options.send_queue = messages.max(1);
        self
    }

    /// Server-dispatched actions a connection may have waiting (default 16); more are
    /// dropped and counted.
    pub fn dispatch_queue(mut self, actions: usize) -> Self {
        self.shared_mut().options.dispatch_queue = actions.max(1);
        self
    }

    /// Client messages per second and burst per connection (default 10/s, burst 20, or
    /// the `LT_RATE_LIMIT` environment variable: `off` or `<per_second>,<burst>`);
    /// `0` for either disables the limit. Excess messages are answered with a
    /// `_rate_limit` error and dropped.
    pub fn rate_limit(mut self, per_second: f64, burst: u32) -> Self {
        self.shared_mut().options.rate_limit = RateLimit { per_second, burst };
        self
    }

    /// Load the client from `base_url` instead of the CDN: the URL of a directory laid
    /// out like the npm package (`dist/livetemplate-client.browser.js`,
    /// `livetemplate.css`), e.g. a path served by [`App::assets`](super::App::assets).
    pub fn client_assets(mut self, base_url: impl AsRef<str>) -> Self {
        self.shared_mut().options.assets = ClientAssets::at(base_url.as_ref());
        self
    }

    /// Whether the wrapper carries `data-lvt-loading="true"` (default true: the client
    /// shows a loading bar and disables forms until connected).
    pub fn loading_indicator(mut self, on: bool) -> Self {
        self.shared_mut().options.loading_indicator = on;
        self
    }

    /// Identify users and session groups with this authenticator (default: anonymous,
    /// grouped by the `livetemplate-id` cookie).
    pub fn authenticator(mut self, auth: impl Authenticator) -> Self {
        self.shared_mut().options.authenticator = Some(Arc::new(auth));
        self
    }

    /// Deliver publishes through `broker`, e.g. one shared by several handlers mounted
    /// in axum. An [`App`](super::App) keeps a broker set here instead of giving the page
    /// its own.
    pub fn broker(mut self, broker: Broker) -> Self {
        let pubsub = &mut self.shared_mut().options.pubsub;
        pubsub.broker = broker;
        pubsub.explicit_broker = true;
        self
    }

    /// The broker this handler delivers publishes through.
    pub(crate) fn shared_broker(&self) -> &Broker {
        &self.shared.options.pubsub.broker
    }

    /// Use `broker` unless one was set with [`broker`](Self::broker).
    pub(crate) fn adopt_broker(&self, broker: &Broker) -> LiveHandler<C> {
        let mut handler = self.clone();
        let pubsub = &handler.shared.options.pubsub;
        if !pubsub.explicit_broker && !pubsub.broker.same_as(broker) {
            handler.shared_mut().options.pubsub.broker = broker.clone();
        }
        handler
    }

    /// Keep the `#[persist]` fields of this page in `store` (any [`SessionStore`],
    /// including an `Arc<dyn SessionStore>`), e.g. a
    /// [`RedisStore`](crate::store::RedisStore) so that they survive a server restart
    /// and are shared by replicas.
    ///
    /// Default: a [`MemoryStore`](crate::store::MemoryStore) of this handler, replaced
    /// by the [`App`](super::App)'s store when the handler is added to one. A store set
    /// here is kept by the `App`. A state without `#[persist]` fields never touches it.
    pub fn session_store(mut self, store: impl SessionStore) -> Self {
        self.shared_mut()
            .options
            .persistence
            .set_store(Arc::new(store));
        self
    }

    /// Use `store` unless one was set with [`session_store`](Self::session_store).
    pub(crate) fn adopt_store(&self, store: &Arc<dyn SessionStore>) -> LiveHandler<C> {
        let mut handler = self.clone();
        let mut persistence = handler.shared.options.persistence.clone();
        if persistence.adopt_store(store) {
            handler.shared_mut().options.persistence = persistence;
        }
        handler
    }

    /// Let connections subscribe to any developer topic (well-formed, e.g. `room/1` or
    /// `room/*`). Replaces a [`topic_acl`](Self::topic_acl).
    pub fn open_topics(mut self) -> Self {
        self.shared_mut().options.pubsub.policy = TopicPolicy::Open;
        self
    }

    /// Decide each subscription to a developer topic with `acl`, which sees the literal
    /// topic (a pattern such as `room/*`, never its matches), the user, the session
    /// group and the request that opened the page or WebSocket. Without an ACL or
    /// [`open_topics`](Self::open_topics) every developer topic is refused. A connection
    /// may always subscribe to its own self topic. Replaces `open_topics`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # use livetemplate_runtime::transport::LiveHandler;
    /// # fn demo<C: livetemplate_runtime::Controller>(h: LiveHandler<C>) -> LiveHandler<C> {
    /// h.topic_acl(|req| req.topic == "room/lobby" || req.user_id.is_some())
    /// # }
    /// ```
    pub fn topic_acl(
        mut self,
        acl: impl Fn(&AclRequest<'_>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.shared_mut().options.pubsub.policy = TopicPolicy::acl(acl);
        self
    }

    /// A handle publishing out of band through this handler's broker (see
    /// [`Publisher`]). If the handler is later added to an [`App`](super::App) without
    /// an explicit [`broker`](Self::broker), the app's broker replaces it: then take
    /// the publisher from the app.
    pub fn publisher(&self) -> Publisher {
        self.shared.options.pubsub.broker.publisher()
    }

    /// The session store holding this page's `#[persist]` fields.
    pub fn store(&self) -> &Arc<dyn SessionStore> {
        self.shared.options.persistence.store()
    }

    /// Counters of this handler's session store use: reads, writes, skipped writes and
    /// failures (each failure is also logged).
    pub fn persist_stats(&self) -> PersistStats {
        self.shared.options.persistence.stats()
    }

    /// The live connections of this handler.
    pub fn registry(&self) -> &Arc<Registry> {
        &self.shared.registry
    }

    /// Shut this handler's live connections down gracefully: every WebSocket is closed
    /// with `1001` (going away), so that the browser client reconnects (to another
    /// replica, behind a load balancer), each connection's `on_disconnect` hook runs,
    /// and new upgrades are answered `503`. Resolves when every connection task has
    /// ended. [`serve_with_shutdown`](super::serve_with_shutdown) calls this; call it
    /// yourself when the handler is mounted in another server (after that server
    /// stopped accepting, e.g. in axum's `with_graceful_shutdown`).
    ///
    /// Plain HTTP requests (page loads, fetch mode, form posts) are not refused: they
    /// need no connection state.
    pub async fn shutdown(&self) {
        self.shared.registry.close_all();
        self.shared.registry.wait_closed().await;
    }

    /// The `data-lvt-id` of this handler's wrapper element.
    pub fn wrapper_id(&self) -> &str {
        &self.shared.wrapper_id
    }

    /// Answer one request.
    pub async fn handle<B>(&self, req: Request<B>) -> Response
    where
        B: Body<Data = Bytes> + Send + 'static,
        B::Error: Into<BoxError>,
    {
        let shared = &self.shared;
        let mut resp = match *req.method() {
            Method::HEAD => http_paths::text(StatusCode::OK, ""),
            Method::GET if ws::is_upgrade(&req) => ws::upgrade(shared.clone(), req),
            Method::GET => {
                let (parts, _body) = req.into_parts();
                http_paths::get(shared, &parts).await
            }
            Method::POST => http_paths::post(shared, req).await,
            _ => {
                let mut r = http_paths::text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
                r.headers_mut().insert(
                    http::header::ALLOW,
                    HeaderValue::from_static("GET, HEAD, POST"),
                );
                r
            }
        };
        let ws = if shared.options.websocket {
            "enabled"
        } else {
            "disabled"
        };
        resp.headers_mut()
            .insert(WEBSOCKET_HEADER, HeaderValue::from_static(ws));
        resp
    }
}

impl<C, B> tower_service::Service<Request<B>> for LiveHandler<C>
where
    C: Controller,
    B: Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = crate::controller::BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _cx: &mut TaskContext<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, req: Request<B>) -> Self::Future {
        let handler = self.clone();
        Box::pin(async move { Ok(handler.handle(req).await) })
    }
}
