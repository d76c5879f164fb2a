//! Two sessions, several tabs, over the WebSocket protocol the browser client speaks.

#[path = "../../../livetemplate-runtime/tests/protocol_support/mod.rs"]
mod protocol_support;

use protocol_support::{call, connect, recv, request, session_cookie, start, Ws};

const INCREMENT: &str = r#"{"action":"increment","data":{}}"#;

/// The counter shown by a frame (slot 0 of the tree), if the frame changes it.
fn counter(frame: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(frame).expect("json frame");
    v["tree"]["0"].as_str().map(str::to_string)
}

async fn tab(addr: std::net::SocketAddr, cookie: &str) -> (Ws, String) {
    let mut ws = connect(addr, "/", cookie).await;
    let first = recv(&mut ws).await;
    let shown = counter(&first).expect("the first frame has the counter");
    (ws, shown)
}

#[tokio::test]
async fn every_tab_of_a_session_converges_and_late_tabs_start_at_the_shared_value() {
    let addr = start(multi_user_sync::app(&Default::default()).expect("app")).await;
    let page = request(addr, "GET", "/", &[], "").await;
    assert!(
        page.body.contains("<p>Counter: <strong>0</strong></p>")
            && page.body.contains(r#"<form method="POST">"#)
            && page
                .body
                .contains(r#"<button name="increment">Increment</button>"#),
        "{}",
        page.body
    );

    let alice = session_cookie(addr, "/").await;
    let (mut a, _) = tab(addr, &alice).await;
    let (mut b, _) = tab(addr, &alice).await;
    let reply = call(&mut a, INCREMENT).await;
    assert_eq!(counter(&reply).as_deref(), Some("1"));
    assert_eq!(recv(&mut b).await, r#"{"tree":{"0":"1"}}"#);
    let reply = call(&mut b, INCREMENT).await;
    assert_eq!(counter(&reply).as_deref(), Some("2"));
    assert_eq!(recv(&mut a).await, r#"{"tree":{"0":"2"}}"#);

    // A tab opened after the clicks starts at the shared value.
    let (mut late, shown) = tab(addr, &alice).await;
    assert_eq!(shown, "2");

    // Another browser sees the shared value, but its clicks reach only its own tabs.
    let bob = session_cookie(addr, "/").await;
    let (mut other, shown) = tab(addr, &bob).await;
    assert_eq!(shown, "2");
    let reply = call(&mut other, INCREMENT).await;
    assert_eq!(counter(&reply).as_deref(), Some("3"));
    assert_eq!(
        call(&mut late, r#"{"action":"__ping__"}"#).await,
        r#"{"pong":true}"#,
        "the other session's publish must not reach this tab"
    );

    // Without JavaScript: the form post increments and pushes to the session's live tabs.
    let post = request(
        addr,
        "POST",
        "/",
        &[
            ("Content-Type", "application/x-www-form-urlencoded"),
            ("Cookie", &alice),
        ],
        "increment=",
    )
    .await;
    assert_eq!(post.status, 303, "{post:?}");
    for ws in [&mut a, &mut b, &mut late] {
        assert_eq!(recv(ws).await, r#"{"tree":{"0":"4"}}"#);
    }
}
