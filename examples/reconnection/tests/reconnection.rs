//! The reconnection example, driven like the browser client drives it: as a separate
//! process killed and started again on the same port, and in-process for the restore
//! rules of its derived state.
//!
//! The Redis tests need Redis on 127.0.0.1:6379 and skip (saying so) when it is absent;
//! `.ci/run` starts one.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use livetemplate::store::{MemoryStore, SessionStore};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// One HTTP/1.1 exchange; returns the raw response.
async fn http(addr: &str, method: &str, cookie: Option<&str>, body: Option<&str>) -> String {
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut req = format!("{method} / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(c) = cookie {
        req.push_str(&format!("Cookie: {c}\r\n"));
    }
    if let Some(b) = body {
        req.push_str(&format!(
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{b}",
            b.len()
        ));
    } else {
        req.push_str("\r\n");
    }
    s.write_all(req.as_bytes()).await.expect("write");
    let mut out = String::new();
    tokio::time::timeout(Duration::from_secs(20), s.read_to_string(&mut out))
        .await
        .expect("response in time")
        .expect("read");
    out
}

/// `livetemplate-id=…` from a response.
fn session_cookie(response: &str) -> String {
    response
        .lines()
        .find_map(|l| {
            let (name, value) = l.split_once(':')?;
            name.eq_ignore_ascii_case("set-cookie")
                .then(|| value.trim().split(';').next().unwrap_or("").to_string())
        })
        .filter(|c| c.starts_with("livetemplate-id="))
        .expect("session cookie")
}

/// Start the example binary; returns it and its address.
async fn spawn(port: u16, args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_reconnection"))
        .args(args)
        .env("PORT", port.to_string())
        .env_remove("LT_CLIENT_DIR")
        .env_remove("LT_REDIS_URL")
        .env_remove("LT_REDIS_PREFIX")
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the example");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(20), stdout.read_line(&mut line))
        .await
        .expect("banner in time")
        .expect("banner");
    // Keep reading so that the server never writes into a closed pipe.
    tokio::spawn(async move {
        let mut sink = Vec::new();
        let _ = stdout.read_to_end(&mut sink).await;
    });
    let addr = line
        .trim()
        .strip_prefix("reconnection: http://")
        .unwrap_or_else(|| panic!("unexpected banner {line:?}"))
        .to_string();
    (child, addr)
}

fn port_of(addr: &str) -> u16 {
    addr.parse::<SocketAddr>().expect("address").port()
}

/// Open the page's WebSocket, save `counter` clicks and the notes/draft, return the
/// last reply.
async fn fill_the_form(addr: &str, cookie: &str, clicks: usize) -> String {
    let mut req = format!("ws://{addr}/")
        .into_client_request()
        .expect("request");
    req.headers_mut()
        .insert("cookie", cookie.parse().expect("header value"));
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.expect("ws");
    let mut last = next_text(&mut ws).await;
    for _ in 0..clicks {
        ws.send(Message::text(r#"{"action":"increment","data":{}}"#))
            .await
            .expect("send");
        last = next_text(&mut ws).await;
    }
    ws.send(Message::text(
        r#"{"action":"save","data":{"notes":"buy milk","draft":"half-typed"}}"#,
    ))
    .await
    .expect("send");
    last.push_str(&next_text(&mut ws).await);
    last
}

async fn next_text<S>(ws: &mut S) -> String
where
    S: StreamExt<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    let frame = tokio::time::timeout(Duration::from_secs(20), ws.next())
        .await
        .expect("a frame in time")
        .expect("a frame")
        .expect("no error");
    frame.into_text().expect("text").to_string()
}

fn redis_is_there(test: &str) -> bool {
    let addr: SocketAddr = ([127, 0, 0, 1], 6379).into();
    let up = std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_ok();
    if !up {
        println!("skipping {test}: no Redis on 127.0.0.1:6379 (scripts/setup starts one)");
    }
    up
}

#[tokio::test]
async fn with_redis_a_killed_and_restarted_server_loses_no_persisted_field() {
    if !redis_is_there("with_redis_a_killed_and_restarted_server_loses_no_persisted_field") {
        return;
    }
    let prefix = format!("livetemplate-test:reconnection:{:016x}:", rand_u64());
    let args = [
        "--redis",
        "redis://127.0.0.1:6379",
        "--redis-prefix",
        &prefix,
    ];
    let (mut server, addr) = spawn(0, &args).await;
    let first = http(&addr, "GET", None, None).await;
    assert!(first.starts_with("HTTP/1.1 200"), "{first}");
    let cookie = session_cookie(&first);
    let replies = fill_the_form(&addr, &cookie, 3).await;
    assert!(replies.contains(r#""success":true"#), "{replies}");

    server.kill().await.expect("kill");
    let (mut restarted, again) = spawn(port_of(&addr), &args).await;
    assert_eq!(again, addr, "restarted on the same port");
    let page = http(&addr, "GET", Some(&cookie), None).await;
    assert!(
        page.contains(r#"<output id="counter">3</output>"#),
        "{page}"
    );
    assert!(
        page.contains(r#"<span id="notes">buy milk</span>"#),
        "{page}"
    );
    assert!(
        page.contains(r#"<span id="draft"></span>"#),
        "the draft is not persisted: {page}"
    );
    restarted.kill().await.expect("kill");

    let client = redis::Client::open("redis://127.0.0.1:6379/").expect("client");
    if let Ok(mut conn) = client.get_multiplexed_async_connection().await {
        let group = cookie.trim_start_matches("livetemplate-id=");
        let _: redis::RedisResult<i64> = redis::cmd("DEL")
            .arg(format!("{prefix}session:{group}|/"))
            .query_async(&mut conn)
            .await;
    }
}

#[tokio::test]
async fn with_the_memory_store_a_restart_starts_from_zero_but_a_reconnect_does_not() {
    let (mut server, addr) = spawn(0, &[]).await;
    let cookie = session_cookie(&http(&addr, "GET", None, None).await);
    fill_the_form(&addr, &cookie, 2).await;

    // A new WebSocket (a reconnect) gets the persisted fields back, not the draft.
    let first = fill_the_form(&addr, &cookie, 0).await;
    assert!(first.contains(r#""2""#), "counter restored: {first}");
    let page = http(&addr, "GET", Some(&cookie), None).await;
    assert!(
        page.contains(r#"<output id="counter">2</output>"#),
        "{page}"
    );

    server.kill().await.expect("kill");
    let (mut restarted, _) = spawn(port_of(&addr), &[]).await;
    let page = http(&addr, "GET", Some(&cookie), None).await;
    assert!(
        page.contains(r#"<output id="counter">0</output>"#),
        "{page}"
    );
    assert!(page.contains(r#"<span id="notes"></span>"#), "{page}");
    restarted.kill().await.expect("kill");
}

#[tokio::test]
async fn a_form_post_without_javascript_keeps_notes_but_not_the_draft() {
    let (mut server, addr) = spawn(0, &[]).await;
    let cookie = session_cookie(&http(&addr, "GET", None, None).await);
    for _ in 0..2 {
        let r = http(&addr, "POST", Some(&cookie), Some("increment=")).await;
        assert!(r.starts_with("HTTP/1.1 303"), "{r}");
    }
    let r = http(
        &addr,
        "POST",
        Some(&cookie),
        Some("notes=from+a+form&draft=scratch&save="),
    )
    .await;
    assert!(r.starts_with("HTTP/1.1 303"), "{r}");
    let page = http(&addr, "GET", Some(&cookie), None).await;
    assert!(
        page.contains(r#"<output id="counter">2</output>"#),
        "{page}"
    );
    assert!(
        page.contains(r#"<span id="notes">from a form</span>"#),
        "{page}"
    );
    assert!(page.contains(r#"<span id="draft"></span>"#), "{page}");
    server.kill().await.expect("kill");
}

#[tokio::test]
async fn the_derived_state_restores_null_and_missing_keys_field_by_field() {
    let store = MemoryStore::new();
    let handler = reconnection::handler()
        .expect("handler")
        .session_store(store.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    tokio::spawn(livetemplate::transport::serve_listener(listener, handler));

    let group = "restoregroup0123456789";
    let cookie = format!("livetemplate-id={group}");
    let key = format!("{group}|/");
    store
        .set(
            &key,
            Bytes::from_static(br#"{"counter":null,"notes":"kept"}"#),
        )
        .await
        .expect("seed");
    let page = http(&addr, "GET", Some(&cookie), None).await;
    assert!(
        page.contains(r#"<output id="counter">0</output>"#),
        "{page}"
    );
    assert!(page.contains(r#"<span id="notes">kept</span>"#), "{page}");

    store
        .set(&key, Bytes::from_static(br#"{"counter":7}"#))
        .await
        .expect("seed");
    let page = http(&addr, "GET", Some(&cookie), None).await;
    assert!(
        page.contains(r#"<output id="counter">7</output>"#),
        "{page}"
    );
    assert!(page.contains(r#"<span id="notes"></span>"#), "{page}");

    store
        .set(
            &key,
            Bytes::from_static(br#"{"counter":"seven","notes":"x"}"#),
        )
        .await
        .expect("seed");
    let page = http(&addr, "GET", Some(&cookie), None).await;
    assert!(
        page.contains(r#"<output id="counter">0</output>"#)
            && page.contains(r#"<span id="notes"></span>"#),
        "a record of the wrong shape restores nothing: {page}"
    );
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u32(std::process::id());
    h.finish()
}
