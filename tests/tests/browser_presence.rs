//! The presence example in headless Chromium, driven by the official client.
//!
//! Each test serves a fresh app in-process on a free port and runs one Node scenario
//! (`tests/browser/<name>.js`): joining and leaving show everywhere, and a closed page is
//! removed from the others' list by the disconnect hook.

use livetemplate_tests::{BrowserEnv, TestServer};

fn scenario(name: &str) {
    let Some(env) = BrowserEnv::for_test(name) else {
        return;
    };
    let mut server = TestServer::start(|listener| {
        Box::pin(async move {
            let app = presence::app(None)?;
            livetemplate::transport::serve_listener(listener, app).await?;
            Ok(())
        })
    })
    .expect("start presence");
    let output = env
        .run_scenario(name, &server.url(), |command| {
            Err(format!("unknown control command {command:?}"))
        })
        .expect("run the scenario with node");
    print!("{}", output.stdout);
    output.assert_passed();
    server.stop().expect("presence served without errors");
}

/// Two tabs of one browser join, one leaves with the button and comes back, then closes.
#[test]
fn presence_tabs() {
    scenario("presence_tabs");
}

/// Two browsers join and list each other; closing one browser's page removes it.
#[test]
fn presence_browsers() {
    scenario("presence_browsers");
}
