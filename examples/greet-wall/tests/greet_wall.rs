//! Two tabs of one browser and a second browser on the greet wall, over the WebSocket
//! protocol.

#[path = "../../../livetemplate-runtime/tests/protocol_support/mod.rs"]
mod protocol_support;

use std::time::Duration;

use futures_util::SinkExt;
use livetemplate::App;
use protocol_support::{connect, recv, session_cookie, start, Ws};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

/// Read frames until one contains `needle` (heartbeats may interleave).
async fn until(ws: &mut Ws, needle: &str) -> String {
    for _ in 0..500 {
        let frame = recv(ws).await;
        if frame.contains(needle) {
            return frame;
        }
    }
    panic!("no frame with {needle:?}");
}

async fn greet(ws: &mut Ws, name: &str) -> String {
    let m = json!({"action": "greet", "data": {"name": name}}).to_string();
    ws.send(Message::text(m)).await.expect("send");
    until(ws, r#""action":"greet""#).await
}

#[tokio::test]
async fn self_sync_the_shared_wall_and_server_push_together() {
    let handler = greet_wall::handler(Duration::from_millis(30)).expect("handler");
    let addr = start(App::new().page("/", handler)).await;
    let browser = session_cookie(addr, "/").await;
    let mut a = connect(addr, "/", &browser).await;
    let mut b = connect(addr, "/", &browser).await;
    let mut c = connect(addr, "/", "").await;
    for ws in [&mut a, &mut b, &mut c] {
        let first = recv(ws).await;
        assert!(first.contains("Say hello"), "{first}");
    }

    let reply = greet(&mut a, "Ann").await;
    assert!(
        reply.contains("Hello, Ann!") && reply.contains("Ann"),
        "{reply}"
    );
    // The other tab of the session converges on the headline (sync)…
    until(&mut b, "Hello, Ann!").await;
    // …another browser sees the wall line but keeps its own headline.
    let wall = until(&mut c, "Ann").await;
    assert!(!wall.contains("Hello, Ann!"), "{wall}");

    let reply = greet(&mut c, "Bob").await;
    assert!(reply.contains("Hello, Bob!"), "{reply}");
    until(&mut a, "Bob").await;

    // The server says hi to every tab of every session (the time, once it changes).
    for ws in [&mut a, &mut b, &mut c] {
        until(ws, " UTC").await;
    }

    // Validation.
    let empty = greet(&mut a, "  ").await;
    assert!(
        empty.contains("Please enter a name") && empty.contains(r#""success":false"#),
        "{empty}"
    );
    let admin = greet(&mut a, "Admin").await;
    assert!(admin.contains("is reserved"), "{admin}");
}
