//! Two viewers of the dashboard, over the WebSocket protocol: refreshed in lockstep by
//! the server's ticker, with no interaction.

#[path = "../../../livetemplate-runtime/tests/protocol_support/mod.rs"]
mod protocol_support;

use std::time::Duration;

use livetemplate::App;
use protocol_support::{connect, recv, start, Ws};
use serde_json::Value;

/// The tick a frame shows (slot 0), if it changes it.
fn tick(frame: &str) -> Option<u64> {
    let v: Value = serde_json::from_str(frame).expect("json frame");
    v["tree"]["0"].as_str().and_then(|t| t.parse().ok())
}

async fn next_tick(ws: &mut Ws) -> u64 {
    let frame = recv(ws).await;
    assert!(!frame.contains("meta"), "pushes carry no meta: {frame}");
    tick(&frame).expect("a refresh changes the tick")
}

#[tokio::test]
async fn one_ticker_refreshes_every_viewer_in_lockstep() {
    let handler = live_dashboard::handler(Duration::from_millis(50)).expect("handler");
    let addr = start(App::new().page("/", handler)).await;
    let mut a = connect(addr, "/", "").await;
    let first = recv(&mut a).await;
    assert!(first.contains("Pushes received: "), "{first}");
    let t = next_tick(&mut a).await;
    assert!(t >= 1);

    // A second browser: its first refresh is one A also gets, and so are the next ones.
    let mut b = connect(addr, "/", "").await;
    recv(&mut b).await;
    let tb = next_tick(&mut b).await;
    let mut ta = next_tick(&mut a).await;
    while ta < tb {
        ta = next_tick(&mut a).await;
    }
    assert_eq!(ta, tb, "every tick reaches every viewer");
    for _ in 0..3 {
        assert_eq!(next_tick(&mut a).await, next_tick(&mut b).await);
    }

    // Closing one viewer does not affect the other.
    drop(a);
    let before = next_tick(&mut b).await;
    assert!(next_tick(&mut b).await > before);
}
