//! Mounting handlers in axum: two live pages in one Router, HTTP and WebSocket.

mod protocol_support;

use livetemplate_runtime::transport::LiveHandler;
use livetemplate_runtime::Template;
use protocol_support::*;

#[tokio::test]
async fn two_handlers_in_an_axum_router() {
    let other = Template::builder("other", "<h1>Other {{count}}</h1>")
        .build()
        .expect("template");
    let router = axum::Router::new()
        .route_service("/", counter())
        .route_service(
            "/other",
            LiveHandler::new(Counter::<false>::default(), other).title("Other"),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, router).await });

    let page = request(addr, "GET", "/?start=1", &[("Accept", "text/html")], "").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<p>Count: 1</p>"));
    let other_page = request(addr, "GET", "/other", &[("Accept", "text/html")], "").await;
    assert!(
        other_page.body.contains("<h1>Other 0</h1>")
            && other_page.body.contains("<title>Other</title>")
    );
    let head = request(addr, "HEAD", "/other", &[], "").await;
    assert_eq!(head.header("x-livetemplate-websocket"), Some("enabled"));
    let post = request(
        addr,
        "POST",
        "/other?start=3",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        "increment=",
    )
    .await;
    assert_eq!(
        (post.status, post.header("location")),
        (303, Some("/other?start=3"))
    );

    let cookie = page.cookie("livetemplate-id").expect("cookie");
    let mut a = connect(addr, "/", &cookie).await;
    let mut b = connect(addr, "/other?start=5", &cookie).await;
    assert!(recv(&mut a).await.contains(r#""0":"0""#));
    assert_eq!(
        recv(&mut b).await,
        r#"{"tree":{"s":["<h1>Other ","</h1>"],"0":"5"},"meta":{"success":true,"errors":{}}}"#
    );
    assert_eq!(
        call(&mut b, r#"{"action":"increment","data":{}}"#).await,
        r#"{"tree":{"0":"6"},"meta":{"success":true,"errors":{},"action":"increment"}}"#
    );
    assert_eq!(
        call(&mut a, r#"{"action":"increment","data":{}}"#).await,
        r#"{"tree":{"0":"1"},"meta":{"success":true,"errors":{},"action":"increment"}}"#
    );
}
