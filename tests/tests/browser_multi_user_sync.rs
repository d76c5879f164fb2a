//! The multi-user-sync example in headless Chromium, driven by the official client.
//!
//! Each test serves a fresh app in-process on a free port and runs one Node scenario
//! (`tests/browser/<name>.js`) against it: two tabs of one browser share a session and are
//! kept in sync by the self topic; a second browser reads the shared value but is not pushed.

use livetemplate_tests::{BrowserEnv, TestServer};

fn scenario(name: &str) {
    let Some(env) = BrowserEnv::for_test(name) else {
        return;
    };
    let mut server = TestServer::start(|listener| {
        Box::pin(async move {
            let app = multi_user_sync::app(None)?;
            livetemplate::transport::serve_listener(listener, app).await?;
            Ok(())
        })
    })
    .expect("start multi-user-sync");
    let output = env
        .run_scenario(name, &server.url(), |command| {
            Err(format!("unknown control command {command:?}"))
        })
        .expect("run the scenario with node");
    print!("{}", output.stdout);
    output.assert_passed();
    server
        .stop()
        .expect("multi-user-sync served without errors");
}

/// A click in either tab shows in both; a tab opened later starts at the current value.
#[test]
fn multi_user_sync_tabs() {
    scenario("multi_user_sync_tabs");
}

/// Another browser sees the shared value on load and on its own clicks, but is not pushed.
#[test]
fn multi_user_sync_browsers() {
    scenario("multi_user_sync_browsers");
}
