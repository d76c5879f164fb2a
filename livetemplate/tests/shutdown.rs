//! Graceful shutdown over real sockets: `serve_with_shutdown` and `LiveHandler::shutdown`
//! close live WebSockets with 1001 (going away), run the disconnect hooks, refuse new
//! upgrades, and return.

#[path = "../../livetemplate-runtime/tests/protocol_support/mod.rs"]
mod protocol_support;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use livetemplate::prelude::*;
use livetemplate::{serve_with_shutdown, App, Disconnect, LiveHandler, Template};
use protocol_support::{call, connect, next_frame, recv, request, session_cookie, try_connect};
use tokio::net::TcpListener;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct Tally {
    n: i64,
}

struct Door {
    left: Arc<AtomicUsize>,
}

#[controller(state = Tally)]
impl Door {
    #[on_disconnect]
    async fn gone(&self, _info: &Disconnect) {
        // A hook that takes a while: the shutdown must wait for it.
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.left.fetch_add(1, Ordering::SeqCst);
    }

    #[action]
    fn bump(&self, state: &mut Tally) {
        state.n += 1;
    }
}

fn door(left: &Arc<AtomicUsize>) -> LiveHandler<Door> {
    let template = Template::new("door", "<p>{{n}}</p>").expect("template");
    LiveHandler::new(Door { left: left.clone() }, template).rate_limit(0.0, 0)
}

/// The close code of the next frame, which must be a close frame.
async fn close_code(ws: &mut protocol_support::Ws) -> CloseCode {
    match next_frame(ws).await {
        Some(Message::Close(Some(frame))) => frame.code,
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn serve_with_shutdown_closes_sockets_runs_hooks_and_returns() {
    let left = Arc::new(AtomicUsize::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve_with_shutdown(
        listener,
        App::from(door(&left)),
        async move {
            let _ = stopped.await;
        },
    ));

    let cookie = session_cookie(addr, "/").await;
    let mut tabs = Vec::new();
    for _ in 0..2 {
        let mut ws = connect(addr, "/", &cookie).await;
        recv(&mut ws).await;
        tabs.push(ws);
    }
    let bumped = call(&mut tabs[0], r#"{"action":"bump"}"#).await;
    assert!(bumped.contains(r#""0":"1""#), "{bumped}");

    stop.send(()).expect("server waits for the signal");
    for ws in &mut tabs {
        assert_eq!(close_code(ws).await, CloseCode::Away);
    }
    let result = tokio::time::timeout(Duration::from_secs(10), server)
        .await
        .expect("the server returns after the shutdown")
        .expect("server task");
    assert!(result.is_ok(), "{result:?}");
    // Both disconnect hooks finished before `serve_with_shutdown` returned.
    assert_eq!(left.load(Ordering::SeqCst), 2);
    // The listener is closed: nothing is accepted any more.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn a_mounted_handler_shuts_down_and_refuses_new_sockets_but_still_serves_pages() {
    let left = Arc::new(AtomicUsize::new(0));
    let handler = door(&left);
    let addr = protocol_support::start(handler.clone()).await;
    let cookie = session_cookie(addr, "/").await;
    let mut ws = connect(addr, "/", &cookie).await;
    recv(&mut ws).await;
    assert_eq!(handler.registry().running_tasks(), 1);

    tokio::time::timeout(Duration::from_secs(10), handler.shutdown())
        .await
        .expect("shutdown completes");
    assert_eq!(close_code(&mut ws).await, CloseCode::Away);
    assert_eq!(left.load(Ordering::SeqCst), 1);
    assert_eq!(handler.registry().running_tasks(), 0);
    assert!(handler.registry().is_empty());

    // New upgrades are refused with 503 ...
    match try_connect(addr, "/", &[("Cookie", &cookie)]).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 503);
        }
        other => panic!("expected 503, got {:?}", other.map(|_| "a socket")),
    }
    // ... while plain page loads still work (no connection state needed).
    let page = request(addr, "GET", "/", &[("Accept", "text/html")], "").await;
    assert_eq!(page.status, 200, "{page:?}");
}
