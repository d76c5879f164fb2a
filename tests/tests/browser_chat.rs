//! The chat example in headless Chromium, driven by the official client.
//!
//! Each test serves a fresh room in-process on a free port and runs one Node scenario
//! (`tests/browser/<name>.js`): messages reach every tab and every browser live, and a late
//! joiner sees the history.

fn scenario(name: &str) {
    livetemplate_tests::run_served_scenario(name, |listener| {
        Box::pin(async move {
            livetemplate::transport::serve_listener(listener, chat::app(&Default::default())?)
                .await?;
            Ok(())
        })
    });
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
