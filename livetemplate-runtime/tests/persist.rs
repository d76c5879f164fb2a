//! `#[persist]` through the transport: what survives a WebSocket reconnect, a refresh and
//! a no-JS post, per session group and path, and what happens when the store fails.

mod persist_support;
mod protocol_support;

use std::sync::atomic::Ordering;

use bytes::Bytes;
use livetemplate_runtime::store::SessionStore;
use livetemplate_runtime::transport::{App, Dispatch};
use livetemplate_runtime::Origin;
use persist_support::{group_of, handler, open, page, slot, slots, Spy, SAVE};
use protocol_support::{call, connect, recv, request, session_cookie, start, try_connect};
use serde_json::{json, Map};

#[tokio::test]
async fn persisted_fields_survive_a_reconnect_and_a_refresh_unpersisted_ones_reset() {
    let spy = Spy::default();
    let addr = start(handler().session_store(spy.clone())).await;
    let cookie = session_cookie(addr, "/").await;

    let (mut ws, first) = open(addr, "/", &cookie).await;
    assert_eq!(first[0], "0");
    assert_eq!(first[2], "initial draft");
    assert_eq!(
        first[3], "Restored",
        "the GET saved the initial persisted fields, so the first connect restores them"
    );
    let reply = call(&mut ws, SAVE).await;
    assert_eq!(slot(&reply, 0).as_deref(), Some("5"), "{reply}");
    assert_eq!(slot(&reply, 2).as_deref(), Some("typed"), "{reply}");
    ws.close(None).await.expect("close");

    let (mut again, second) = open(addr, "/", &cookie).await;
    assert_eq!(second[0], "5", "counter restored on reconnect");
    assert_eq!(second[1], "remember me", "notes restored on reconnect");
    assert_eq!(second[2], "initial draft", "draft is not persisted");
    assert_eq!(second[3], "Restored");
    again.close(None).await.expect("close");

    let html = page(addr, "/", &cookie).await;
    assert!(html.contains("<p>counter 5</p>"), "{html}");
    assert!(html.contains("<p>notes remember me</p>"), "{html}");
    assert!(html.contains("<p>draft initial draft</p>"), "{html}");
    assert!(html.contains("<p>kind InitialMount</p>"), "{html}");

    let record = spy
        .record(&format!("{}|/", group_of(&cookie)))
        .await
        .expect("record under group|path");
    assert_eq!(
        record,
        json!({"counter": 5, "notes": "remember me", "tags": ["a"]})
    );
}

#[tokio::test]
async fn another_group_does_not_see_the_record() {
    let addr = start(handler()).await;
    let alice = session_cookie(addr, "/").await;
    let bob = session_cookie(addr, "/").await;
    assert_ne!(alice, bob);
    let (mut ws, _) = open(addr, "/", &alice).await;
    call(&mut ws, SAVE).await;
    let html = page(addr, "/", &bob).await;
    assert!(html.contains("<p>counter 0</p>"), "{html}");
    assert!(html.contains("<p>notes initial notes</p>"), "{html}");
    let html = page(addr, "/", &alice).await;
    assert!(html.contains("<p>counter 5</p>"), "{html}");
}

#[tokio::test]
async fn a_failed_action_does_not_persist_and_on_connect_changes_are_not_saved_alone() {
    let spy = Spy::default();
    let addr = start(handler().session_store(spy.clone())).await;
    let cookie = session_cookie(addr, "/").await;
    let key = format!("{}|/", group_of(&cookie));

    let (mut ws, first) = open(addr, "/?on_connect", &cookie).await;
    assert_eq!(
        first[1], "changed by on_connect",
        "on_connect ran and its change is shown"
    );
    assert_eq!(
        spy.record(&key).await.expect("record")["notes"],
        "initial notes",
        "on_connect is never followed by a save"
    );
    call(&mut ws, r#"{"action":"increment","data":{}}"#).await;
    let failed = call(&mut ws, r#"{"action":"fail","data":{}}"#).await;
    assert!(failed.contains(r#""success":false"#), "{failed}");
    assert_eq!(
        spy.record(&key).await.expect("record"),
        json!({"counter": 1, "notes": "changed by on_connect", "tags": ["a"]}),
        "the increment saved the committed state (on_connect's change included); the failure saved nothing"
    );
    ws.close(None).await.expect("close");
    let (_ws, again) = open(addr, "/", &cookie).await;
    assert_eq!(again[0], "1");
}

#[tokio::test]
async fn a_state_without_persist_fields_never_touches_the_store() {
    let spy = Spy::default();
    let counter = protocol_support::counter().session_store(spy.clone());
    let stats = counter.clone();
    let addr = start(counter).await;
    let cookie = session_cookie(addr, "/").await;
    let mut ws = connect(addr, "/", &cookie).await;
    let first = recv(&mut ws).await;
    assert!(first.contains(r#""0":"0""#), "{first}");
    call(&mut ws, r#"{"action":"increment","data":{}}"#).await;
    call(&mut ws, r#"{"action":"fail","data":{}}"#).await;
    let post = request(
        addr,
        "POST",
        "/",
        &[
            ("Cookie", &cookie),
            ("Content-Type", "application/x-www-form-urlencoded"),
        ],
        "increment=",
    )
    .await;
    assert_eq!(post.status, 303, "{post:?}");
    let html = page(addr, "/", &cookie).await;
    assert!(html.contains("Count: 0"), "nothing persisted: {html}");
    assert_eq!(spy.calls(), 0, "the store was called");
    assert_eq!(
        stats.persist_stats().reads + stats.persist_stats().writes,
        0
    );
}

#[tokio::test]
async fn restore_handles_null_and_missing_keys() {
    let spy = Spy::default();
    let addr = start(handler().session_store(spy.clone())).await;
    let group = "nullgroup_0123456789abcdef";
    let cookie = format!("livetemplate-id={group}");
    spy.inner
        .set(
            &format!("{group}|/"),
            Bytes::from_static(br#"{"counter":null,"tags":null,"unknown":1}"#),
        )
        .await
        .expect("seed");
    let html = page(addr, "/", &cookie).await;
    assert!(
        html.contains("<p>counter 0</p>"),
        "null keeps a non-optional field: {html}"
    );
    assert!(
        html.contains("<p>notes initial notes</p>"),
        "a missing key keeps the initial value: {html}"
    );
    assert!(
        html.contains("<p>tags none</p>"),
        "null clears an Option: {html}"
    );

    spy.inner
        .set(
            &format!("{group}|/"),
            Bytes::from_static(br#"{"counter":"not a number","notes":"x"}"#),
        )
        .await
        .expect("seed");
    let html = page(addr, "/", &cookie).await;
    assert!(
        html.contains("<p>counter 0</p>") && html.contains("<p>notes initial notes</p>"),
        "a record of the wrong shape restores nothing: {html}"
    );
}

#[tokio::test]
async fn connect_kind_is_restored_only_when_something_was_found() {
    let addr = start(handler()).await;
    // A WebSocket without a prior page load: nothing stored yet.
    let mut ws = try_connect(addr, "/", &[]).await.expect("websocket");
    let first = slots(&recv(&mut ws).await);
    assert_eq!(first[3], "NewConnect");
    ws.close(None).await.expect("close");

    let cookie = session_cookie(addr, "/").await;
    let (_ws, first) = open(addr, "/", &cookie).await;
    assert_eq!(first[3], "Restored");
}

#[tokio::test]
async fn no_js_posts_accumulate_across_the_redirect() {
    let addr = start(handler()).await;
    let cookie = session_cookie(addr, "/").await;
    for _ in 0..3 {
        let post = request(
            addr,
            "POST",
            "/",
            &[
                ("Cookie", &cookie),
                ("Content-Type", "application/x-www-form-urlencoded"),
            ],
            "increment=",
        )
        .await;
        assert_eq!(post.status, 303, "{post:?}");
    }
    let html = page(addr, "/", &cookie).await;
    assert!(html.contains("<p>counter 3</p>"), "{html}");
}

#[tokio::test]
async fn http_json_actions_accumulate() {
    let addr = start(handler()).await;
    let cookie = session_cookie(addr, "/").await;
    let mut last = String::new();
    for _ in 0..2 {
        let r = request(
            addr,
            "POST",
            "/",
            &[
                ("Cookie", &cookie),
                ("Content-Type", "application/json"),
                ("Accept", "application/json"),
            ],
            r#"{"action":"increment","data":{}}"#,
        )
        .await;
        assert_eq!(r.status, 200, "{r:?}");
        last = r.body;
    }
    assert_eq!(slots(&last)[0], "2", "{last}");
    // A failed JSON action answers with errors and saves nothing.
    let r = request(
        addr,
        "POST",
        "/",
        &[("Cookie", &cookie), ("Content-Type", "application/json")],
        r#"{"action":"fail","data":{}}"#,
    )
    .await;
    assert!(r.body.contains(r#""success":false"#), "{r:?}");
    let html = page(addr, "/", &cookie).await;
    assert!(html.contains("<p>counter 2</p>"), "{html}");
}

#[tokio::test]
async fn records_are_per_path() {
    let app = App::from(handler());
    let addr = start(app).await;
    let cookie = session_cookie(addr, "/a").await;
    let (mut ws, _) = open(addr, "/a", &cookie).await;
    call(&mut ws, SAVE).await;
    let b = page(addr, "/b", &cookie).await;
    assert!(
        b.contains("<p>counter 0</p>"),
        "another path starts fresh: {b}"
    );
    let (mut wsb, _) = open(addr, "/b", &cookie).await;
    call(&mut wsb, r#"{"action":"increment","data":{}}"#).await;
    let a = page(addr, "/a", &cookie).await;
    assert!(
        a.contains("<p>counter 5</p>") && a.contains("<p>notes remember me</p>"),
        "visiting another path neither resets nor overwrites: {a}"
    );
    let b = page(addr, "/b", &cookie).await;
    assert!(b.contains("<p>counter 1</p>"), "{b}");
}

#[tokio::test]
async fn server_dispatch_persists() {
    let h = handler();
    let registry = h.registry().clone();
    let addr = start(h).await;
    let cookie = session_cookie(addr, "/").await;
    let (mut ws, _) = open(addr, "/", &cookie).await;
    let conns = registry.connections_of_group(group_of(&cookie));
    assert_eq!(conns.len(), 1);
    conns[0]
        .sender
        .dispatch(Dispatch {
            action: "tick".into(),
            data: Map::new(),
            origin: Origin::Server,
        })
        .expect("dispatch");
    let pushed = recv(&mut ws).await;
    assert_eq!(slot(&pushed, 0).as_deref(), Some("100"), "{pushed}");
    let html = page(addr, "/", &cookie).await;
    assert!(html.contains("<p>counter 100</p>"), "{html}");
}

#[tokio::test]
async fn unchanged_persisted_fields_are_not_rewritten() {
    let spy = Spy::default();
    let h = handler().session_store(spy.clone());
    let stats = h.clone();
    let addr = start(h).await;
    let cookie = session_cookie(addr, "/").await;
    assert_eq!(
        spy.sets(),
        1,
        "the first page load saves the initial fields"
    );
    page(addr, "/", &cookie).await;
    assert_eq!(
        spy.sets(),
        1,
        "a refresh that changes nothing does not write"
    );
    let (mut ws, _) = open(addr, "/", &cookie).await;
    call(&mut ws, r#"{"action":"type_draft","data":{"draft":"x"}}"#).await;
    assert_eq!(
        spy.sets(),
        1,
        "an action on unpersisted fields does not write"
    );
    call(&mut ws, r#"{"action":"increment","data":{}}"#).await;
    assert_eq!(spy.sets(), 2, "a persisted change writes");
    let s = stats.persist_stats();
    assert_eq!((s.writes, s.errors()), (2, 0), "{s:?}");
    assert!(s.skipped_writes >= 3, "{s:?}");
}

#[tokio::test]
async fn a_failing_store_never_fails_an_action_and_the_next_save_retries() {
    let spy = Spy::default();
    let h = handler().session_store(spy.clone());
    let stats = h.clone();
    let addr = start(h).await;
    let cookie = session_cookie(addr, "/").await;
    let key = format!("{}|/", group_of(&cookie));
    let (mut ws, _) = open(addr, "/", &cookie).await;

    spy.fail_sets.store(true, Ordering::SeqCst);
    let reply = call(&mut ws, r#"{"action":"increment","data":{}}"#).await;
    assert_eq!(
        reply,
        r#"{"tree":{"0":"1"},"meta":{"success":true,"errors":{},"action":"increment"}}"#
    );
    let reply = call(&mut ws, r#"{"action":"increment","data":{}}"#).await;
    assert_eq!(slot(&reply, 0).as_deref(), Some("2"));
    assert_eq!(stats.persist_stats().write_errors, 2);
    assert_eq!(spy.record(&key).await.expect("record")["counter"], 0);

    spy.fail_sets.store(false, Ordering::SeqCst);
    call(&mut ws, r#"{"action":"type_draft","data":{"draft":"y"}}"#).await;
    assert_eq!(
        spy.record(&key).await.expect("record")["counter"],
        2,
        "the next save writes what the failed ones could not"
    );

    // A failed read starts from the initial state and does not overwrite the record.
    spy.fail_gets.store(1, Ordering::SeqCst);
    let html = page(addr, "/", &cookie).await;
    assert!(html.contains("<p>counter 0</p>"), "{html}");
    assert_eq!(spy.record(&key).await.expect("record")["counter"], 2);
    assert_eq!(stats.persist_stats().read_errors, 1);
    let html = page(addr, "/", &cookie).await;
    assert!(html.contains("<p>counter 2</p>"), "{html}");
}

#[tokio::test]
async fn an_app_gives_its_pages_one_store_unless_a_page_has_its_own() {
    let shared = Spy::default();
    let own = Spy::default();
    let a = handler();
    let b = handler();
    let c = handler().session_store(own.clone());
    let app = App::new()
        .page("/a", a)
        .session_store(shared.clone())
        .page("/b", b)
        .page("/c", c);
    let addr = start(app).await;
    let cookie = session_cookie(addr, "/a").await;
    page(addr, "/b", &cookie).await;
    page(addr, "/c", &cookie).await;
    let group = group_of(&cookie);
    assert!(shared.record(&format!("{group}|/a")).await.is_some());
    assert!(shared.record(&format!("{group}|/b")).await.is_some());
    assert!(shared.record(&format!("{group}|/c")).await.is_none());
    assert!(own.record(&format!("{group}|/c")).await.is_some());
}
