//! The server-push example in headless Chromium, driven by the official client.
//!
//! Each test serves a fresh app (the shipped timings: a two-second job, a tick every second)
//! in-process on a free port and runs one Node scenario (`tests/browser/<name>.js`). The
//! scenario may ask how many tickers run (`LT-CONTROL tickers <n>`): the test waits up to five
//! seconds for that number and answers with an error if it does not come.

use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use livetemplate::App;
use livetemplate_tests::{BrowserEnv, TestServer};
use server_push::{ServerPush, Settings, Tickers};

/// How long the test waits for the number of tickers a scenario expects.
const TICKER_PATIENCE: Duration = Duration::from_secs(5);

fn expect_tickers(tickers: &Mutex<Option<Tickers>>, command: &str) -> Result<(), String> {
    let wanted: usize = command
        .strip_prefix("tickers ")
        .and_then(|n| n.trim().parse().ok())
        .ok_or_else(|| format!("unknown control command {command:?}"))?;
    let tickers = tickers
        .lock()
        .map_err(|_| "the tickers handle is poisoned".to_owned())?
        .clone()
        .ok_or_else(|| "the server has not started".to_owned())?;
    let deadline = Instant::now() + TICKER_PATIENCE;
    loop {
        let running = tickers.running();
        if running == wanted {
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(format!(
                "{running} ticker(s) running, expected {wanted} (waited {TICKER_PATIENCE:?})"
            ));
        }
        thread::sleep(Duration::from_millis(50));
    }
}

fn scenario(name: &str) {
    let Some(env) = BrowserEnv::for_test(name) else {
        return;
    };
    let tickers: Arc<Mutex<Option<Tickers>>> = Arc::default();
    let slot = tickers.clone();
    let mut server = TestServer::start(move |listener| {
        let controller = ServerPush::new(Settings::default());
        if let Ok(mut slot) = slot.lock() {
            *slot = Some(controller.tickers());
        }
        Box::pin(async move {
            let app = App::new().page("/", server_push::handler(controller)?);
            livetemplate::transport::serve_listener(listener, app).await?;
            Ok(())
        })
    })
    .expect("start server-push");
    let output = env
        .run_scenario(name, &server.url(), |command| {
            expect_tickers(&tickers, command)
        })
        .expect("run the scenario with node");
    print!("{}", output.stdout);
    output.assert_passed();
    server.stop().expect("server-push served without errors");
}

/// The job result reaches both tabs of the session without a click; both count the same
/// ticks of the session's one ticker, which stops when every tab is closed.
#[test]
fn server_push_tabs() {
    scenario("server_push_tabs");
}

/// Another browser has its own ticker and does not receive this session's job result.
#[test]
fn server_push_browsers() {
    scenario("server_push_browsers");
}
