//! Two chat processes on one Redis (`--redis`), as two replicas behind a load balancer:
//! people on different processes share one room and one history.

#[path = "../../../livetemplate-runtime/tests/protocol_support/mod.rs"]
mod protocol_support;

use livetemplate_tests::{unique_prefix, wait_for_subscribers, ExampleProcess, SHARED_REDIS};
use protocol_support::{call, connect, recv, Ws};
use serde_json::json;

fn replica(prefix: &str) -> (ExampleProcess, std::net::SocketAddr) {
    let p = ExampleProcess::start(
        env!("CARGO_BIN_EXE_chat"),
        "chat",
        &["--redis", SHARED_REDIS, "--redis-prefix", prefix],
    )
    .expect("start a chat replica");
    let addr = p.addr().parse().expect("address");
    (p, addr)
}

/// A connection that joined as `name`, and the reply to its join.
async fn joined(addr: std::net::SocketAddr, name: &str) -> (Ws, String) {
    let mut ws = connect(addr, "/", "").await;
    recv(&mut ws).await;
    let msg = json!({"action": "join", "data": {"username": name}}).to_string();
    let reply = call(&mut ws, &msg).await;
    assert!(reply.contains(name), "{reply}");
    (ws, reply)
}

#[tokio::test]
async fn two_processes_share_one_room() {
    let prefix = unique_prefix("chat-processes");
    let (_a, addr_a) = replica(&prefix);
    let (_b, addr_b) = replica(&prefix);
    let (mut ann, _) = joined(addr_a, "ann").await;
    let (mut ben, _) = joined(addr_b, "ben").await;
    wait_for_subscribers(&format!("{prefix}topic:chat/lobby"), 2);

    let send = |text: &str| json!({"action": "send", "data": {"text": text}}).to_string();
    let reply = call(&mut ann, &send("hello from A")).await;
    assert!(reply.contains("hello from A"), "{reply}");
    let push = recv(&mut ben).await;
    assert!(
        push.contains("hello from A") && push.contains(r#""ann""#),
        "{push}"
    );
    let reply = call(&mut ben, &send("hello from B")).await;
    assert!(reply.contains("hello from B"), "{reply}");
    let push = recv(&mut ann).await;
    assert!(push.contains("hello from B"), "{push}");

    // A late joiner on either process sees the whole history, in order.
    let (_late, first) = joined(addr_a, "cat").await;
    let (i, j) = (
        first.find("hello from A").expect("first message"),
        first.find("hello from B").expect("second message"),
    );
    assert!(i < j, "{first}");
}
