//! `#[persist]` with the Redis store: a record outlives the server that wrote it, and a
//! Redis that is down never fails a page or an action.
//!
//! The end-to-end test needs Redis on 127.0.0.1:6379 and skips (saying so) when it is
//! not there; `.ci/run` starts one. The dead-Redis test needs nothing.

mod persist_support;
mod protocol_support;

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use livetemplate_runtime::store::{Backoff, RedisConnector, RedisStore};
use livetemplate_runtime::transport::serve_listener;
use persist_support::{group_of, handler, open, page, slot, SAVE};
use protocol_support::{call, session_cookie, start};
use tokio::net::TcpListener;

const REDIS: &str = "redis://127.0.0.1:6379/";

/// A raw connection to Redis on 127.0.0.1:6379, or `None` after printing why the test
/// skips.
async fn redis_or_skip(test: &str) -> Option<redis::aio::MultiplexedConnection> {
    let addr: SocketAddr = ([127, 0, 0, 1], 6379).into();
    if TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err() {
        println!("skipping {test}: no Redis on 127.0.0.1:6379 (scripts/setup starts one)");
        return None;
    }
    let client = redis::Client::open(REDIS).ok()?;
    match tokio::time::timeout(
        Duration::from_secs(5),
        client.get_multiplexed_async_connection(),
    )
    .await
    {
        Ok(Ok(conn)) => Some(conn),
        _ => {
            println!("skipping {test}: 127.0.0.1:6379 does not answer like Redis");
            None
        }
    }
}

fn store(prefix: &str) -> RedisStore {
    RedisStore::builder(RedisConnector::new(REDIS).expect("URL"))
        .key_prefix(prefix)
        .build()
        .expect("store")
}

/// Serve a fresh handler on the Redis store with `prefix` until the returned task is
/// aborted.
async fn instance(prefix: &str) -> (SocketAddr, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = handler().session_store(store(prefix));
    let task = tokio::spawn(async move {
        let _ = serve_listener(listener, app).await;
    });
    (addr, task)
}

#[tokio::test]
async fn a_second_server_on_the_same_redis_finds_every_persisted_field() {
    let test = "a_second_server_on_the_same_redis_finds_every_persisted_field";
    let Some(mut conn) = redis_or_skip(test).await else {
        return;
    };
    let prefix = format!("livetemplate-test:persist:{:016x}:", rand::random::<u64>());

    let (first, server) = instance(&prefix).await;
    let cookie = session_cookie(first, "/").await;
    let (mut ws, _) = open(first, "/", &cookie).await;
    let reply = call(&mut ws, SAVE).await;
    assert_eq!(slot(&reply, 0).as_deref(), Some("5"), "{reply}");
    drop(ws);
    server.abort();

    let key = format!("{prefix}{}|/", group_of(&cookie));
    let stored: Option<String> = redis::cmd("GET")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .expect("GET");
    assert_eq!(
        stored.as_deref(),
        Some(r#"{"counter":5,"notes":"remember me","tags":["a"]}"#)
    );
    let ttl: i64 = redis::cmd("PTTL")
        .arg(&key)
        .query_async(&mut conn)
        .await
        .expect("PTTL");
    assert!(ttl > 0, "the record has an idle TTL: {ttl}");

    let (second, server) = instance(&prefix).await;
    let html = page(second, "/", &cookie).await;
    assert!(html.contains("<p>counter 5</p>"), "{html}");
    assert!(html.contains("<p>notes remember me</p>"), "{html}");
    assert!(
        html.contains("<p>draft initial draft</p>"),
        "the draft is not persisted: {html}"
    );
    let (_ws, first_frame) = open(second, "/", &cookie).await;
    assert_eq!(first_frame[0], "5");
    assert_eq!(first_frame[3], "Restored");
    server.abort();

    let _: redis::RedisResult<i64> = redis::cmd("DEL").arg(&key).query_async(&mut conn).await;
}

#[tokio::test]
async fn a_dead_redis_fails_no_page_and_no_action() {
    // A port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let connector = RedisConnector::new(&format!("redis://127.0.0.1:{port}/"))
        .expect("URL")
        .with_timeouts(Duration::from_millis(500), Duration::from_millis(500));
    let dead = RedisStore::builder(connector)
        .backoff(Backoff::new(1, Duration::from_millis(10)))
        .build()
        .expect("store");
    let h = handler().session_store(dead);
    let stats = h.clone();
    let addr = start(h).await;

    let cookie = session_cookie(addr, "/").await;
    let (mut ws, first) = open(addr, "/", &cookie).await;
    assert_eq!(first[0], "0");
    assert_eq!(first[3], "NewConnect", "nothing could be restored");
    let reply = call(&mut ws, r#"{"action":"increment","data":{}}"#).await;
    assert_eq!(
        reply, r#"{"tree":{"0":"1"},"meta":{"success":true,"errors":{},"action":"increment"}}"#,
        "the action succeeds in memory"
    );
    let reply = call(&mut ws, r#"{"action":"increment","data":{}}"#).await;
    assert_eq!(slot(&reply, 0).as_deref(), Some("2"), "{reply}");

    let s = stats.persist_stats();
    assert_eq!(s.read_errors, 2, "the GET and the connect: {s:?}");
    assert_eq!(s.write_errors, 2, "one per increment: {s:?}");
    assert_eq!(s.errors(), 4, "{s:?}");
}
