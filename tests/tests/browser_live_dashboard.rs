//! The live-dashboard example in headless Chromium, driven by the official client.
//!
//! Each test serves a fresh dashboard (ticking every second, as shipped) in-process on a free
//! port and runs one Node scenario (`tests/browser/<name>.js`): every viewer advances with no
//! interaction, in lockstep, and closing one does not stop the other.

use livetemplate_tests::{BrowserEnv, TestServer};

fn scenario(name: &str) {
    let Some(env) = BrowserEnv::for_test(name) else {
        return;
    };
    let mut server = TestServer::start(|listener| {
        Box::pin(async move {
            let app = live_dashboard::app(None)?;
            livetemplate::transport::serve_listener(listener, app).await?;
            Ok(())
        })
    })
    .expect("start live-dashboard");
    let output = env
        .run_scenario(name, &server.url(), |command| {
            Err(format!("unknown control command {command:?}"))
        })
        .expect("run the scenario with node");
    print!("{}", output.stdout);
    output.assert_passed();
    server.stop().expect("live-dashboard served without errors");
}

/// Two tabs of one browser tick together without a click.
#[test]
fn live_dashboard_tabs() {
    scenario("live_dashboard_tabs");
}

/// Two browsers tick together without a click; closing one leaves the other ticking.
#[test]
fn live_dashboard_browsers() {
    scenario("live_dashboard_browsers");
}
