//! Topics, publishes and sync as user code sees them: the `Context` methods
//! (`self_topic`, `subscribe`, `unsubscribe`, `publish`, `sync`, `broadcast_action`,
//! `session`), and what the transport does with what they queued.
//!
//! A page (one WebSocket connection, or one HTTP request) holds a [`Link`]: its broker,
//! topic policy, registry, request and — on a WebSocket — its connection. Every
//! `Context` of that page carries the link and collects, in a [`CallState`], the
//! publishes, the sync request and the error envelopes of one call. After a successful
//! call that committed and persisted its state, [`CallState::deliver`] hands the
//! publishes to the broker and the sync to the other tabs.

use std::sync::Arc;

use http::request::Parts;
use serde::Serialize;
use serde_json::{Map, Value};

use super::broker::{data_map, Broker, PublishError, MAX_PUBLISHES_PER_ACTION};
use super::push::Session;
use super::registry::{Delivery, DispatchError, DispatchSender, Registry, Synced};
use crate::context::{Context, Origin};
use crate::controller::{Action, LiveState};
use crate::error::Error;
use crate::pubsub::{
    parse_subscription, self_topic, validate_publish, AclRequest, ConnId, Subscription, TopicError,
    TopicPolicy,
};

/// Error envelope code of a subscription the topic policy refused, or of a reserved
/// topic that is not the caller's own self topic.
pub const TOPIC_FORBIDDEN: &str = "topic_forbidden";
/// Error envelope code of a subscription to a malformed topic.
pub const TOPIC_INVALID: &str = "topic_invalid";

/// Why `ctx.subscribe` refused a topic. On a WebSocket connection the client also
/// receives the error envelope `{"type":"error","code":…,"topic":…}` (code
/// [`SubscribeError::code`]) and the connection stays open.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubscribeError {
    /// The topic is empty or malformed (code `topic_invalid`).
    #[error("cannot subscribe to `{topic}`: {reason}")]
    Invalid {
        /// The topic as given.
        topic: String,
        /// What is wrong with it.
        reason: TopicError,
    },
    /// A reserved `lvt:` topic other than the caller's own self topic (code
    /// `topic_forbidden`).
    #[error(
        "cannot subscribe to `{0}`: only your own self topic (`ctx.self_topic()`) may be \
         subscribed in the reserved `lvt:` namespace"
    )]
    Reserved(String),
    /// The topic policy refused the developer topic (code `topic_forbidden`): admit it
    /// with `LiveHandler::topic_acl` or `LiveHandler::open_topics`.
    #[error(
        "cannot subscribe to `{0}`: refused by the topic policy (developer topics are \
         denied unless `topic_acl` admits them or `open_topics()` is set)"
    )]
    Forbidden(String),
}

impl SubscribeError {
    /// The error envelope code: `topic_invalid` or `topic_forbidden`.
    pub fn code(&self) -> &'static str {
        match self {
            SubscribeError::Invalid { .. } => TOPIC_INVALID,
            SubscribeError::Reserved(_) | SubscribeError::Forbidden(_) => TOPIC_FORBIDDEN,
        }
    }

    /// The refused topic, as given.
    pub fn topic(&self) -> &str {
        match self {
            SubscribeError::Invalid { topic, .. }
            | SubscribeError::Reserved(topic)
            | SubscribeError::Forbidden(topic) => topic,
        }
    }

    /// The error envelope sent to a WebSocket client.
    pub(crate) fn envelope(&self) -> String {
        let topic = serde_json::to_string(self.topic()).unwrap_or_else(|_| "\"\"".into());
        format!(
            r#"{{"type":"error","code":"{}","topic":{topic}}}"#,
            self.code()
        )
    }
}

/// Whether a hook's error is a refused subscription (which does not end a connection).
pub(crate) fn is_topic_error(e: &Error) -> bool {
    e.downcast_ref::<SubscribeError>().is_some()
}

/// A handler's topic configuration: the broker and the policy for developer topics.
#[derive(Clone, Debug, Default)]
pub(crate) struct PubSubOptions {
    pub(crate) broker: Broker,
    /// Set with `LiveHandler::broker`: an `App` keeps it.
    pub(crate) explicit_broker: bool,
    pub(crate) policy: TopicPolicy,
}

/// What the realtime methods of a page's contexts reach.
#[derive(Debug)]
pub(crate) struct Link {
    pub(crate) broker: Broker,
    pub(crate) policy: TopicPolicy,
    pub(crate) registry: Arc<Registry>,
    /// The page's name for pushes and syncs between replicas.
    pub(crate) scope: Arc<str>,
    /// The request that opened the page or connection (for the ACL).
    pub(crate) request: Arc<Parts>,
    /// The WebSocket connection (`None` over plain HTTP, where nothing is registered).
    pub(crate) conn: Option<(ConnId, DispatchSender)>,
}

impl Link {
    pub(crate) fn new(
        opts: &PubSubOptions,
        registry: Arc<Registry>,
        scope: Arc<str>,
        request: Arc<Parts>,
        conn: Option<(ConnId, DispatchSender)>,
    ) -> Link {
        Link {
            broker: opts.broker.clone(),
            policy: opts.policy.clone(),
            registry,
            scope,
            request,
            conn,
        }
    }
}

/// A copy of a request head that owns its bytes: header values and the URI parsed by
/// the server share the connection's read buffer, which a long-lived WebSocket would
/// otherwise keep alive. Extensions are not kept.
pub(crate) fn owned_parts(parts: &Parts) -> Parts {
    let mut head = http::Request::new(()).into_parts().0;
    head.method = parts.method.clone();
    head.version = parts.version;
    head.uri = parts
        .uri
        .to_string()
        .parse()
        .unwrap_or_else(|_| parts.uri.clone());
    head.headers.reserve(parts.headers.len());
    for (name, value) in &parts.headers {
        if let Ok(v) = http::HeaderValue::from_bytes(value.as_bytes()) {
            head.headers.append(name.clone(), v);
        }
    }
    head
}

/// A publish queued by an action, delivered if the action succeeds.
#[derive(Clone, Debug, PartialEq)]
pub struct Published {
    /// The concrete topic.
    pub topic: String,
    /// The action receivers run.
    pub action: Action,
    /// Its data (the receivers' `ctx.data()`).
    pub data: Map<String, Value>,
}

/// The realtime part of one context: its page's link and what the call queued.
///
/// Without a link (`Context::for_test`) every developer topic is admitted, nothing is
/// registered and nothing is delivered.
#[derive(Debug, Default)]
pub(crate) struct CallState {
    pub(crate) link: Option<Arc<Link>>,
    pub(crate) publishes: Vec<Published>,
    pub(crate) sync: bool,
    /// Error envelopes for the WebSocket client (refused subscriptions).
    pub(crate) envelopes: Vec<String>,
}

impl CallState {
    /// The connection id and dispatch queue, on a WebSocket.
    fn conn(&self) -> Option<&(ConnId, DispatchSender)> {
        self.link.as_ref()?.conn.as_ref()
    }

    /// After the call succeeded and its state was committed and persisted: publish to
    /// every subscriber except this connection, and hand `state` to the other tabs when
    /// `sync` was asked for.
    pub(crate) fn deliver<S: LiveState>(self, state: &S, group_id: &str) {
        let Some(link) = &self.link else {
            return;
        };
        let exclude = self.conn().map(|(id, _)| *id);
        for p in &self.publishes {
            link.broker
                .deliver(&p.topic, p.action, &p.data, Origin::Peer, exclude);
        }
        if self.sync {
            if link.broker.replicas().is_some() {
                match serde_json::to_value(state) {
                    Ok(value) => link.broker.sync_remote(&link.scope, group_id, &value),
                    Err(e) => {
                        tracing::error!(error = %e, "ctx.sync(): the state does not serialize; other replicas not synced")
                    }
                }
            }
            let others: Vec<_> = link
                .registry
                .connections_of_group(group_id)
                .into_iter()
                .filter(|c| Some(c.id) != exclude)
                .collect();
            if others.is_empty() {
                return;
            }
            let shared: Arc<dyn std::any::Any + Send + Sync> = Arc::new(state.clone());
            for conn in others {
                match conn
                    .sender
                    .deliver(Delivery::Replace(Synced::Local(shared.clone())))
                {
                    Ok(()) | Err(DispatchError::Closed) => {}
                    Err(DispatchError::Full) => {
                        tracing::warn!(connection = conn.id, "sync dropped: dispatch queue full")
                    }
                }
            }
        }
    }
}

impl Context {
    /// This caller's self topic: `lvt:user:<user>` when the authenticator named a user,
    /// else `lvt:session:<group>`. Subscribe to it (usually in mount) and publish to it
    /// to reach the other tabs of the same user or session.
    pub fn self_topic(&self) -> String {
        self_topic(self.user_id(), self.group_id())
    }

    /// Subscribe this connection to `topic`: your own [`self_topic`](Self::self_topic),
    /// or a developer topic (`/`-separated segments of letters, digits, `_` and `-`;
    /// a whole segment may be `*` to match any one segment, as in `room/*`) admitted by
    /// the handler's topic policy.
    ///
    /// On a WebSocket connection the subscription takes effect at once and lasts until
    /// [`unsubscribe`](Self::unsubscribe) or the connection closes (it is not undone
    /// if the action fails). Subscribing twice is harmless. Over plain HTTP only the
    /// checks run (there is no connection to deliver to).
    ///
    /// # Errors
    ///
    /// A [`SubscribeError`]: malformed topic (`topic_invalid`), someone else's reserved
    /// topic or a topic the policy refuses (`topic_forbidden`). On a WebSocket the client
    /// also receives the error envelope and the connection stays open, even when the
    /// error is returned from mount.
    pub fn subscribe(&mut self, topic: &str) -> Result<(), Error> {
        match self.check_subscription(topic) {
            Ok(sub) => {
                if let (Some(link), Some((id, sender))) =
                    (&self.realtime.link, self.realtime.conn())
                {
                    link.broker
                        .subscribe(*id, sub.pattern().clone(), sender.clone());
                }
                Ok(())
            }
            Err(e) => {
                tracing::warn!(topic, group = %self.group_id(), error = %e, "subscription refused");
                if self.realtime.conn().is_some() {
                    self.realtime.envelopes.push(e.envelope());
                }
                Err(e.into())
            }
        }
    }

    fn check_subscription(&self, topic: &str) -> Result<Subscription, SubscribeError> {
        let sub = parse_subscription(topic, &self.self_topic()).map_err(|reason| match reason {
            TopicError::Reserved(_) => SubscribeError::Reserved(topic.to_string()),
            reason => SubscribeError::Invalid {
                topic: topic.to_string(),
                reason,
            },
        })?;
        if let (Subscription::Developer(_), Some(link)) = (&sub, &self.realtime.link) {
            let req = AclRequest {
                topic,
                user_id: self.user_id(),
                group_id: self.group_id(),
                request: &link.request,
            };
            if !link.policy.admits(&req) {
                return Err(SubscribeError::Forbidden(topic.to_string()));
            }
        }
        Ok(sub)
    }

    /// Stop receiving publishes to exactly `topic` (as it was subscribed, pattern
    /// included). No-op when not subscribed or over plain HTTP.
    pub fn unsubscribe(&mut self, topic: &str) {
        if let (Some(link), Some((id, _))) = (&self.realtime.link, self.realtime.conn()) {
            link.broker.unsubscribe(*id, topic);
        }
    }

    /// Ask every subscriber of `topic` (a concrete topic, no `*`) except this connection
    /// to run `action` with `data` (a serializable struct or map, or `()`) on its own
    /// state; each sends its own diff.
    ///
    /// Queued: delivered only if this action (or hook) succeeds, after its state is
    /// committed and persisted; discarded if it fails. The publishing connection is not
    /// a receiver — update its state directly. Publishes from plain HTTP (a form post,
    /// or mount on a page load) reach every subscriber. Receivers run the action by name
    /// against their own controller (`Client` or `Internal` actions) and drop names they
    /// do not know. Use the constants `#[controller]` generates (`Self::REFRESH`).
    ///
    /// # Errors
    ///
    /// A [`PublishError`] (also logged): the topic is malformed or a pattern, the data is
    /// not a JSON object, more than 100 publishes in one action, or this action was
    /// itself delivered by a publish or a push (one hop only).
    pub fn publish(
        &mut self,
        topic: &str,
        action: Action,
        data: impl Serialize,
    ) -> Result<(), Error> {
        let checked = self
            .check_publish(|| format!("publish of `{action}` to `{topic}`"))
            .and_then(|()| validate_publish(topic).map_err(PublishError::from))
            .and_then(|()| data_map(action, data));
        match checked {
            Ok(data) => {
                self.realtime.publishes.push(Published {
                    topic: topic.to_string(),
                    action,
                    data,
                });
                Ok(())
            }
            Err(e) => Err(self.refuse(e)),
        }
    }

    fn check_publish(&self, what: impl FnOnce() -> String) -> Result<(), PublishError> {
        if matches!(self.origin(), Origin::Peer | Origin::Server) {
            return Err(PublishError::OneHop { what: what() });
        }
        if self.realtime.publishes.len() >= MAX_PUBLISHES_PER_ACTION {
            return Err(PublishError::TooMany);
        }
        Ok(())
    }

    fn refuse(&self, e: PublishError) -> Error {
        if let Some(link) = &self.realtime.link {
            link.broker.count_refused();
        }
        tracing::error!(action = ?self.action(), group = %self.group_id(), error = %e, "publish refused");
        e.into()
    }

    /// Make every other live tab of this session group on this page (on every replica,
    /// when the app has a fan-out) adopt this connection's state once the action succeeds: the "converged state" is the state
    /// this action commits (all of it, per-connection fields included), and each other
    /// tab replaces its own state with a copy and re-renders. No subscription is needed.
    ///
    /// Sugar over the dispatch queue that publishes use: queued like a publish, refused
    /// like a publish inside an action delivered by a publish or a push. From plain HTTP
    /// it reaches every live tab of the group.
    ///
    /// # Errors
    ///
    /// [`PublishError::OneHop`] when this action was delivered by a publish or a push.
    pub fn sync(&mut self) -> Result<(), Error> {
        match self.check_publish(|| "`ctx.sync()`".to_string()) {
            Ok(()) => {
                self.realtime.sync = true;
                Ok(())
            }
            Err(e) => Err(self.refuse(e)),
        }
    }

    /// `publish(channel, action, ())`: every connection subscribed to `channel` (the
    /// receivers must have subscribed, usually in mount) except this one runs `action`.
    ///
    /// # Errors
    ///
    /// As [`publish`](Self::publish).
    pub fn broadcast_action(&mut self, channel: &str, action: Action) -> Result<(), Error> {
        self.publish(channel, action, ())
    }

    /// A handle on this session group's live connections on this page (on every
    /// replica, when the app has a fan-out), for server push from any task (see
    /// [`Session`]).
    pub fn session(&self) -> Session {
        match &self.realtime.link {
            Some(link) => Session::new(
                link.registry.clone(),
                self.group_id(),
                Some((link.broker.clone(), link.scope.clone())),
            ),
            None => Session::new(Arc::new(Registry::new()), self.group_id(), None),
        }
    }

    /// The publishes queued so far by this call (for unit tests of actions).
    pub fn published(&self) -> &[Published] {
        &self.realtime.publishes
    }

    /// Whether this call asked for [`sync`](Self::sync) (for unit tests of actions).
    pub fn sync_requested(&self) -> bool {
        self.realtime.sync
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ConnectKind;

    const REFRESH: Action = Action::unchecked("refresh");

    #[test]
    fn publish_rules_in_a_test_context() {
        let mut ctx = Context::for_test("send", Value::Null);
        assert!(ctx.subscribe(&ctx.self_topic()).is_ok());
        assert!(ctx.subscribe("room/*").is_ok());
        let e = ctx.subscribe("lvt:session:someone-else").unwrap_err();
        assert!(matches!(
            e.downcast_ref::<SubscribeError>(),
            Some(SubscribeError::Reserved(_))
        ));
        let e = ctx.subscribe("room//x").unwrap_err();
        assert_eq!(
            e.downcast_ref::<SubscribeError>().map(|e| e.code()),
            Some(TOPIC_INVALID)
        );
        assert!(ctx
            .publish("room/1", REFRESH, serde_json::json!({"id": 7}))
            .is_ok());
        assert!(ctx.publish("room/*", REFRESH, ()).is_err());
        assert!(ctx.broadcast_action("room/2", REFRESH).is_ok());
        assert!(ctx.sync().is_ok() && ctx.sync_requested());
        assert_eq!(ctx.published().len(), 2);
        assert_eq!(
            ctx.published()[0].data.get("id"),
            Some(&serde_json::json!(7))
        );
        for _ in 2..MAX_PUBLISHES_PER_ACTION {
            assert!(ctx.publish("room/1", REFRESH, ()).is_ok());
        }
        let e = ctx.publish("room/1", REFRESH, ()).unwrap_err();
        assert_eq!(
            e.downcast_ref::<PublishError>(),
            Some(&PublishError::TooMany)
        );
        // Over plain HTTP and in tests nothing is connected: pushes find nobody.
        assert!(!ctx.session().is_connected());
    }

    #[test]
    fn delivered_actions_cannot_publish() {
        for origin in [Origin::Peer, Origin::Server] {
            let mut ctx = Context::new(ConnectKind::Action, origin, "g".into());
            let e = ctx.publish("room/1", REFRESH, ()).unwrap_err();
            assert!(matches!(
                e.downcast_ref::<PublishError>(),
                Some(PublishError::OneHop { .. })
            ));
            assert!(ctx.sync().is_err());
            assert!(ctx.published().is_empty());
        }
    }

    #[test]
    fn owned_parts_keep_the_head() {
        let (parts, ()) = http::Request::post("/room?x=1")
            .header("cookie", "a=b")
            .header("x-user", "ann")
            .body(())
            .expect("request")
            .into_parts();
        let copy = owned_parts(&parts);
        assert_eq!(copy.method, http::Method::POST);
        assert_eq!(copy.uri, "/room?x=1");
        assert_eq!(copy.headers, parts.headers);
    }

    #[test]
    fn envelopes_name_the_code_and_topic() {
        let e = SubscribeError::Forbidden("room/1".into());
        assert_eq!(
            e.envelope(),
            r#"{"type":"error","code":"topic_forbidden","topic":"room/1"}"#
        );
    }
}
