//! HTTP protocol tests: the page, the HEAD probe, JSON mode and no-JS form posts.

mod protocol_support;

use livetemplate_runtime::transport::{BasicAuth, LiveHandler};
use livetemplate_runtime::Template;
use protocol_support::*;

const HTML: (&str, &str) = ("Accept", "text/html,application/xhtml+xml,*/*;q=0.8");
const JSON: (&str, &str) = ("Accept", "application/json");
const FORM: (&str, &str) = ("Content-Type", "application/x-www-form-urlencoded");

fn full_tree(count: i64) -> String {
    format!(r#"{{"s":{STATICS},"0":"{count}","1":"","2":"","3":""}}"#)
}

#[tokio::test]
async fn page_has_wrapper_client_script_cookie_and_header() {
    let handler = counter();
    let id = handler.wrapper_id().to_string();
    let addr = start(handler).await;
    let r = request(addr, "GET", "/?start=5", &[HTML], "").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(r.header("x-livetemplate-websocket"), Some("enabled"));
    let wrapper = format!(
        "<div data-lvt-id=\"{id}\" data-lvt-loading=\"true\"><p>Count: 5</p><p></p><p></p><p></p><form method=\"POST\"><button name=\"increment\">+</button><button name=\"decrement\">-</button></form></div>"
    );
    assert!(r.body.contains(&wrapper), "{}", r.body);
    assert!(r.body.starts_with("<!DOCTYPE html>"));
    assert!(r.body.contains("<title>Counter</title>"));
    let script = "<script defer src=\"https://cdn.jsdelivr.net/npm/@livetemplate/client@0.25.1/dist/livetemplate-client.browser.js\"></script>";
    assert!(r.body.contains(script));
    assert!(
        r.body.find(script) < r.body.find(&wrapper),
        "script in head, outside the wrapper"
    );
    assert!(r
        .body
        .contains("https://cdn.jsdelivr.net/npm/@livetemplate/client@0.25.1/livetemplate.css"));
    let set = r.all("set-cookie");
    let session = set
        .iter()
        .find(|c| c.starts_with("livetemplate-id="))
        .expect("session cookie");
    let value = session
        .split(';')
        .next()
        .unwrap_or("")
        .trim_start_matches("livetemplate-id=");
    assert_eq!(value.len(), 32);
    assert!(value.bytes().all(|b| b.is_ascii_hexdigit()));
    for attr in ["Path=/", "Max-Age=31536000", "HttpOnly", "SameSite=Lax"] {
        assert!(session.contains(attr), "{session}");
    }
    assert!(!session.contains("Secure"));
    // The cookie is not set again once the browser has it.
    let again = request(
        addr,
        "GET",
        "/",
        &[HTML, ("Cookie", &format!("livetemplate-id={value}"))],
        "",
    )
    .await;
    assert!(again.cookie("livetemplate-id").is_none());
    // Behind a TLS proxy the cookie is Secure.
    let tls = request(
        addr,
        "GET",
        "/",
        &[HTML, ("X-Forwarded-Proto", "https")],
        "",
    )
    .await;
    assert!(tls
        .all("set-cookie")
        .iter()
        .any(|c| c.starts_with("livetemplate-id=") && c.ends_with("; Secure")));
}

#[tokio::test]
async fn head_probe_and_websocket_header_on_every_response() {
    let addr = start(counter()).await;
    let head = request(addr, "HEAD", "/?x=1", &[], "").await;
    assert_eq!(
        (head.status, head.header("x-livetemplate-websocket")),
        (200, Some("enabled"))
    );
    let put = request(addr, "PUT", "/", &[], "").await;
    assert_eq!(
        (put.status, put.header("x-livetemplate-websocket")),
        (405, Some("enabled"))
    );
    assert_eq!(put.header("allow"), Some("GET, HEAD, POST"));

    let off = start(counter().websocket(false)).await;
    for (method, body) in [("HEAD", ""), ("GET", ""), ("POST", "increment=")] {
        let r = request(off, method, "/", &[HTML, FORM], body).await;
        assert_eq!(
            r.header("x-livetemplate-websocket"),
            Some("disabled"),
            "{method}"
        );
    }
}

#[tokio::test]
async fn json_get_and_post_answer_full_trees() {
    let addr = start(counter()).await;
    let get = request(addr, "GET", "/?start=2", &[JSON], "").await;
    assert_eq!(
        (get.status, get.header("content-type")),
        (200, Some("application/json"))
    );
    assert_eq!(
        get.body,
        format!(
            r#"{{"tree":{},"meta":{{"success":true,"errors":{{}}}}}}"#,
            full_tree(2)
        )
    );

    let body = r#"{"action":"increment","data":{},"submitter":"increment"}"#;
    let post = request(
        addr,
        "POST",
        "/?start=2",
        &[JSON, ("Content-Type", "application/json")],
        body,
    )
    .await;
    assert_eq!(post.status, 200);
    assert_eq!(
        post.body,
        format!(
            r#"{{"tree":{},"meta":{{"success":true,"errors":{{}},"action":"increment"}}}}"#,
            full_tree(3)
        )
    );

    let unknown = request(
        addr,
        "POST",
        "/",
        &[JSON, ("Content-Type", "application/json")],
        r#"{"action":"nope","data":{}}"#,
    )
    .await;
    assert_eq!(unknown.status, 200);
    assert!(unknown.body.ends_with(r#""meta":{"success":false,"errors":{"_general":"unknown action \"nope\""},"action":"nope"}}"#), "{}", unknown.body);

    let bad = request(
        addr,
        "POST",
        "/",
        &[JSON, ("Content-Type", "application/json")],
        "{oops",
    )
    .await;
    assert_eq!(bad.status, 200);
    assert!(
        bad.body.starts_with(
            r#"{"tree":{},"meta":{"success":false,"errors":{"_general":"malformed message: "#
        ),
        "{}",
        bad.body
    );

    let nav = request(
        addr,
        "POST",
        "/",
        &[JSON, ("Content-Type", "application/json")],
        r#"{"action":"__navigate__","data":{}}"#,
    )
    .await;
    assert_eq!(nav.status, 400);
}

#[tokio::test]
async fn http_action_data_merges_the_query_and_the_body_wins() {
    let addr = start(counter()).await;
    let json = [JSON, ("Content-Type", "application/json")];
    let from_query = request(
        addr,
        "POST",
        "/?to=5",
        &json,
        r#"{"action":"set","data":{}}"#,
    )
    .await;
    assert!(
        from_query.body.contains(r#""0":"5""#),
        "{}",
        from_query.body
    );
    let body = r#"{"action":"set","data":{"to":7}}"#;
    let from_body = request(addr, "POST", "/?to=5", &json, body).await;
    assert!(from_body.body.contains(r#""0":"7""#), "{}", from_body.body);
}

#[tokio::test]
async fn capabilities_on_json_initial_tree() {
    let addr = start(LiveHandler::new(Counter::<true>::default(), template())).await;
    let get = request(addr, "GET", "/", &[JSON], "").await;
    assert!(
        get.body
            .ends_with(r#""meta":{"success":true,"errors":{},"capabilities":["change"]}}"#),
        "{}",
        get.body
    );
}

#[tokio::test]
async fn no_js_post_redirects_with_303_to_same_path_and_query() {
    let addr = start(counter()).await;
    let r = request(addr, "POST", "/?start=4&tab=a", &[HTML, FORM], "increment=").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/?start=4&tab=a"));
    assert!(r.cookie("lvt-flash").is_none());
}

#[tokio::test]
async fn no_js_error_rerenders_the_page_with_errors() {
    let addr = start(counter()).await;
    let r = request(addr, "POST", "/", &[HTML, FORM], "boom=").await;
    assert_eq!(r.status, 200);
    assert!(
        r.body.contains("<p>Count: 0</p><p>it broke</p>"),
        "state untouched, error shown: {}",
        r.body
    );
    let field = request(addr, "POST", "/", &[HTML, FORM], "fail=").await;
    assert_eq!(field.status, 200);
    assert!(
        field.body.contains("<p>Count: 0</p><p></p><p>too big</p>"),
        "{}",
        field.body
    );
    let unknown = request(addr, "POST", "/", &[HTML, FORM], "nope=").await;
    assert!(
        unknown.body.contains("unknown action &quot;nope&quot;"),
        "{}",
        unknown.body
    );
}

#[tokio::test]
async fn flash_cookie_round_trip() {
    let addr = start(counter()).await;
    let post = request(addr, "POST", "/", &[HTML, FORM], "note=").await;
    assert_eq!(post.status, 303);
    let set = post
        .all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("lvt-flash="))
        .expect("flash cookie")
        .to_string();
    for attr in ["Path=/", "Max-Age=10", "HttpOnly", "SameSite=Lax"] {
        assert!(set.contains(attr), "{set}");
    }
    let flash = post.cookie("lvt-flash").expect("flash");
    let get = request(addr, "GET", "/", &[HTML, ("Cookie", &flash)], "").await;
    assert!(get.body.contains("<p>Saved!</p>"), "{}", get.body);
    let delete = get
        .all("set-cookie")
        .into_iter()
        .find(|c| c.starts_with("lvt-flash="))
        .expect("deleted");
    assert!(
        delete.starts_with("lvt-flash=;") && delete.contains("Max-Age=0"),
        "{delete}"
    );
    let later = request(addr, "GET", "/", &[HTML], "").await;
    assert!(!later.body.contains("Saved!"));
}

#[tokio::test]
async fn bad_http_input() {
    let addr = start(counter().max_message_size(64)).await;
    let big = format!("increment=&pad={}", "x".repeat(100));
    assert_eq!(
        request(addr, "POST", "/", &[HTML, FORM], &big).await.status,
        413
    );
    let garbage = request(
        addr,
        "POST",
        "/",
        &[HTML, ("Content-Type", "text/plain")],
        "hello",
    )
    .await;
    assert_eq!(garbage.status, 400);
    let foreign = request(
        addr,
        "POST",
        "/",
        &[HTML, FORM, ("Origin", "http://evil.example")],
        "increment=",
    )
    .await;
    assert_eq!(foreign.status, 403);
    let mount_fail = request(addr, "GET", "/?fail=1", &[HTML], "").await;
    assert_eq!(mount_fail.status, 500);
}

#[tokio::test]
async fn basic_auth_challenges_and_identifies() {
    let handler =
        counter().authenticator(BasicAuth::new("counter", |u, p| u == "ann" && p == "pw"));
    let addr = start(handler).await;
    let anon = request(addr, "GET", "/", &[HTML], "").await;
    assert_eq!(anon.status, 401);
    assert_eq!(
        anon.header("www-authenticate"),
        Some("Basic realm=\"counter\", charset=\"UTF-8\"")
    );
    let wrong = request(
        addr,
        "GET",
        "/",
        &[HTML, ("Authorization", "Basic YW5uOm5v")],
        "",
    )
    .await;
    assert_eq!(wrong.status, 401);
    let ok = request(
        addr,
        "GET",
        "/",
        &[HTML, ("Authorization", "Basic YW5uOnB3")],
        "",
    )
    .await;
    assert_eq!(ok.status, 200);
    assert!(
        ok.cookie("livetemplate-id").is_none(),
        "authenticated groups need no cookie"
    );
    let ws = try_connect(addr, "/", &[]).await;
    assert!(ws.is_err(), "the WebSocket needs credentials too");
    let mut ws = try_connect(addr, "/", &[("Authorization", "Basic YW5uOnB3")])
        .await
        .expect("ws");
    assert!(recv(&mut ws).await.starts_with(r#"{"tree":{"s":"#));
}

#[tokio::test]
async fn custom_layout_and_self_hosted_assets() {
    let dir = std::env::temp_dir().join(format!("lvt-assets-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("dist")).expect("dir");
    std::fs::write(
        dir.join("dist/livetemplate-client.browser.js"),
        "/* client */",
    )
    .expect("write");
    let layout = Template::builder(
        "layout",
        "<!DOCTYPE html><html><head><title>{{lvt.title}} ({{count}})</title>{{{lvt.head}}}</head><body><nav>{{lvt.client_script_url}}</nav>{{{lvt.body}}}</body></html>",
    )
    .build()
    .expect("layout");
    let handler = counter()
        .layout(layout)
        .client_assets("/_lvt/")
        .loading_indicator(false);
    let id = handler.wrapper_id().to_string();
    let app = livetemplate_runtime::transport::App::new()
        .page("/", handler)
        .assets("/_lvt", &dir);
    let addr = start(app).await;
    let page = request(addr, "GET", "/?start=9", &[HTML], "").await;
    assert_eq!(page.status, 200);
    assert!(page.body.starts_with("<!DOCTYPE html><html><head><title>Counter (9)</title><link rel=\"stylesheet\" href=\"/_lvt/livetemplate.css\">"), "{}", page.body);
    assert!(page
        .body
        .contains("<nav>/_lvt/dist/livetemplate-client.browser.js</nav>"));
    assert!(page
        .body
        .contains(&format!("<div data-lvt-id=\"{id}\"><p>Count: 9</p>")));
    let js = request(
        addr,
        "GET",
        "/_lvt/dist/livetemplate-client.browser.js",
        &[],
        "",
    )
    .await;
    assert_eq!(
        (js.status, js.header("content-type"), js.body.as_str()),
        (200, Some("text/javascript; charset=utf-8"), "/* client */")
    );
    assert_eq!(
        request(addr, "GET", "/_lvt/../Cargo.toml", &[], "")
            .await
            .status,
        404
    );
    assert_eq!(
        request(addr, "GET", "/_lvt/%2e%2e/x", &[], "").await.status,
        404
    );
    assert_eq!(
        request(addr, "GET", "/elsewhere", &[HTML], "").await.status,
        404
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn app_serves_several_pages() {
    let other = Template::builder("other", "<h1>Other {{count}}</h1>")
        .build()
        .expect("template");
    let app = livetemplate_runtime::transport::App::new()
        .page("/", counter())
        .page(
            "/other",
            LiveHandler::new(Counter::<false>::default(), other),
        );
    let addr = start(app).await;
    let main = request(addr, "GET", "/?start=2", &[HTML], "").await;
    assert!(main.body.contains("<p>Count: 2</p>"), "{}", main.body);
    let other = request(addr, "GET", "/other?start=3", &[HTML], "").await;
    assert!(other.body.contains("<h1>Other 3</h1>"), "{}", other.body);
    assert_eq!(
        request(addr, "GET", "/missing", &[HTML], "").await.status,
        404
    );
    let mut ws = connect(addr, "/other?start=4", "").await;
    assert_eq!(
        recv(&mut ws).await,
        r#"{"tree":{"s":["<h1>Other ","</h1>"],"0":"4"},"meta":{"success":true,"errors":{}}}"#
    );
}
