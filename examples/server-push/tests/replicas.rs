//! Two server-push processes on one Redis (`--redis`), a tab of one session on each:
//! a job started on one process reaches the tab on the other, one ticker serves both, and
//! its lease is released when the session is gone.

#[path = "../../../livetemplate-runtime/tests/protocol_support/mod.rs"]
mod protocol_support;

use std::time::Duration;

use futures_util::SinkExt;
use livetemplate_tests::{
    redis_key_exists, unique_prefix, wait_for_subscribers, ExampleProcess, SHARED_REDIS,
};
use protocol_support::{connect, recv, session_cookie, Ws};
use tokio_tungstenite::tungstenite::Message;

fn replica(prefix: &str) -> (ExampleProcess, std::net::SocketAddr) {
    let p = ExampleProcess::start(
        env!("CARGO_BIN_EXE_server-push"),
        "server-push",
        &["--redis", SHARED_REDIS, "--redis-prefix", prefix],
    )
    .expect("start a replica");
    let addr = p.addr().parse().expect("address");
    (p, addr)
}

/// Read frames until one contains `needle`; every frame read is returned too.
async fn until(ws: &mut Ws, needle: &str) -> Vec<String> {
    let mut seen = Vec::new();
    for _ in 0..200 {
        let frame = recv(ws).await;
        let hit = frame.contains(needle);
        seen.push(frame);
        if hit {
            return seen;
        }
    }
    panic!("no frame with {needle:?}");
}

#[tokio::test]
async fn pushes_cross_processes_and_one_ticker_serves_the_session() {
    let prefix = unique_prefix("push-processes");
    let (_a, addr_a) = replica(&prefix);
    let (_b, addr_b) = replica(&prefix);
    let cookie = session_cookie(addr_a, "/").await;
    let group = cookie.trim_start_matches("livetemplate-id=").to_string();
    let mut tab_a = connect(addr_a, "/", &cookie).await;
    recv(&mut tab_a).await;
    let mut tab_b = connect(addr_b, "/", &cookie).await;
    recv(&mut tab_b).await;
    wait_for_subscribers(&format!("{prefix}group:{group}"), 2);
    let lease = format!("{prefix}server-push:ticker:{group}");
    assert!(
        redis_key_exists(&lease),
        "the first tab's process holds the lease"
    );

    // Ticks reach the tab on the process without the ticker.
    until(&mut tab_b, r#""tree":{"#).await;

    tab_a
        .send(Message::text(r#"{"action":"start_job","data":{}}"#))
        .await
        .expect("send");
    until(&mut tab_a, "Working").await;
    until(&mut tab_b, "done after 2000 ms").await;

    drop(tab_a);
    drop(tab_b);
    for _ in 0..100 {
        if !redis_key_exists(&lease) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the ticker lease outlived the session");
}
