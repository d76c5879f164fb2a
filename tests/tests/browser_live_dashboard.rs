//! The live-dashboard example in headless Chromium, driven by the official client.
//!
//! Each test serves a fresh dashboard (ticking every second, as shipped) in-process on a free
//! port and runs one Node scenario (`tests/browser/<name>.js`): every viewer advances with no
//! interaction, in lockstep, and closing one does not stop the other.

fn scenario(name: &str) {
    livetemplate_tests::run_served_scenario(name, |listener| {
        Box::pin(async move {
            livetemplate::transport::serve_listener(listener, live_dashboard::app(None)?).await?;
            Ok(())
        })
    });
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
