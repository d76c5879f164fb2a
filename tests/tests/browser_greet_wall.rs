//! The greet-wall example in headless Chromium, driven by the official client.
//!
//! Each test serves a fresh app in-process on a free port (the server says hi every second
//! instead of every ten, so that the heartbeat shows within a scenario) and runs one Node
//! scenario (`tests/browser/<name>.js`).

use std::time::Duration;

use livetemplate::App;
use livetemplate_tests::{BrowserEnv, TestServer};

/// How often the server says hi in these tests.
const HEARTBEAT: Duration = Duration::from_secs(1);

fn scenario(name: &str) {
    let Some(env) = BrowserEnv::for_test(name) else {
        return;
    };
    let mut server = TestServer::start(|listener| {
        Box::pin(async move {
            let app = App::new().page("/", greet_wall::handler(HEARTBEAT)?);
            livetemplate::transport::serve_listener(listener, app).await?;
            Ok(())
        })
    })
    .expect("start greet-wall");
    let output = env
        .run_scenario(name, &server.url(), |command| {
            Err(format!("unknown control command {command:?}"))
        })
        .expect("run the scenario with node");
    print!("{}", output.stdout);
    output.assert_passed();
    server.stop().expect("greet-wall served without errors");
}

/// A greeting in one tab sets the headline and the wall line in both tabs of the session;
/// the server's hello reaches both.
#[test]
fn greet_wall_tabs() {
    scenario("greet_wall_tabs");
}

/// Another browser gets the wall line but keeps its own headline.
#[test]
fn greet_wall_browsers() {
    scenario("greet_wall_browsers");
}

/// An empty name and "admin" are refused with a message next to the field.
#[test]
fn greet_wall_validation() {
    scenario("greet_wall_validation");
}
