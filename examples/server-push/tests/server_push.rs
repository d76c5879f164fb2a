//! Pushes without clicks, over the WebSocket protocol: a job result, ticks to every tab
//! of the session, and the ticker stopping when the session is gone.

#[path = "../../../livetemplate-runtime/tests/protocol_support/mod.rs"]
mod protocol_support;

use std::time::Duration;

use livetemplate::App;
use protocol_support::{call, connect, eventually, recv, session_cookie, start, Ws};
use server_push::{ServerPush, Settings};

/// Read frames until one contains `needle` (pushes may interleave).
async fn until(ws: &mut Ws, needle: &str) -> String {
    for _ in 0..200 {
        let frame = recv(ws).await;
        if frame.contains(needle) {
            return frame;
        }
    }
    panic!("no frame with {needle:?}");
}

#[tokio::test]
async fn results_and_ticks_arrive_without_a_click_and_the_ticker_stops_with_the_session() {
    let controller = ServerPush::new(Settings {
        job_takes: Duration::from_millis(50),
        tick_every: Duration::from_millis(20),
    });
    let tickers = controller.tickers();
    let app = App::new().page("/", server_push::handler(controller).expect("handler"));
    let addr = start(app).await;
    let cookie = session_cookie(addr, "/").await;

    let mut a = connect(addr, "/", &cookie).await;
    let first = recv(&mut a).await;
    assert!(
        first.contains("No result yet.") && first.contains("Server ticks: "),
        "{first}"
    );
    // Ticks come by themselves, without meta.
    let tick = recv(&mut a).await;
    assert!(
        tick.starts_with(r#"{"tree":{"#) && !tick.contains("meta"),
        "{tick}"
    );

    let mut b = connect(addr, "/", &cookie).await;
    recv(&mut b).await;
    assert_eq!(tickers.running(), 1, "one ticker per session");
    let tick = recv(&mut b).await;
    assert!(
        tick.starts_with(r#"{"tree":{"#) && !tick.contains("meta"),
        "{tick}"
    );

    let started = call(&mut a, r#"{"action":"start_job","data":{}}"#).await;
    let started = if started.contains("meta") {
        started
    } else {
        until(&mut a, r#""action":"start_job""#).await
    };
    assert!(started.contains("Working…"), "{started}");
    // The result reaches both tabs of the session, no click needed.
    let done = until(&mut a, "done after 50 ms").await;
    assert!(!done.contains("meta"), "{done}");
    until(&mut b, "done after 50 ms").await;

    // Another session gets its own ticker.
    let mut other = connect(addr, "/", "").await;
    recv(&mut other).await;
    eventually(|| tickers.running() == 2).await;

    // Every tab of the first session gone: its ticker notices and stops.
    drop(a);
    drop(b);
    eventually(|| tickers.running() == 1).await;
    drop(other);
    eventually(|| tickers.running() == 0).await;

    // Coming back starts a new one.
    let mut again = connect(addr, "/", &cookie).await;
    recv(&mut again).await;
    assert_eq!(tickers.running(), 1);
    recv(&mut again).await;
}
