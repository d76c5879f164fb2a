//! WebSocket protocol tests: exact frames exchanged with an in-process server.

mod protocol_support;

use std::sync::Arc;

use futures_util::SinkExt;
use livetemplate_runtime::transport::{Dispatch, LiveHandler};
use livetemplate_runtime::Origin;
use protocol_support::*;
use serde_json::Map;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

fn first_frame(count: i64, meta: &str) -> String {
    format!(r#"{{"tree":{{"s":{STATICS},"0":"{count}","1":"","2":"","3":""}},"meta":{meta}}}"#)
}

const OK: &str = r#"{"success":true,"errors":{}}"#;

#[tokio::test]
async fn counter_session_exact_frames() {
    let addr = start(counter()).await;
    let cookie = session_cookie(addr, "/").await;
    let mut ws = connect(addr, "/", &cookie).await;
    assert_eq!(recv(&mut ws).await, first_frame(0, OK));
    assert_eq!(
        call(
            &mut ws,
            r#"{"action":"increment","data":{},"submitter":"increment"}"#
        )
        .await,
        r#"{"tree":{"0":"1"},"meta":{"success":true,"errors":{},"action":"increment"}}"#
    );
    assert_eq!(
        call(&mut ws, r#"{"action":"increment","data":{}}"#).await,
        r#"{"tree":{"0":"2"},"meta":{"success":true,"errors":{},"action":"increment"}}"#
    );
    assert_eq!(
        call(&mut ws, r#"{"action":"decrement","data":{}}"#).await,
        r#"{"tree":{"0":"1"},"meta":{"success":true,"errors":{},"action":"decrement"}}"#
    );
    assert_eq!(
        call(&mut ws, r#"{"action":"__ping__"}"#).await,
        r#"{"pong":true}"#
    );
    // A no-op action still gets a reply with an empty tree.
    assert_eq!(
        call(&mut ws, r#"{"action":"set","data":{"to":1}}"#).await,
        r#"{"tree":{},"meta":{"success":true,"errors":{},"action":"set"}}"#
    );
}

#[tokio::test]
async fn mount_sees_the_websocket_query_and_capabilities_are_advertised() {
    let addr = start(LiveHandler::new(Counter::<true>::default(), template())).await;
    let mut ws = connect(addr, "/?start=41", "").await;
    assert_eq!(
        recv(&mut ws).await,
        first_frame(
            41,
            r#"{"success":true,"errors":{},"capabilities":["change"]}"#
        )
    );
}

#[tokio::test]
async fn unknown_and_internal_actions_fail_without_touching_state() {
    let addr = start(counter()).await;
    let mut ws = connect(addr, "/", "").await;
    recv(&mut ws).await;
    assert_eq!(
        call(&mut ws, r#"{"action":"nope","data":{}}"#).await,
        r#"{"tree":{"1":"unknown action &quot;nope&quot;"},"meta":{"success":false,"errors":{"_general":"unknown action \"nope\""},"action":"nope"}}"#
    );
    // Internal actions are invisible to clients; the previous error is cleared first.
    assert_eq!(
        call(&mut ws, r#"{"action":"secret","data":{}}"#).await,
        r#"{"tree":{"1":"unknown action &quot;secret&quot;"},"meta":{"success":false,"errors":{"_general":"unknown action \"secret\""},"action":"secret"}}"#
    );
    assert_eq!(
        call(&mut ws, r#"{"action":"increment","data":{}}"#).await,
        r#"{"tree":{"0":"1","1":""},"meta":{"success":true,"errors":{},"action":"increment"}}"#
    );
}

#[tokio::test]
async fn failed_action_commits_nothing_and_errors_clear_on_next_action() {
    let addr = start(counter()).await;
    let mut ws = connect(addr, "/", "").await;
    recv(&mut ws).await;
    assert_eq!(
        call(&mut ws, r#"{"action":"fail","data":{}}"#).await,
        r#"{"tree":{"2":"too big"},"meta":{"success":false,"errors":{"count":"too big"},"action":"fail"}}"#
    );
    assert_eq!(
        call(&mut ws, r#"{"action":"boom","data":{}}"#).await,
        r#"{"tree":{"1":"it broke","2":""},"meta":{"success":false,"errors":{"_general":"it broke"},"action":"boom"}}"#
    );
    assert_eq!(
        call(&mut ws, r#"{"action":"increment","data":{}}"#).await,
        r#"{"tree":{"0":"1","1":""},"meta":{"success":true,"errors":{},"action":"increment"}}"#
    );
}

#[tokio::test]
async fn panicking_action_is_a_general_error_and_the_connection_survives() {
    let addr = start(counter()).await;
    let mut ws = connect(addr, "/", "").await;
    recv(&mut ws).await;
    assert_eq!(
        call(&mut ws, r#"{"action":"panic","data":{}}"#).await,
        r#"{"tree":{"1":"internal error"},"meta":{"success":false,"errors":{"_general":"internal error"},"action":"panic"}}"#
    );
    assert_eq!(
        call(&mut ws, r#"{"action":"__ping__"}"#).await,
        r#"{"pong":true}"#
    );
}

#[tokio::test]
async fn flash_persists_on_the_connection() {
    let addr = start(counter()).await;
    let mut ws = connect(addr, "/", "").await;
    recv(&mut ws).await;
    assert_eq!(
        call(&mut ws, r#"{"action":"note","data":{}}"#).await,
        r#"{"tree":{"3":"Saved!"},"meta":{"success":true,"errors":{},"action":"note"}}"#
    );
    assert_eq!(
        call(&mut ws, r#"{"action":"increment","data":{}}"#).await,
        r#"{"tree":{"0":"1"},"meta":{"success":true,"errors":{},"action":"increment"}}"#
    );
}

#[tokio::test]
async fn navigate_remounts_with_the_new_query() {
    let addr = start(counter()).await;
    let mut ws = connect(addr, "/?start=3", "").await;
    assert_eq!(recv(&mut ws).await, first_frame(3, OK));
    assert_eq!(
        call(&mut ws, r#"{"action":"__navigate__","data":{"start":"7"}}"#).await,
        r#"{"tree":{"0":"7"},"meta":{"success":true,"errors":{},"action":"__navigate__"}}"#
    );
    assert_eq!(
        call(&mut ws, r#"{"action":"__navigate__","data":{"fail":"1"}}"#).await,
        r#"{"tree":{"1":"mount refused"},"meta":{"success":false,"errors":{"_general":"mount refused"},"action":"__navigate__"}}"#
    );
}

#[tokio::test]
async fn malformed_json_gets_an_error_reply_and_the_connection_stays() {
    let addr = start(counter()).await;
    let mut ws = connect(addr, "/", "").await;
    recv(&mut ws).await;
    for bad in ["{not json", "[1,2]", r#"{"data":{}}"#] {
        let reply: serde_json::Value =
            serde_json::from_str(&call(&mut ws, bad).await).expect("json reply");
        assert_eq!(reply["tree"], serde_json::json!({}), "{bad}");
        assert_eq!(reply["meta"]["success"], false);
        let msg = reply["meta"]["errors"]["_general"]
            .as_str()
            .expect("message");
        assert!(msg.starts_with("malformed message: "), "{msg}");
        assert!(reply["meta"].get("action").is_none());
    }
    assert_eq!(
        call(&mut ws, r#"{"action":"__ping__"}"#).await,
        r#"{"pong":true}"#
    );
}

#[tokio::test]
async fn binary_frame_closes_with_1003() {
    let addr = start(counter()).await;
    let mut ws = connect(addr, "/", "").await;
    recv(&mut ws).await;
    ws.send(Message::binary(vec![1u8, 2, 3]))
        .await
        .expect("send");
    match next_frame(&mut ws).await {
        Some(Message::Close(Some(f))) => assert_eq!(f.code, CloseCode::Unsupported),
        other => panic!("expected close 1003, got {other:?}"),
    }
}

#[tokio::test]
async fn oversized_frame_closes_with_1009() {
    let addr = start(counter().max_message_size(256)).await;
    let mut ws = connect(addr, "/", "").await;
    recv(&mut ws).await;
    // At the limit: still fine (an unknown action).
    let ok = format!(r#"{{"action":"x","data":{{"p":"{}"}}}}"#, "a".repeat(200));
    assert!(call(&mut ws, &ok).await.contains(r#""action":"x""#));
    let big = format!(r#"{{"action":"x","data":{{"p":"{}"}}}}"#, "a".repeat(1000));
    ws.send(Message::text(big)).await.expect("send");
    match next_frame(&mut ws).await {
        Some(Message::Close(Some(f))) => assert_eq!(f.code, CloseCode::Size),
        other => panic!("expected close 1009, got {other:?}"),
    }
}

#[tokio::test]
async fn origin_check() {
    let addr = start(counter()).await;
    let foreign = try_connect(addr, "/", &[("Origin", "http://evil.example")]).await;
    match foreign {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => assert_eq!(resp.status(), 403),
        other => panic!("expected 403, got {:?}", other.map(|_| ())),
    }
    let own = format!("http://{addr}");
    let mut same = try_connect(addr, "/", &[("Origin", &own)])
        .await
        .expect("same origin");
    assert_eq!(recv(&mut same).await, first_frame(0, OK));
    let mut none = try_connect(addr, "/", &[]).await.expect("no origin");
    assert_eq!(recv(&mut none).await, first_frame(0, OK));

    let listed = start(counter().allowed_origins(["http://app.example"])).await;
    let mut ok = try_connect(listed, "/", &[("Origin", "http://app.example")])
        .await
        .expect("listed");
    assert_eq!(recv(&mut ok).await, first_frame(0, OK));
    assert!(
        try_connect(listed, "/", &[("Origin", &format!("http://{listed}"))])
            .await
            .is_err()
    );
}

#[tokio::test]
async fn two_connections_of_one_browser_have_separate_state() {
    let addr = start(counter()).await;
    let cookie = session_cookie(addr, "/").await;
    let mut a = connect(addr, "/", &cookie).await;
    let mut b = connect(addr, "/", &cookie).await;
    recv(&mut a).await;
    recv(&mut b).await;
    call(&mut a, r#"{"action":"increment","data":{}}"#).await;
    assert_eq!(
        call(&mut a, r#"{"action":"increment","data":{}}"#).await,
        r#"{"tree":{"0":"2"},"meta":{"success":true,"errors":{},"action":"increment"}}"#
    );
    assert_eq!(
        call(&mut b, r#"{"action":"increment","data":{}}"#).await,
        r#"{"tree":{"0":"1"},"meta":{"success":true,"errors":{},"action":"increment"}}"#
    );
}

#[tokio::test]
async fn rate_limit_replies_with_rate_limit_error() {
    let addr = start(counter().rate_limit(0.0001, 2)).await;
    let mut ws = connect(addr, "/", "").await;
    recv(&mut ws).await;
    assert_eq!(
        call(&mut ws, r#"{"action":"__ping__"}"#).await,
        r#"{"pong":true}"#
    );
    assert!(call(&mut ws, r#"{"action":"increment","data":{}}"#)
        .await
        .contains(r#""0":"1""#));
    // The refused action is echoed (the client reports it in its lifecycle events) ...
    assert_eq!(
        call(&mut ws, r#"{"action":"increment","data":{}}"#).await,
        r#"{"tree":{},"meta":{"success":false,"errors":{"_rate_limit":"Too many requests. Please slow down."},"action":"increment"}}"#
    );
    // ... a form submitted by its button resolves to the button's name ...
    assert_eq!(
        call(
            &mut ws,
            r#"{"action":"","data":{},"submitter":"decrement"}"#
        )
        .await,
        r#"{"tree":{},"meta":{"success":false,"errors":{"_rate_limit":"Too many requests. Please slow down."},"action":"decrement"}}"#
    );
    // ... and pings and unreadable messages get the bare reply; nothing ran.
    for text in [r#"{"action":"__ping__"}"#, "not json"] {
        assert_eq!(
            call(&mut ws, text).await,
            r#"{"tree":{},"meta":{"success":false,"errors":{"_rate_limit":"Too many requests. Please slow down."}}}"#
        );
    }
}

#[tokio::test]
async fn websocket_disabled_refuses_upgrade() {
    let addr = start(counter().websocket(false)).await;
    match try_connect(addr, "/", &[]).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 400);
            assert_eq!(
                resp.headers()
                    .get("x-livetemplate-websocket")
                    .map(|v| v.as_bytes()),
                Some(&b"disabled"[..])
            );
        }
        other => panic!("expected 400, got {:?}", other.map(|_| ())),
    }
}

#[tokio::test]
async fn mount_error_closes_the_socket() {
    let addr = start(counter()).await;
    let mut ws = connect(addr, "/?fail=1", "").await;
    match next_frame(&mut ws).await {
        Some(Message::Close(Some(f))) => assert_eq!(f.code, CloseCode::Error),
        other => panic!("expected close 1011, got {other:?}"),
    }
}

#[tokio::test]
async fn registry_dispatch_pushes_without_meta_and_disconnect_is_reported() {
    let controller = Counter::<false>::default();
    let gone = controller.gone.clone();
    let handler = LiveHandler::new(controller, template());
    let registry = Arc::clone(handler.registry());
    let addr = start(handler).await;
    let cookie = session_cookie(addr, "/").await;
    let group = cookie.trim_start_matches("livetemplate-id=").to_string();
    let mut ws = connect(addr, "/", &cookie).await;
    recv(&mut ws).await;
    let conns = registry.connections_of_group(&group);
    assert_eq!(conns.len(), 1);
    let push = |action: &str| Dispatch {
        action: action.into(),
        data: Map::new(),
        origin: Origin::Server,
    };
    // Internal actions are reachable by the server; the push carries no meta.
    conns[0].sender.dispatch(push("secret")).expect("queued");
    assert_eq!(recv(&mut ws).await, r#"{"tree":{"0":"100"}}"#);
    // Unknown dispatches are dropped silently; unchanged renders are not sent.
    conns[0].sender.dispatch(push("nope")).expect("queued");
    conns[0].sender.dispatch(push("secret")).expect("queued");
    assert_eq!(
        call(&mut ws, r#"{"action":"__ping__"}"#).await,
        r#"{"pong":true}"#
    );
    let id = conns[0].id;
    drop(ws);
    // The connection leaves the registry first, then the disconnect hook runs.
    eventually(|| registry.is_empty() && gone.lock().expect("lock").len() == 1).await;
    let gone = gone.lock().expect("lock");
    assert_eq!(gone.len(), 1);
    assert_eq!(
        (
            gone[0].connection_id,
            gone[0].group_id.as_str(),
            gone[0].user_id.as_deref()
        ),
        (id, group.as_str(), None)
    );
}

#[tokio::test]
async fn a_client_that_does_not_read_is_disconnected() {
    let pad = livetemplate_runtime::Template::builder("pad", "<p>{{pad}}</p>")
        .build()
        .expect("template");
    let handler = LiveHandler::new(Counter::<false>::default(), pad)
        .send_queue(2)
        .dispatch_queue(64);
    let registry = Arc::clone(handler.registry());
    let addr = start(handler).await;
    let ws = connect(addr, "/", "").await;
    eventually(|| registry.len() == 1).await;
    let conn = registry.all_connections().remove(0);
    // Every push changes a 64 KiB text; the client never reads, so the socket buffers
    // and then the send queue fill up, and the server drops the connection.
    let mut n = 0i64;
    while !registry.is_empty() && n < 100_000 {
        let data = serde_json::json!({ "n": 65_536 + n % 2 });
        let d = Dispatch {
            action: "pad".into(),
            data: data.as_object().cloned().unwrap_or_default(),
            origin: Origin::Server,
        };
        if conn.sender.dispatch(d).is_ok() {
            n += 1;
        } else {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }
    eventually(|| registry.is_empty()).await;
    drop(ws);
}

/// Live updates of a keyed list (rendered through the connection's render cache) are
/// exactly the diffs between plain renders of the states.
#[tokio::test]
async fn list_updates_are_the_diffs_of_plain_renders() {
    list_updates_match_plain_renders(list()).await;
}

/// The same without the render cache.
#[tokio::test]
async fn list_updates_without_the_render_cache_are_the_same_diffs() {
    list_updates_match_plain_renders(list().render_cache(false)).await;
}

async fn list_updates_match_plain_renders(handler: LiveHandler<List>) {
    use livetemplate_runtime::tree::diff::diff;

    let template = list_template();
    let plain = |rows: &Rows, error: Option<&str>| {
        let mut data = serde_json::to_value(rows).expect("serializes");
        let errors = match error {
            Some(e) => serde_json::json!({"_general": e}),
            None => serde_json::json!({}),
        };
        data["lvt"] = serde_json::json!({"errors": errors, "flash": {}});
        template.render(&data).expect("renders")
    };
    let addr = start(handler).await;
    let mut ws = connect(addr, "/", "").await;
    let first = recv(&mut ws).await;
    assert!(first.starts_with(r#"{"tree":{"s":["<ul>","</ul><p>","</p>"],"0":"#));
    let mut state = Rows::default();
    let mut last = plain(&state, None);
    let steps: Vec<(&str, String, String)> = (0..12)
        .map(|i| ("add", format!("r{i}"), format!("Row {i}")))
        .chain([
            ("rename", "r5".into(), "Row 5 (edited)".into()),
            ("rename", "r5".into(), "Row 5 (edited)".into()),
            ("remove", "r0".into(), String::new()),
            ("reverse", String::new(), String::new()),
            ("rename", "r11".into(), "<b>&</b>".into()),
            ("fail", String::new(), String::new()),
            ("rename", "r3".into(), "{{three}}".into()),
            ("remove", "r11".into(), String::new()),
            ("add", "r0".into(), "back".into()),
        ])
        .collect();
    for (action, id, name) in steps {
        let error = state.apply(action, &id, &name).err().map(|e| e.to_string());
        let next = plain(&state, error.as_deref());
        let msg = serde_json::json!({"action": action, "data": {"id": id, "name": name}});
        let reply = call(&mut ws, &msg.to_string()).await;
        let expected_tree = diff(&last, &next);
        assert!(
            reply.starts_with(&format!(r#"{{"tree":{expected_tree},"meta":"#)),
            "{action} {id}: {reply} (expected tree {expected_tree})"
        );
        last = next;
    }
    assert!(
        !last.to_html().contains("r0\">Row 0"),
        "the list went through its edits"
    );
}

/// Over the connection limit an upgrade gets 503 (and the page still loads); a closed
/// connection makes room again.
#[tokio::test]
async fn upgrades_over_the_connection_limit_get_503() {
    let handler = counter().max_connections(1);
    let registry = handler.registry().clone();
    let addr = start(handler).await;
    let mut first = connect(addr, "/", "").await;
    recv(&mut first).await;
    match try_connect(addr, "/", &[]).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 503);
        }
        other => panic!("expected 503, got {:?}", other.map(|_| "a socket")),
    }
    let page = request(addr, "GET", "/", &[("Accept", "text/html")], "").await;
    assert_eq!(page.status, 200, "{page:?}");

    first.close(None).await.expect("close");
    eventually(|| registry.running_tasks() == 0).await;
    let mut again = connect(addr, "/", "").await;
    assert!(recv(&mut again).await.starts_with(r#"{"tree":{"s":"#));
}

/// A client that sends its first frame in the same packet as the upgrade request: the
/// server reads it from what arrived with the request.
#[tokio::test]
async fn a_frame_sent_with_the_upgrade_request_is_answered() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_tungstenite::tungstenite::protocol::Role;
    use tokio_tungstenite::WebSocketStream;

    let addr = start(counter()).await;
    let cookie = session_cookie(addr, "/").await;
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let mut bytes = format!(
        "GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         Cookie: {cookie}\r\n\r\n"
    )
    .into_bytes();
    // One masked text frame.
    let payload = br#"{"action":"increment","data":{}}"#;
    let mask = [1u8, 2, 3, 4];
    bytes.extend_from_slice(&[0x81, 0x80 | payload.len() as u8]);
    bytes.extend_from_slice(&mask);
    bytes.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    stream.write_all(&bytes).await.expect("write");

    let mut head = Vec::new();
    let end = loop {
        let mut buf = [0u8; 512];
        let n = stream.read(&mut buf).await.expect("read");
        assert!(n > 0, "closed before the response");
        head.extend_from_slice(&buf[..n]);
        if let Some(i) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
    };
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    let rest = head.split_off(end);
    let stream = tokio_tungstenite::MaybeTlsStream::Plain(stream);
    let mut ws = WebSocketStream::from_partially_read(stream, rest, Role::Client, None).await;
    assert_eq!(recv(&mut ws).await, first_frame(0, OK));
    assert_eq!(
        recv(&mut ws).await,
        r#"{"tree":{"0":"1"},"meta":{"success":true,"errors":{},"action":"increment"}}"#
    );
}
