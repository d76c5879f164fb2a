//! The chat example in headless Chromium, driven by the official client.
//!
//! Each test serves a fresh room in-process on a free port and runs one Node scenario
//! (`tests/browser/<name>.js`): messages reach every tab and every browser live, and a late
//! joiner sees the history.

use livetemplate_tests::{BrowserEnv, TestServer};

fn scenario(name: &str) {
    let Some(env) = BrowserEnv::for_test(name) else {
        return;
    };
    let mut server = TestServer::start(|listener| {
        Box::pin(async move {
            let app = chat::app(None)?;
            livetemplate::transport::serve_listener(listener, app).await?;
            Ok(())
        })
    })
    .expect("start chat");
    let output = env
        .run_scenario(name, &server.url(), |command| {
            Err(format!("unknown control command {command:?}"))
        })
        .expect("run the scenario with node");
    print!("{}", output.stdout);
    output.assert_passed();
    server.stop().expect("chat served without errors");
}

/// Two tabs of one browser chat as two people; a tab joining later sees the history.
#[test]
fn chat_tabs() {
    scenario("chat_tabs");
}

/// Two browsers see each other's messages live; a third browser joining later sees the history.
#[test]
fn chat_browsers() {
    scenario("chat_browsers");
}
