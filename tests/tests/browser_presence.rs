//! The presence example in headless Chromium, driven by the official client.
//!
//! Each test serves a fresh app in-process on a free port and runs one Node scenario
//! (`tests/browser/<name>.js`): joining and leaving show everywhere, and a closed page is
//! removed from the others' list by the disconnect hook.

fn scenario(name: &str) {
    livetemplate_tests::run_served_scenario(name, |listener| {
        Box::pin(async move {
            livetemplate::transport::serve_listener(listener, presence::app(&Default::default())?)
                .await?;
            Ok(())
        })
    });
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
