//! Presence across two browsers over the WebSocket protocol: join, leave, closed tab.

#[path = "../../../livetemplate-runtime/tests/protocol_support/mod.rs"]
mod protocol_support;

use protocol_support::{call, connect, recv, start, Ws};
use serde_json::{json, Value};

fn msg(action: &str, data: Value) -> String {
    json!({ "action": action, "data": data }).to_string()
}

/// The "N online" count in a frame (slot 0 of the tree), if the frame changes it.
fn count(frame: &str) -> Option<String> {
    let v: Value = serde_json::from_str(frame).expect("json frame");
    v["tree"]["0"].as_str().map(str::to_string)
}

async fn tab(addr: std::net::SocketAddr) -> (Ws, String) {
    let mut ws = connect(addr, "/", "").await;
    let first = recv(&mut ws).await;
    let shown = count(&first).expect("the first frame has the count");
    (ws, shown)
}

#[tokio::test]
async fn the_list_follows_joins_leaves_and_closed_tabs() {
    let addr = start(presence::app(&Default::default()).expect("app")).await;
    let (mut ann, shown) = tab(addr).await;
    assert_eq!(shown, "0");
    let (mut ben, _) = tab(addr).await;

    let joined = call(&mut ann, &msg("join", json!({"name": "Ann"}))).await;
    assert_eq!(count(&joined).as_deref(), Some("1"));
    let pushed = recv(&mut ben).await;
    assert_eq!(count(&pushed).as_deref(), Some("1"));
    assert!(
        pushed.contains("Ann") && !pushed.contains("meta"),
        "{pushed}"
    );

    let joined = call(&mut ben, &msg("join", json!({"name": "Ben"}))).await;
    assert_eq!(count(&joined).as_deref(), Some("2"));
    let pushed = recv(&mut ann).await;
    assert_eq!(count(&pushed).as_deref(), Some("2"));
    assert!(pushed.contains("Ben"), "{pushed}");

    // A third visitor opening the page sees both.
    let (mut cat, shown) = tab(addr).await;
    assert_eq!(shown, "2");

    // Leave explicitly.
    let left = call(&mut ben, &msg("leave", json!({}))).await;
    assert_eq!(count(&left).as_deref(), Some("1"));
    for ws in [&mut ann, &mut cat] {
        assert_eq!(count(&recv(ws).await).as_deref(), Some("1"));
    }
    call(&mut ben, &msg("join", json!({"name": "Ben"}))).await;
    for ws in [&mut ann, &mut cat] {
        assert_eq!(count(&recv(ws).await).as_deref(), Some("2"));
    }

    // Close a tab without leaving: the disconnect hook tells the others.
    drop(ann);
    for ws in [&mut ben, &mut cat] {
        let pushed = recv(ws).await;
        assert_eq!(count(&pushed).as_deref(), Some("1"), "{pushed}");
    }

    let refused = call(&mut cat, &msg("join", json!({"name": " "}))).await;
    assert!(refused.contains("Please enter a name"), "{refused}");
}
