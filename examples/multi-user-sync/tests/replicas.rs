//! Three multi-user-sync processes on one Redis (`--redis`): the tabs of one session on
//! different processes count together.

#[path = "../../../livetemplate-runtime/tests/protocol_support/mod.rs"]
mod protocol_support;

use livetemplate_tests::{unique_prefix, wait_for_subscribers, ExampleProcess, SHARED_REDIS};
use protocol_support::{call, connect, recv, session_cookie};

const INCREMENT: &str = r#"{"action":"increment","data":{}}"#;

fn counter(frame: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(frame).expect("json frame");
    v["tree"]["0"].as_str().map(str::to_string)
}

fn replica(prefix: &str) -> (ExampleProcess, std::net::SocketAddr) {
    let p = ExampleProcess::start(
        env!("CARGO_BIN_EXE_multi-user-sync"),
        "multi-user-sync",
        &["--redis", SHARED_REDIS, "--redis-prefix", prefix],
    )
    .expect("start a replica");
    let addr = p.addr().parse().expect("address");
    (p, addr)
}

#[tokio::test]
async fn tabs_on_three_processes_converge() {
    let prefix = unique_prefix("mus-processes");
    let (_a, addr_a) = replica(&prefix);
    let (_b, addr_b) = replica(&prefix);
    let (_c, addr_c) = replica(&prefix);
    let cookie = session_cookie(addr_a, "/").await;
    let group = cookie.trim_start_matches("livetemplate-id=");
    let mut tab_a = connect(addr_a, "/", &cookie).await;
    assert_eq!(counter(&recv(&mut tab_a).await).as_deref(), Some("0"));
    let mut tab_b = connect(addr_b, "/", &cookie).await;
    assert_eq!(counter(&recv(&mut tab_b).await).as_deref(), Some("0"));
    wait_for_subscribers(&format!("{prefix}topic:lvt:session:{group}"), 2);

    assert_eq!(
        counter(&call(&mut tab_a, INCREMENT).await).as_deref(),
        Some("1")
    );
    assert_eq!(recv(&mut tab_b).await, r#"{"tree":{"0":"1"}}"#);
    assert_eq!(
        counter(&call(&mut tab_b, INCREMENT).await).as_deref(),
        Some("2")
    );
    assert_eq!(recv(&mut tab_a).await, r#"{"tree":{"0":"2"}}"#);

    // A tab opened later on the third process starts at the shared value and is heard.
    let mut tab_c = connect(addr_c, "/", &cookie).await;
    assert_eq!(counter(&recv(&mut tab_c).await).as_deref(), Some("2"));
    wait_for_subscribers(&format!("{prefix}topic:lvt:session:{group}"), 3);
    assert_eq!(
        counter(&call(&mut tab_c, INCREMENT).await).as_deref(),
        Some("3")
    );
    assert_eq!(recv(&mut tab_a).await, r#"{"tree":{"0":"3"}}"#);
    assert_eq!(recv(&mut tab_b).await, r#"{"tree":{"0":"3"}}"#);
}
