//! Two presence processes on one Redis (`--redis`): one online list over both, updated
//! on join and when a connection closes on the other process.

#[path = "../../../livetemplate-runtime/tests/protocol_support/mod.rs"]
mod protocol_support;

use livetemplate_tests::{unique_prefix, wait_for_subscribers, ExampleProcess, SHARED_REDIS};
use protocol_support::{call, connect, recv, Ws};
use serde_json::{json, Value};

fn count(frame: &str) -> Option<String> {
    let v: Value = serde_json::from_str(frame).expect("json frame");
    v["tree"]["0"].as_str().map(str::to_string)
}

fn replica(prefix: &str) -> (ExampleProcess, std::net::SocketAddr) {
    let p = ExampleProcess::start(
        env!("CARGO_BIN_EXE_presence"),
        "presence",
        &["--redis", SHARED_REDIS, "--redis-prefix", prefix],
    )
    .expect("start a replica");
    let addr = p.addr().parse().expect("address");
    (p, addr)
}

async fn tab(addr: std::net::SocketAddr) -> Ws {
    let mut ws = connect(addr, "/", "").await;
    assert_eq!(count(&recv(&mut ws).await).as_deref(), Some("0"));
    ws
}

/// The next frame that changes the count.
async fn next_count(ws: &mut Ws) -> String {
    loop {
        if let Some(n) = count(&recv(ws).await) {
            return n;
        }
    }
}

#[tokio::test]
async fn one_list_over_two_processes() {
    let prefix = unique_prefix("presence-processes");
    let (_a, addr_a) = replica(&prefix);
    let (_b, addr_b) = replica(&prefix);
    let mut ann = tab(addr_a).await;
    let mut ben = tab(addr_b).await;
    wait_for_subscribers(&format!("{prefix}topic:presence/lobby"), 2);

    let join = |name: &str| json!({"action": "join", "data": {"name": name}}).to_string();
    assert_eq!(
        count(&call(&mut ann, &join("Ann")).await).as_deref(),
        Some("1")
    );
    assert_eq!(next_count(&mut ben).await, "1");
    let reply = call(&mut ben, &join("Ben")).await;
    assert_eq!(count(&reply).as_deref(), Some("2"));
    assert!(reply.contains("Ben"), "{reply}");
    assert_eq!(next_count(&mut ann).await, "2");

    // Ben's connection closes on process B: process A's list drops him.
    drop(ben);
    assert_eq!(next_count(&mut ann).await, "1");
}
