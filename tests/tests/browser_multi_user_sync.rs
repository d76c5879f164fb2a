//! The multi-user-sync example in headless Chromium, driven by the official client.
//!
//! Each test serves a fresh app in-process on a free port and runs one Node scenario
//! (`tests/browser/<name>.js`) against it: two tabs of one browser share a session and are
//! kept in sync by the self topic; a second browser reads the shared value but is not pushed.

fn scenario(name: &str) {
    livetemplate_tests::run_served_scenario(name, |listener| {
        Box::pin(async move {
            livetemplate::transport::serve_listener(
                listener,
                multi_user_sync::app(&Default::default())?,
            )
            .await?;
            Ok(())
        })
    });
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
