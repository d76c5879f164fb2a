//! Topics, publishes, sync and server push over real WebSockets: exact frames exchanged
//! with an in-process server, controllers written with the macros.

#[path = "../../livetemplate-runtime/tests/protocol_support/mod.rs"]
mod protocol_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use livetemplate::prelude::*;
use livetemplate::{Broker, BrokerMetrics, Disconnect, LiveHandler, PushError, Session, Template};
use protocol_support::{
    call, connect, eventually, recv, request, session_cookie, start, try_connect, Ws,
};
use serde_json::json;
use tokio::sync::Semaphore;

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct LabState {
    count: i64,
    note: String,
}

/// What the tests observe from inside the controller.
struct Probe {
    sessions: Mutex<Vec<Session>>,
    entered: AtomicUsize,
    gate: Semaphore,
    /// Every ACL question: the literal topic, and whether the request was the upgrade.
    acl: Mutex<Vec<(String, bool)>>,
}

struct Lab {
    probe: Arc<Probe>,
}

fn topic_of(ctx: &Context) -> String {
    ctx.get_str("topic").unwrap_or_else(|| "room/1".into())
}

#[controller(state = LabState)]
impl Lab {
    /// Subscribes to every topic of `?sub=a,b`; a refused one fails the mount.
    #[mount]
    fn mount(&self, ctx: &mut Context) -> Result<()> {
        let topics = ctx.query().get("sub").cloned().unwrap_or_default();
        for topic in topics.split(',').filter(|t| !t.is_empty()) {
            ctx.subscribe(topic)?;
        }
        Ok(())
    }

    #[on_connect]
    fn connected(&self, ctx: &mut Context) {
        self.probe
            .sessions
            .lock()
            .expect("lock")
            .push(ctx.session());
    }

    #[on_disconnect]
    fn gone(&self, info: &Disconnect) {
        let _ = info.publisher.publish("room/1", Self::LEFT, ());
    }

    #[action]
    fn bump(&self, state: &mut LabState, ctx: &mut Context) -> Result<()> {
        state.count += 1;
        ctx.publish(&topic_of(ctx), Self::BUMPED, json!({ "from": state.count }))
    }

    /// What peers run: on their own state. With `again`, tries to publish further.
    #[action(internal)]
    fn bumped(&self, state: &mut LabState, ctx: &mut Context) {
        state.count += 1;
        if ctx.has("again") {
            if let Err(e) = ctx.publish("room/1", Self::BUMPED, ()) {
                state.note = e.to_string();
            }
        }
    }

    #[action(internal)]
    fn left(&self, state: &mut LabState) {
        state.note = "someone left".into();
    }

    #[action]
    fn join(&self, ctx: &mut Context) -> Result<()> {
        ctx.subscribe(&topic_of(ctx))
    }

    #[action]
    fn join_self(&self, ctx: &mut Context) -> Result<()> {
        let topic = ctx.self_topic();
        ctx.subscribe(&topic)
    }

    #[action]
    fn leave(&self, ctx: &mut Context) {
        ctx.unsubscribe(&topic_of(ctx));
    }

    #[action]
    fn shout(&self, ctx: &mut Context) -> Result<()> {
        ctx.broadcast_action(&topic_of(ctx), Self::BUMPED)
    }

    #[action]
    fn converge(&self, state: &mut LabState, ctx: &mut Context) -> Result<()> {
        state.count = ctx.get_i64("to").unwrap_or(0);
        state.note = "converged".into();
        ctx.sync()
    }

    #[action]
    fn validate(&self) -> Result<()> {
        Err(FieldError::new("name", "required").into())
    }

    #[action]
    fn poke(&self, ctx: &mut Context) -> Result<()> {
        ctx.session().trigger(Self::BUMPED, ())?;
        Ok(())
    }

    #[action]
    fn flood(&self, ctx: &mut Context) -> Result<()> {
        for _ in 0..ctx.get_i64("n").unwrap_or(1) {
            ctx.publish("room/1", Self::BUMPED, ())?;
        }
        Ok(())
    }

    #[action]
    fn stall(&self, ctx: &mut Context) -> Result<()> {
        ctx.publish("room/1", Self::SLOW, ())
    }

    /// Blocks its connection's loop until the test opens the gate.
    #[action(internal)]
    async fn slow(&self, state: &mut LabState) {
        self.probe.entered.fetch_add(1, Ordering::SeqCst);
        if let Ok(permit) = self.probe.gate.acquire().await {
            permit.forget();
        }
        state.note = "slow done".into();
    }
}

/// Slots: 0 count, 1 note, 2 the `name` field error, 3 the general error.
const TEMPLATE: &str =
    "<p>{{count}}</p><p>{{note}}</p><p>{{lvt.errors.name}}</p><p>{{lvt.errors._general}}</p>";

struct Fixture {
    addr: std::net::SocketAddr,
    broker: Broker,
    probe: Arc<Probe>,
}

async fn lab_with(dispatch_queue: usize) -> Fixture {
    let probe = Arc::new(Probe {
        sessions: Mutex::new(Vec::new()),
        entered: AtomicUsize::new(0),
        gate: Semaphore::new(0),
        acl: Mutex::new(Vec::new()),
    });
    let broker = Broker::new();
    let seen = probe.clone();
    let template = Template::builder("lab", TEMPLATE)
        .build()
        .expect("template");
    let handler = LiveHandler::new(
        Lab {
            probe: probe.clone(),
        },
        template,
    )
    .broker(broker.clone())
    .dispatch_queue(dispatch_queue)
    .rate_limit(0.0, 0)
    .topic_acl(move |req| {
        seen.acl.lock().expect("lock").push((
            req.topic.to_string(),
            req.request.headers.contains_key("upgrade"),
        ));
        req.topic.starts_with("room/")
    });
    let addr = start(handler).await;
    Fixture {
        addr,
        broker,
        probe,
    }
}

async fn lab() -> Fixture {
    lab_with(16).await
}

/// A tab: connect with `cookie` at `/?sub=…` and read the initial tree.
async fn tab(f: &Fixture, cookie: &str, sub: &str) -> Ws {
    let mut ws = connect(f.addr, &format!("/?sub={sub}"), cookie).await;
    let first = recv(&mut ws).await;
    assert!(first.starts_with(r#"{"tree":{"s":"#), "{first}");
    ws
}

fn msg(action: &str, data: serde_json::Value) -> String {
    json!({ "action": action, "data": data }).to_string()
}

fn reply(tree: &str, action: &str) -> String {
    format!(r#"{{"tree":{tree},"meta":{{"success":true,"errors":{{}},"action":"{action}"}}}}"#)
}

const PONG: &str = r#"{"pong":true}"#;

async fn ping(ws: &mut Ws) {
    assert_eq!(call(ws, r#"{"action":"__ping__"}"#).await, PONG);
}

#[tokio::test]
async fn publish_reaches_other_subscribers_not_the_sender_and_pushes_carry_no_meta() {
    let f = lab().await;
    let cookie = session_cookie(f.addr, "/").await;
    let mut a = tab(&f, &cookie, "room/1").await;
    let mut b = tab(&f, &cookie, "room/1").await;
    let mut c = tab(&f, "", "room/1").await; // another browser
    let mut outsider = tab(&f, "", "room/2").await;
    eventually(|| f.broker.subscriber_count("room/1") == 3).await;

    assert_eq!(
        call(&mut a, &msg("bump", json!({}))).await,
        reply(r#"{"0":"1"}"#, "bump")
    );
    // Each receiver ran `bumped` on its own state and sent its own diff, without meta.
    assert_eq!(recv(&mut b).await, r#"{"tree":{"0":"1"}}"#);
    assert_eq!(recv(&mut c).await, r#"{"tree":{"0":"1"}}"#);
    let m = f.broker.metrics();
    assert_eq!((m.published, m.delivered, m.dropped), (1, 2, 0));
    // Nothing else arrives: the next frames are the answers to pings.
    ping(&mut a).await;
    ping(&mut outsider).await;

    // The receivers' own state moved on independently.
    assert_eq!(
        call(&mut b, &msg("bump", json!({}))).await,
        reply(r#"{"0":"2"}"#, "bump")
    );
    assert_eq!(recv(&mut a).await, r#"{"tree":{"0":"2"}}"#);
    assert_eq!(recv(&mut c).await, r#"{"tree":{"0":"2"}}"#);

    // broadcast_action is a publish with no data.
    assert_eq!(
        call(&mut c, &msg("shout", json!({}))).await,
        reply("{}", "shout")
    );
    assert_eq!(recv(&mut a).await, r#"{"tree":{"0":"3"}}"#);
    assert_eq!(recv(&mut b).await, r#"{"tree":{"0":"3"}}"#);
}

#[tokio::test]
async fn a_failed_action_publishes_nothing_and_http_publishes_exclude_nobody() {
    let f = lab().await;
    let cookie = session_cookie(f.addr, "/").await;
    let mut a = tab(&f, &cookie, "room/1").await;
    eventually(|| f.broker.subscriber_count("room/1") == 1).await;
    // A plain HTTP POST from the same browser: the WebSocket tab is a receiver too.
    let r = request(
        f.addr,
        "POST",
        "/",
        &[("Content-Type", "application/json"), ("Cookie", &cookie)],
        &msg("bump", json!({})),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(recv(&mut a).await, r#"{"tree":{"0":"1"}}"#);
    // A publish to a pattern is an error: the action fails and publishes nothing.
    let refused = call(&mut a, &msg("bump", json!({"topic": "room/*"}))).await;
    assert!(
        refused.contains(r#""success":false"#) && refused.contains("is a pattern"),
        "{refused}"
    );
    assert_eq!(f.broker.metrics().published, 1);
    assert_eq!(f.broker.metrics().refused, 1);
}

#[tokio::test]
async fn one_hop_only_a_delivered_action_cannot_publish() {
    let f = lab().await;
    let mut a = tab(&f, "", "room/1").await;
    let mut b = tab(&f, "", "room/1").await;
    eventually(|| f.broker.subscriber_count("room/1") == 2).await;
    let published = f
        .broker
        .publisher()
        .publish("room/1", Lab::BUMPED, json!({"again": true}));
    assert_eq!(published, Ok(2));
    for ws in [&mut a, &mut b] {
        let frame = recv(ws).await;
        assert!(
            frame.starts_with(r#"{"tree":{"0":"1","1":""#) && frame.contains("one hop only"),
            "{frame}"
        );
    }
    let m = f.broker.metrics();
    assert_eq!((m.published, m.refused), (1, 2));
    ping(&mut a).await;
}

#[tokio::test]
async fn patterns_receive_matching_topics() {
    let f = lab().await;
    let mut a = tab(&f, "", "").await;
    let mut b = tab(&f, "", "room/*").await;
    let mut c = tab(&f, "", "room/1,room/*").await;
    eventually(|| f.broker.subscriber_count("room/7") == 2).await;
    assert_eq!(
        call(&mut a, &msg("bump", json!({"topic": "room/7"}))).await,
        reply(r#"{"0":"1"}"#, "bump")
    );
    assert_eq!(recv(&mut b).await, r#"{"tree":{"0":"1"}}"#);
    // Subscribed twice (exact and pattern): still one delivery.
    assert_eq!(recv(&mut c).await, r#"{"tree":{"0":"1"}}"#);
    ping(&mut c).await;
    assert_eq!(f.broker.subscriber_count("room/1/x"), 0);
    assert_eq!(f.broker.subscriber_count("rooms/1"), 0);
    // The ACL saw the literal pattern, on the upgrade request.
    let acl = f.probe.acl.lock().expect("lock").clone();
    assert!(acl.contains(&("room/*".to_string(), true)), "{acl:?}");
}

#[tokio::test]
async fn a_forbidden_topic_gets_the_error_envelope_and_the_connection_stays() {
    let f = lab().await;
    // Refused in mount: the envelope comes first, then the page, and the socket stays.
    let mut ws = connect(f.addr, "/?sub=secret/x", "").await;
    assert_eq!(
        recv(&mut ws).await,
        r#"{"type":"error","code":"topic_forbidden","topic":"secret/x"}"#
    );
    let first = recv(&mut ws).await;
    assert!(
        first.contains("refused by the topic policy") && first.contains(r#""success":false"#),
        "{first}"
    );
    ping(&mut ws).await;
    // Refused in an action: envelope, then the failed action's reply.
    assert_eq!(
        call(&mut ws, &msg("join", json!({"topic": "admin/1"}))).await,
        r#"{"type":"error","code":"topic_forbidden","topic":"admin/1"}"#
    );
    let r = recv(&mut ws).await;
    assert!(
        r.contains(r#""success":false"#) && r.contains(r#""action":"join""#),
        "{r}"
    );
    // A malformed topic has its own code.
    assert_eq!(
        call(&mut ws, &msg("join", json!({"topic": "room//x"}))).await,
        r#"{"type":"error","code":"topic_invalid","topic":"room//x"}"#
    );
    recv(&mut ws).await;
    // And the connection works: subscribe to an admitted topic, bump.
    assert_eq!(
        call(&mut ws, &msg("join", json!({"topic": "room/1"}))).await,
        reply(r#"{"3":""}"#, "join")
    );
    assert_eq!(f.broker.subscriber_count("room/1"), 1);
    assert_eq!(
        call(&mut ws, &msg("bump", json!({}))).await,
        reply(r#"{"0":"1"}"#, "bump")
    );
}

#[tokio::test]
async fn a_forbidden_topic_on_a_page_load_renders_the_page_with_the_error() {
    let f = lab().await;
    let r = request(f.addr, "GET", "/?sub=secret/x", &[], "").await;
    assert_eq!(r.status, 200, "{r:?}");
    assert!(r.body.contains("refused by the topic policy"), "{}", r.body);
    let acl = f.probe.acl.lock().expect("lock").clone();
    assert_eq!(acl, vec![("secret/x".to_string(), false)]);
}

#[tokio::test]
async fn only_ones_own_self_topic_may_be_subscribed() {
    let f = lab().await;
    let cookie = session_cookie(f.addr, "/").await;
    let group = cookie.trim_start_matches("livetemplate-id=").to_string();
    let mut a = tab(&f, &cookie, "").await;
    let mut b = tab(&f, &cookie, "").await;
    let mut other = tab(&f, "", "").await;
    // Another session's self topic is reserved.
    let theirs = format!("lvt:session:{group}");
    assert_eq!(
        call(&mut other, &msg("join", json!({"topic": theirs}))).await,
        format!(r#"{{"type":"error","code":"topic_forbidden","topic":"{theirs}"}}"#)
    );
    recv(&mut other).await;
    // One's own is fine, without asking the ACL.
    for ws in [&mut a, &mut b] {
        assert_eq!(
            call(ws, &msg("join_self", json!({}))).await,
            reply("{}", "join_self")
        );
    }
    assert!(f.probe.acl.lock().expect("lock").is_empty());
    assert_eq!(f.broker.subscriber_count(&theirs), 2);
    assert_eq!(
        call(&mut a, &msg("bump", json!({"topic": theirs}))).await,
        reply(r#"{"0":"1"}"#, "bump")
    );
    assert_eq!(recv(&mut b).await, r#"{"tree":{"0":"1"}}"#);
    ping(&mut other).await;
}

#[tokio::test]
async fn unsubscribe_and_disconnect_end_subscriptions() {
    let f = lab().await;
    let mut a = tab(&f, "", "room/1").await;
    let mut b = tab(&f, "", "room/1,room/2").await;
    eventually(|| f.broker.subscriber_count("room/1") == 2).await;
    assert_eq!(
        call(&mut b, &msg("leave", json!({"topic": "room/1"}))).await,
        reply("{}", "leave")
    );
    assert_eq!(f.broker.subscriber_count("room/1"), 1);
    assert_eq!(f.broker.subscriber_count("room/2"), 1);
    call(&mut a, &msg("bump", json!({}))).await;
    assert_eq!(f.broker.metrics().delivered, 0);
    ping(&mut b).await;
    // Closing a tab drops every subscription it had; its disconnect hook tells room/1.
    drop(b);
    eventually(|| f.broker.subscriber_count("room/2") == 0).await;
    assert_eq!(recv(&mut a).await, r#"{"tree":{"1":"someone left"}}"#);
}

#[tokio::test]
async fn session_trigger_reaches_every_tab_of_the_group_then_reports_disconnection() {
    let f = lab().await;
    let cookie = session_cookie(f.addr, "/").await;
    let group = cookie.trim_start_matches("livetemplate-id=").to_string();
    let mut a = tab(&f, &cookie, "").await;
    let mut b = tab(&f, &cookie, "").await;
    let mut other = tab(&f, "", "").await;
    let session = f
        .probe
        .sessions
        .lock()
        .expect("lock")
        .iter()
        .find(|s| s.group_id() == group)
        .cloned()
        .expect("a session of the group");
    // From any task; no subscription needed.
    let pushed = tokio::spawn({
        let session = session.clone();
        async move { session.trigger(Lab::BUMPED, ()) }
    })
    .await
    .expect("task");
    assert_eq!(pushed, Ok(2));
    assert_eq!(recv(&mut a).await, r#"{"tree":{"0":"1"}}"#);
    assert_eq!(recv(&mut b).await, r#"{"tree":{"0":"1"}}"#);
    ping(&mut other).await;
    // A push triggered by a plain HTTP POST reaches the group's live tabs.
    let r = request(
        f.addr,
        "POST",
        "/",
        &[("Content-Type", "application/json"), ("Cookie", &cookie)],
        &msg("poke", json!({})),
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    assert_eq!(recv(&mut a).await, r#"{"tree":{"0":"2"}}"#);
    assert_eq!(recv(&mut b).await, r#"{"tree":{"0":"2"}}"#);
    // Every tab gone: the push says so, and a loop can stop.
    drop(a);
    drop(b);
    eventually(|| !session.is_connected()).await;
    assert_eq!(
        session.trigger(Lab::BUMPED, ()),
        Err(PushError::Disconnected)
    );
}

#[tokio::test]
async fn out_of_band_publish_reaches_every_subscriber() {
    let f = lab().await;
    let cookie = session_cookie(f.addr, "/").await;
    let mut tabs = vec![
        tab(&f, &cookie, "room/1").await,
        tab(&f, &cookie, "room/*").await,
        tab(&f, "", "room/1").await,
    ];
    eventually(|| f.broker.subscriber_count("room/1") == 3).await;
    let publisher = f.broker.publisher();
    let sent = tokio::spawn(async move { publisher.publish("room/1", Lab::BUMPED, ()) })
        .await
        .expect("task");
    assert_eq!(sent, Ok(3));
    for ws in &mut tabs {
        assert_eq!(recv(ws).await, r#"{"tree":{"0":"1"}}"#);
    }
    assert_eq!(
        f.broker.publisher().publish("room/*", Lab::BUMPED, ()),
        Err(livetemplate::PublishError::Topic(
            livetemplate::TopicError::Pattern("room/*".into())
        ))
    );
}

#[tokio::test]
async fn sync_converges_the_other_tabs_of_the_session() {
    let f = lab().await;
    let cookie = session_cookie(f.addr, "/").await;
    let mut a = tab(&f, &cookie, "").await;
    let mut b = tab(&f, &cookie, "").await;
    let mut c = tab(&f, &cookie, "").await;
    let mut other = tab(&f, "", "").await;
    assert_eq!(
        call(&mut a, &msg("converge", json!({"to": 42}))).await,
        reply(r#"{"0":"42","1":"converged"}"#, "converge")
    );
    for ws in [&mut b, &mut c] {
        assert_eq!(recv(ws).await, r#"{"tree":{"0":"42","1":"converged"}}"#);
    }
    ping(&mut a).await;
    ping(&mut other).await;
}

#[tokio::test]
async fn field_errors_survive_peer_dispatches_until_the_users_own_next_action() {
    let f = lab().await;
    let mut a = tab(&f, "", "room/1").await;
    let mut b = tab(&f, "", "room/1").await;
    eventually(|| f.broker.subscriber_count("room/1") == 2).await;
    assert_eq!(
        call(&mut b, &msg("validate", json!({}))).await,
        r#"{"tree":{"2":"required"},"meta":{"success":false,"errors":{"name":"required"},"action":"validate"}}"#
    );
    call(&mut a, &msg("bump", json!({}))).await;
    // Only the count changes; the error stays on screen.
    assert_eq!(recv(&mut b).await, r#"{"tree":{"0":"1"}}"#);
    assert_eq!(
        call(&mut b, &msg("join", json!({"topic": "room/2"}))).await,
        reply(r#"{"2":""}"#, "join")
    );
}

#[tokio::test]
async fn a_full_dispatch_queue_drops_and_counts_without_blocking_the_publisher() {
    let f = lab_with(1).await;
    let mut a = tab(&f, "", "").await;
    let mut b = tab(&f, "", "room/1").await;
    eventually(|| f.broker.subscriber_count("room/1") == 1).await;
    // b's loop is stuck in `slow` until the gate opens.
    call(&mut a, &msg("stall", json!({}))).await;
    eventually(|| f.probe.entered.load(Ordering::SeqCst) == 1).await;
    // Ten more: one fits in b's queue (capacity 1), nine are dropped; a is answered.
    assert_eq!(
        call(&mut a, &msg("flood", json!({"n": 10}))).await,
        reply("{}", "flood")
    );
    assert_eq!(
        f.broker.metrics(),
        BrokerMetrics {
            published: 11,
            delivered: 2,
            dropped: 9,
            refused: 0
        }
    );
    f.probe.gate.add_permits(1);
    assert_eq!(recv(&mut b).await, r#"{"tree":{"1":"slow done"}}"#);
    assert_eq!(recv(&mut b).await, r#"{"tree":{"0":"1"}}"#);
    ping(&mut b).await;
}

#[tokio::test]
async fn an_app_shares_one_broker_between_its_pages() {
    use livetemplate::App;
    let template = || {
        Template::builder("lab", TEMPLATE)
            .build()
            .expect("template")
    };
    let probe = || {
        Arc::new(Probe {
            sessions: Mutex::new(Vec::new()),
            entered: AtomicUsize::new(0),
            gate: Semaphore::new(0),
            acl: Mutex::new(Vec::new()),
        })
    };
    let one = LiveHandler::new(Lab { probe: probe() }, template()).open_topics();
    let two = LiveHandler::new(Lab { probe: probe() }, template()).open_topics();
    let app = App::new().page("/one", one).page("/two", two);
    let publisher = app.publisher();
    let addr = start(app).await;
    let mut a = connect(addr, "/one?sub=news", "").await;
    recv(&mut a).await;
    let mut b = connect(addr, "/two?sub=news", "").await;
    recv(&mut b).await;
    eventually(|| publisher.broker().subscriber_count("news") == 2).await;
    assert_eq!(
        call(&mut a, &msg("bump", json!({"topic": "news"}))).await,
        reply(r#"{"0":"1"}"#, "bump")
    );
    assert_eq!(recv(&mut b).await, r#"{"tree":{"0":"1"}}"#);
    assert_eq!(publisher.publish("news", Lab::BUMPED, ()), Ok(2));
    // Topics stay denied without a policy.
    let denied = LiveHandler::new(Lab { probe: probe() }, template());
    let addr = start(denied).await;
    let mut ws = try_connect(addr, "/?sub=news", &[]).await.expect("ws");
    assert_eq!(
        recv(&mut ws).await,
        r#"{"type":"error","code":"topic_forbidden","topic":"news"}"#
    );
}
