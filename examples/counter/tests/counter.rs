//! Runs the example binary on a free port and drives it like the browser client does.

use std::process::Stdio;

use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::Command;
use tokio_tungstenite::tungstenite::Message;

async fn http(addr: &str, request: &str) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(request.as_bytes()).await.expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).await.expect("read");
    out
}

/// The example binary on a free port (killed when the child is dropped), and its
/// address from the banner `counter: http://<addr>`.
async fn start_example() -> (tokio::process::Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_counter"))
        .env("PORT", "0")
        .env_remove("LT_CLIENT_DIR")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the example");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .await
        .expect("banner");
    let addr = line
        .trim()
        .strip_prefix("counter: http://")
        .expect("address banner")
        .to_string();
    (child, addr)
}

#[tokio::test]
async fn counter_example_serves_live_and_no_js() {
    let (_child, addr) = start_example().await;

    let page = http(
        &addr,
        &format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"),
    )
    .await;
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(page.contains("<h1>Count: 0</h1>"));
    assert!(page.contains("<button name=\"increment\">+1</button>"));
    assert!(page.contains("@livetemplate/client@0.25.1/dist/livetemplate-client.browser.js"));

    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
        .await
        .expect("ws");
    let first = ws
        .next()
        .await
        .expect("frame")
        .expect("ok")
        .into_text()
        .expect("text");
    assert!(
        first.starts_with(r#"{"tree":{"s":["#)
            && first.ends_with(r#""meta":{"success":true,"errors":{}}}"#),
        "{first}"
    );
    ws.send(Message::text(
        r#"{"action":"increment","data":{},"submitter":"increment"}"#,
    ))
    .await
    .expect("send");
    let reply = ws
        .next()
        .await
        .expect("frame")
        .expect("ok")
        .into_text()
        .expect("text");
    assert_eq!(
        reply.as_str(),
        r#"{"tree":{"0":"1"},"meta":{"success":true,"errors":{},"action":"increment"}}"#
    );

    let post = http(
        &addr,
        &format!(
            "POST /?x=1 HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 10\r\n\r\nincrement="
        ),
    )
    .await;
    assert!(post.starts_with("HTTP/1.1 303"), "{post}");
    assert!(
        post.to_ascii_lowercase().contains("location: /?x=1\r\n"),
        "{post}"
    );
}

/// SIGTERM (what process managers send) shuts the example down gracefully: its live
/// WebSocket is closed with 1001 (going away, so the browser reconnects elsewhere) and the
/// process exits successfully.
#[cfg(unix)]
#[tokio::test]
async fn sigterm_closes_sockets_with_going_away_and_exits_cleanly() {
    use std::time::Duration;
    use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

    let (mut child, addr) = start_example().await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
        .await
        .expect("ws");
    let first = ws.next().await.expect("frame").expect("ok");
    assert!(first.is_text(), "{first:?}");

    let pid = child.id().expect("running").to_string();
    let status = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .expect("kill");
    assert!(status.success());

    let closed = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("a close frame in time");
    match closed {
        Some(Ok(Message::Close(Some(frame)))) => assert_eq!(frame.code, CloseCode::Away),
        other => panic!("expected a close frame, got {other:?}"),
    }
    let exit = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("the process exits in time")
        .expect("wait");
    assert!(exit.success(), "{exit:?}");
}
