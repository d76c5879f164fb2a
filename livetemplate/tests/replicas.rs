//! Several replicas of one app in one process, linked through the Redis on
//! 127.0.0.1:6379 (or a private `redis-server` for the outage test): publishes, pushes
//! and syncs cross replicas exactly once, subscriptions follow the connections, bad
//! messages are dropped, and delivery resumes after Redis comes back.
//!
//! Every test uses its own channel prefix, so tests run in parallel on one Redis.

#[path = "../../livetemplate-runtime/tests/support/private_redis.rs"]
mod private_redis;
#[path = "../../livetemplate-runtime/tests/protocol_support/mod.rs"]
mod protocol_support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use livetemplate::prelude::*;
use livetemplate::replica::{FanoutMetrics, RedisFanout};
use livetemplate::store::RedisConnector;
use livetemplate::{App, FanoutError, LiveHandler, PushError, Session, Template};
use private_redis::{unused_port, PrivateRedis};
use protocol_support::{call, connect, recv, session_cookie, start, Ws};
use serde_json::{json, Value};

const SHARED_REDIS: &str = "redis://127.0.0.1:6379/";

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct NodeState {
    count: i64,
    last: String,
}

/// Sessions taken in `on_connect`, for server pushes from the test.
#[derive(Default)]
struct Sessions(Mutex<Vec<Session>>);

struct Node {
    sessions: Arc<Sessions>,
}

#[controller(state = NodeState)]
impl Node {
    /// Subscribes to every topic of `?sub=a,b`.
    #[mount]
    fn mount(&self, ctx: &mut Context) -> Result<()> {
        let topics = ctx.query().get("sub").cloned().unwrap_or_default();
        for topic in topics.split(',').filter(|t| !t.is_empty()) {
            if topic == "self" {
                let me = ctx.self_topic();
                ctx.subscribe(&me)?;
            } else {
                ctx.subscribe(topic)?;
            }
        }
        Ok(())
    }

    #[on_connect]
    fn connected(&self, ctx: &mut Context) {
        self.sessions.0.lock().expect("lock").push(ctx.session());
    }

    /// Publishes `bumped` to `topic` (default `room/1`) with `tag`.
    #[action]
    fn bump(&self, state: &mut NodeState, ctx: &mut Context) -> Result<()> {
        state.count += 1;
        state.last = "bump".into();
        let topic = ctx.get_str("topic").unwrap_or_else(|| "room/1".into());
        let tag = ctx.get_str("tag").unwrap_or_default();
        ctx.publish(&topic, Self::BUMPED, json!({ "tag": tag }))
    }

    #[action(internal)]
    fn bumped(&self, state: &mut NodeState, ctx: &Context) {
        state.count += 1;
        state.last = format!("bumped {}", ctx.get_str("tag").unwrap_or_default());
    }

    #[action]
    fn converge(&self, state: &mut NodeState, ctx: &mut Context) -> Result<()> {
        state.count = ctx.get_i64("to").unwrap_or(0);
        state.last = "converged".into();
        ctx.sync()
    }
}

/// Slots: 0 count, 1 last.
const TEMPLATE: &str = "<p>{{count}}</p><p>{{last}}</p>";

struct Replica {
    addr: SocketAddr,
    fanout: RedisFanout,
    app: App,
    sessions: Arc<Sessions>,
}

/// A channel prefix no other test (or run) uses.
fn unique_prefix(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("lt-test:{test}:{}:{nanos}:", std::process::id())
}

fn fanout(redis: &str, prefix: &str) -> RedisFanout {
    let connector = RedisConnector::new(redis).expect("Redis URL");
    RedisFanout::builder(connector)
        .prefix(prefix)
        .reconnect_delay(Duration::from_millis(20), Duration::from_millis(200))
        .ping_interval(Duration::from_millis(200))
        .build()
        .expect("fan-out")
}

async fn replica(redis: &str, prefix: &str) -> Replica {
    let sessions = Arc::new(Sessions::default());
    let template = Template::builder("node", TEMPLATE)
        .build()
        .expect("template");
    let handler = LiveHandler::new(
        Node {
            sessions: sessions.clone(),
        },
        template,
    )
    .rate_limit(0.0, 0)
    .open_topics();
    let fanout = fanout(redis, prefix);
    let app = App::new()
        .page("/", handler)
        .fanout(fanout.clone())
        .expect("a fresh app takes a fan-out");
    let addr = start(app.clone()).await;
    Replica {
        addr,
        fanout,
        app,
        sessions,
    }
}

/// A tab on `r` at `/?sub=…`, its initial tree read.
async fn tab(r: &Replica, cookie: &str, sub: &str) -> Ws {
    let mut ws = connect(r.addr, &format!("/?sub={sub}"), cookie).await;
    let first = recv(&mut ws).await;
    assert!(first.starts_with(r#"{"tree":{"s":"#), "{first}");
    ws
}

/// Waits until `r` has subscribed exactly `n` channels and patterns in Redis.
async fn wait_channels(r: &Replica, n: usize) {
    for _ in 0..1000 {
        let m = r.fanout.metrics();
        if m.connected && m.channels == n {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!(
        "expected {n} subscribed channels, metrics: {:?}",
        r.fanout.metrics()
    );
}

async fn wait_metrics(r: &Replica, what: &str, ok: impl Fn(&FanoutMetrics) -> bool) {
    for _ in 0..1000 {
        if ok(&r.fanout.metrics()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{what}: metrics {:?}", r.fanout.metrics());
}

fn msg(action: &str, data: Value) -> String {
    json!({ "action": action, "data": data }).to_string()
}

/// `(count, last)` from a push or reply frame (`None` for a slot it does not carry).
fn slots(frame: &str) -> (Option<String>, Option<String>) {
    let v: Value = serde_json::from_str(frame).expect("JSON frame");
    let slot = |i: &str| v["tree"][i].as_str().map(str::to_string);
    (slot("0"), slot("1"))
}

async fn ping(ws: &mut Ws) {
    assert_eq!(
        call(ws, r#"{"action":"__ping__"}"#).await,
        r#"{"pong":true}"#
    );
}

async fn redis_conn(url: &str) -> redis::aio::MultiplexedConnection {
    redis::Client::open(url)
        .expect("Redis URL")
        .get_multiplexed_async_connection()
        .await
        .expect("Redis is running on 127.0.0.1:6379")
}

async fn numsub(conn: &mut redis::aio::MultiplexedConnection, channel: &str) -> i64 {
    let (_, n): (String, i64) = redis::cmd("PUBSUB")
        .arg("NUMSUB")
        .arg(channel)
        .query_async(conn)
        .await
        .expect("PUBSUB NUMSUB");
    n
}

#[tokio::test]
async fn publishes_reach_every_replica_once_with_strict_pattern_matching() {
    let prefix = unique_prefix("publish");
    let a = replica(SHARED_REDIS, &prefix).await;
    let b = replica(SHARED_REDIS, &prefix).await;
    let c = replica(SHARED_REDIS, &prefix).await;

    let mut sender = tab(&a, "", "room/1").await;
    let mut peer_a = tab(&a, "", "room/1").await;
    // Both an exact and a pattern subscription: Redis delivers twice, the tab runs once.
    let mut both_b = tab(&b, "", "room/1,room/*").await;
    let mut other_b = tab(&b, "", "room/2").await;
    let mut pattern_c = tab(&c, "", "room/*").await;
    // room/1 + each tab's group on A; room/1, room/*, room/2 + two groups on B.
    wait_channels(&a, 3).await;
    wait_channels(&b, 5).await;
    wait_channels(&c, 2).await;

    let reply = call(&mut sender, &msg("bump", json!({ "tag": "x" }))).await;
    assert_eq!(slots(&reply).0.as_deref(), Some("1"), "{reply}");
    for ws in [&mut peer_a, &mut both_b, &mut pattern_c] {
        let push = recv(ws).await;
        assert_eq!(
            slots(&push),
            (Some("1".into()), Some("bumped x".into())),
            "{push}"
        );
    }
    wait_metrics(&b, "B dropped the second copy", |m| {
        m.duplicates == 1 && m.received == 1
    })
    .await;
    wait_metrics(&c, "C received once", |m| m.received == 1).await;
    // Nothing else reached anyone: the next frames are the answers to pings.
    for ws in [
        &mut sender,
        &mut peer_a,
        &mut both_b,
        &mut other_b,
        &mut pattern_c,
    ] {
        ping(ws).await;
    }

    // Redis' `*` spans `/`; the replica matches whole segments again.
    let publisher = a.app.publisher();
    assert_eq!(
        publisher
            .publish("room/1/deep", Node::BUMPED, json!({ "tag": "deep" }))
            .expect("publish"),
        0
    );
    publisher
        .publish("room/2", Node::BUMPED, json!({ "tag": "marker" }))
        .expect("publish");
    for ws in [&mut other_b, &mut pattern_c, &mut both_b] {
        let push = recv(ws).await;
        assert_eq!(slots(&push).1.as_deref(), Some("bumped marker"), "{push}");
    }
    ping(&mut sender).await;
    let m = a.fanout.metrics();
    assert_eq!((m.published, m.lost, m.malformed), (3, 0, 0), "{m:?}");
}

#[tokio::test]
async fn pushes_and_syncs_reach_the_group_on_every_replica() {
    let prefix = unique_prefix("push");
    let a = replica(SHARED_REDIS, &prefix).await;
    let b = replica(SHARED_REDIS, &prefix).await;
    let cookie = session_cookie(a.addr, "/").await;
    let mut tab_a = tab(&a, &cookie, "").await;
    let mut tab_b = tab(&b, &cookie, "").await;
    let mut stranger_b = tab(&b, "", "").await;
    wait_channels(&b, 2).await;

    let session = a.sessions.0.lock().expect("lock")[0].clone();
    assert_eq!(
        session.trigger(Node::BUMPED, json!({ "tag": "push" })),
        Ok(1)
    );
    for ws in [&mut tab_a, &mut tab_b] {
        let push = recv(ws).await;
        assert_eq!(slots(&push).1.as_deref(), Some("bumped push"), "{push}");
    }

    // ctx.sync(): the group's tab on the other replica adopts the converged state.
    let reply = call(&mut tab_a, &msg("converge", json!({ "to": 42 }))).await;
    assert_eq!(slots(&reply).0.as_deref(), Some("42"), "{reply}");
    let push = recv(&mut tab_b).await;
    assert_eq!(
        slots(&push),
        (Some("42".into()), Some("converged".into())),
        "{push}"
    );
    ping(&mut stranger_b).await;

    // The tab on A closes: the push still reaches B, and the session counts as
    // connected there.
    drop(tab_a);
    wait_channels(&a, 0).await;
    assert_eq!(
        session.trigger(Node::BUMPED, json!({ "tag": "remote" })),
        Ok(0)
    );
    assert!(session.is_connected());
    loop {
        let push = recv(&mut tab_b).await;
        if slots(&push).1.as_deref() == Some("bumped remote") {
            break;
        }
    }
    // Once B's tab is gone too, pushes report the session disconnected (one push
    // after the first that reached nobody).
    drop(tab_b);
    wait_channels(&b, 1).await;
    let mut outcome = Ok(0);
    for _ in 0..100 {
        outcome = session.trigger(Node::BUMPED, ());
        if outcome.is_err() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(outcome, Err(PushError::Disconnected));
    assert!(!session.is_connected());
}

#[tokio::test]
async fn subscriptions_follow_the_connections() {
    let prefix = unique_prefix("refcount");
    let a = replica(SHARED_REDIS, &prefix).await;
    let mut redis = redis_conn(SHARED_REDIS).await;
    let topic_channel = format!("{prefix}topic:room/9");

    let one = tab(&a, "", "room/9").await;
    let two = tab(&a, "", "room/9").await;
    wait_channels(&a, 3).await;
    assert_eq!(numsub(&mut redis, &topic_channel).await, 1);
    drop(one);
    // Still needed by the second tab.
    wait_channels(&a, 2).await;
    assert_eq!(numsub(&mut redis, &topic_channel).await, 1);
    drop(two);
    wait_channels(&a, 0).await;
    assert_eq!(numsub(&mut redis, &topic_channel).await, 0);
}

#[tokio::test]
async fn malformed_messages_are_dropped_and_counted() {
    let prefix = unique_prefix("malformed");
    let a = replica(SHARED_REDIS, &prefix).await;
    let b = replica(SHARED_REDIS, &prefix).await;
    let mut tab_b = tab(&b, "", "room/1").await;
    wait_channels(&b, 2).await;
    let mut redis = redis_conn(SHARED_REDIS).await;
    let channel = format!("{prefix}topic:room/1");
    for garbage in [
        "not json".to_string(),
        r#"{"v":1,"instance":"x","seq":1,"type":"topic_action","topic":"room/2","action":"bumped","data":{},"origin":"peer"}"#.to_string(),
        r#"{"v":9,"instance":"x","seq":2,"type":"topic_action","topic":"room/1","action":"bumped","data":{},"origin":"peer"}"#.to_string(),
        "\u{0}\u{1}".to_string(),
    ] {
        let _: i64 = redis::cmd("PUBLISH")
            .arg(&channel)
            .arg(garbage)
            .query_async(&mut redis)
            .await
            .expect("PUBLISH");
    }
    wait_metrics(&b, "four bad messages", |m| m.malformed == 4).await;
    // The connection and the link keep working.
    ping(&mut tab_b).await;
    a.app
        .publisher()
        .publish("room/1", Node::BUMPED, json!({ "tag": "fine" }))
        .expect("publish");
    let push = recv(&mut tab_b).await;
    assert_eq!(slots(&push).1.as_deref(), Some("bumped fine"), "{push}");
    assert_eq!(b.fanout.metrics().received, 1);
}

#[tokio::test]
async fn one_fan_out_per_app() {
    let f = fanout(SHARED_REDIS, &unique_prefix("once"));
    let app = App::new().fanout(f.clone()).expect("first");
    assert_eq!(
        app.clone().fanout(fanout(SHARED_REDIS, "other:")).err(),
        Some(FanoutError::BrokerLinked)
    );
    assert_eq!(App::new().fanout(f).err(), Some(FanoutError::FanoutInUse));
}

#[tokio::test]
async fn delivery_resumes_after_redis_restarts_and_losses_are_counted() {
    let port = unused_port();
    let Some(mut server) = PrivateRedis::start(port) else {
        panic!("redis-server is not on PATH: run scripts/setup");
    };
    server.ready().await;
    let url = format!("redis://127.0.0.1:{port}/");
    let prefix = unique_prefix("outage");
    let a = replica(&url, &prefix).await;
    let b = replica(&url, &prefix).await;
    let mut sender = tab(&a, "", "room/1").await;
    let mut local = tab(&a, "", "room/1").await;
    let mut remote = tab(&b, "", "room/1").await;
    wait_channels(&b, 2).await;

    let publish = |tag: &str| {
        a.app
            .publisher()
            .publish("room/1", Node::BUMPED, json!({ "tag": tag }))
            .expect("publish")
    };
    publish("before");
    for ws in [&mut sender, &mut local, &mut remote] {
        assert_eq!(slots(&recv(ws).await).1.as_deref(), Some("bumped before"));
    }

    server.kill();
    wait_metrics(&b, "B notices the loss", |m| !m.connected).await;
    // Local fan-out does not need Redis.
    assert_eq!(publish("during"), 2);
    for ws in [&mut sender, &mut local] {
        assert_eq!(slots(&recv(ws).await).1.as_deref(), Some("bumped during"));
    }
    wait_metrics(&a, "the publish made meanwhile is reported lost", |m| {
        m.lost >= 1
    })
    .await;
    ping(&mut remote).await;

    let server = PrivateRedis::start(port).expect("redis-server started before");
    server.ready().await;
    wait_metrics(&b, "B re-subscribes by itself", |m| {
        m.connected && m.restored >= 1 && m.channels == 2
    })
    .await;
    wait_metrics(&a, "A re-subscribes by itself", |m| {
        m.connected && m.restored >= 1
    })
    .await;
    // Publishing may need a moment to reconnect its own connection: retry until B hears.
    let mut heard = false;
    for i in 0..50 {
        publish(&format!("after{i}"));
        let got = tokio::time::timeout(Duration::from_millis(200), recv(&mut remote)).await;
        if let Ok(frame) = got {
            assert!(
                slots(&frame)
                    .1
                    .is_some_and(|l| l.starts_with("bumped after")),
                "{frame}"
            );
            heard = true;
            break;
        }
    }
    assert!(
        heard,
        "B never heard from A again: {:?}",
        a.fanout.metrics()
    );
    drop(server);
}
