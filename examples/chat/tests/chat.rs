//! Two browsers and several tabs chatting over the WebSocket protocol.

#[path = "../../../livetemplate-runtime/tests/protocol_support/mod.rs"]
mod protocol_support;

use livetemplate::App;
use protocol_support::{call, connect, recv, request, session_cookie, start, Ws};
use serde_json::{json, Value};

fn msg(action: &str, data: serde_json::Value) -> String {
    json!({ "action": action, "data": data }).to_string()
}

async fn tab(addr: std::net::SocketAddr, cookie: &str) -> (Ws, String) {
    let mut ws = connect(addr, "/", cookie).await;
    let first = recv(&mut ws).await;
    (ws, first)
}

#[tokio::test]
async fn messages_reach_every_tab_and_browser_and_late_joiners_see_the_history() {
    let addr =
        start(App::new().page("/", chat::handler(chat::Chat::new(3)).expect("handler"))).await;
    let page = request(addr, "GET", "/", &[], "").await;
    assert!(
        page.body.contains(r#"<input name="username""#)
            && page.body.contains(r#"<button name="join">Join</button>"#),
        "{}",
        page.body
    );

    let browser = session_cookie(addr, "/").await;
    let (mut alice, _) = tab(addr, &browser).await;
    let (mut bob, _) = tab(addr, &browser).await;
    let (mut carol, _) = tab(addr, "").await; // another browser

    // Names are per connection: two tabs of one browser are two people.
    let joined = call(&mut alice, &msg("join", json!({"username": "alice"}))).await;
    assert!(
        joined.contains("Posting as <strong>") && joined.contains("alice"),
        "{joined}"
    );
    let joined = call(&mut bob, &msg("join", json!({"username": "bob"}))).await;
    assert!(
        joined.contains("bob") && !joined.contains("alice"),
        "{joined}"
    );
    let refused = call(&mut carol, &msg("join", json!({"username": "  "}))).await;
    assert!(refused.contains("Pick a name"), "{refused}");
    call(&mut carol, &msg("join", json!({"username": "carol"}))).await;

    let sent = call(&mut alice, &msg("send", json!({"text": "hi all"}))).await;
    assert!(sent.contains("hi all"), "{sent}");
    for ws in [&mut bob, &mut carol] {
        let pushed = recv(ws).await;
        assert!(
            pushed.contains("alice") && pushed.contains("hi all") && !pushed.contains("meta"),
            "{pushed}"
        );
    }

    // A connection opened later sees the history once it joins.
    let (mut late, _) = tab(addr, "").await;
    let joined = call(&mut late, &msg("join", json!({"username": "dan"}))).await;
    assert!(
        joined.contains("hi all") && joined.contains("alice"),
        "{joined}"
    );

    // The log keeps the last 3 messages.
    for text in ["two", "three", "four"] {
        call(&mut bob, &msg("send", json!({"text": text}))).await;
        recv(&mut alice).await;
        recv(&mut carol).await;
    }
    recv(&mut late).await; // one push per message
    recv(&mut late).await;
    recv(&mut late).await;
    let (mut later, _) = tab(addr, "").await;
    let joined = call(&mut later, &msg("join", json!({"username": "fay"}))).await;
    assert!(
        !joined.contains("hi all") && joined.contains("two") && joined.contains("four"),
        "{joined}"
    );
}

#[tokio::test]
async fn the_page_renders_the_seeds_markup_for_messages() {
    let addr = start(chat::app(&Default::default()).expect("app")).await;
    let (mut ws, _) = tab(addr, "").await;
    call(&mut ws, &msg("join", json!({"username": "dora"}))).await;
    call(&mut ws, &msg("send", json!({"text": "<b>bold</b>"}))).await;
    let cookie = session_cookie(addr, "/").await;
    // The page of a new visitor: not joined yet, so the join form.
    let page = request(addr, "GET", "/", &[("Cookie", &cookie)], "").await;
    assert!(page.body.contains(r#"name="username""#), "{}", page.body);
    // Joined: the message as `<p data-key="ID"><strong>USER:</strong> TEXT</p>`, escaped.
    let (mut other, _) = tab(addr, "").await;
    let joined = call(&mut other, &msg("join", json!({"username": "eve"}))).await;
    let tree: serde_json::Value = serde_json::from_str(&joined).expect("json");
    let html = html_of(&tree["tree"]["0"]);
    assert!(
        html.contains(r#"<p data-key="1"><strong>dora:</strong> &lt;b&gt;bold&lt;/b&gt;</p>"#),
        "{html}"
    );
    assert!(
        html.contains(r#"<input name="text""#)
            && html.contains(r#"<button name="send">Send</button>"#)
    );
}

/// The HTML a full tree (or tree node) renders to.
fn html_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Object(m) => {
            let statics: Vec<&str> = m
                .get("s")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            match m.get("d").and_then(Value::as_array) {
                Some(items) if items.is_empty() => m.get("else").map(html_of).unwrap_or_default(),
                Some(items) => items
                    .iter()
                    .map(|item| interleave(&statics, item))
                    .collect(),
                None => interleave(&statics, v),
            }
        }
        _ => String::new(),
    }
}

fn interleave(statics: &[&str], slots: &Value) -> String {
    let mut out = String::new();
    for (i, s) in statics.iter().enumerate() {
        out.push_str(s);
        if i + 1 < statics.len() {
            out.push_str(&html_of(&slots[i.to_string()]));
        }
    }
    out
}
