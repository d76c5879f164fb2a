//! The counter example in headless Chromium, driven by the official client (`tests/browser/`).
//!
//! Each test starts the counter in-process on a free port, runs one Node scenario against it and
//! asserts that the scenario passed. Without Chromium, Node.js or `tests/browser/node_modules`
//! the tests fail and say what to install; with `LT_SKIP_BROWSER=1` they print that they skip.

use livetemplate_tests::{BrowserEnv, TestServer};

fn start_counter() -> TestServer {
    TestServer::start(|listener| {
        Box::pin(async move {
            let app = counter::app(&Default::default())?;
            livetemplate::transport::serve_listener(listener, app).await?;
            Ok(())
        })
    })
    .expect("start the counter")
}

/// Runs `tests/browser/<name>.js` against a fresh counter. The scenario may ask for `restart`.
fn scenario(name: &str) {
    let Some(env) = BrowserEnv::for_test(name) else {
        return;
    };
    let mut server = start_counter();
    let url = server.url();
    let output = env
        .run_scenario(name, &url, |command| match command {
            "restart" => server.restart().map_err(|err| err.to_string()),
            other => Err(format!("unknown control command {other:?}")),
        })
        .expect("run the scenario with node");
    // Shown with `--nocapture` (and by the test runner on failure).
    print!("{}", output.stdout);
    output.assert_passed();
    server.stop().expect("the counter served without errors");
}

/// Click → patch over the WebSocket, without a page load; decrement too.
#[test]
fn click_patch() {
    scenario("click_patch");
}

/// Two tabs of one browser each have their own count.
#[test]
fn two_tabs() {
    scenario("two_tabs");
}

/// Two browsers (separate cookie jars) get different session cookies and separate counts.
#[test]
fn two_browsers() {
    scenario("two_browsers");
}

/// Without JavaScript the button posts its form; 303 See Other; the page shows the new count.
#[test]
fn no_js() {
    scenario("no_js");
}

/// With every WebSocket refused the client uses HTTP (JSON POSTs) and clicks still work.
#[test]
fn ws_refused() {
    scenario("ws_refused");
}

/// After the server restarts on the same port the client reconnects and clicks work again.
#[test]
fn server_restart() {
    scenario("server_restart");
}
