//! The reconnection example in headless Chromium (`tests/browser/reconnection_restart.js`):
//! the server runs as a separate process with the Redis store and a private key prefix, and
//! the scenario has it killed and started again on the same port.
//!
//! Needs Redis on 127.0.0.1:6379 (skips, saying so, when it is absent; `.ci/run` starts
//! one), and what every browser test needs (see `livetemplate_tests::BrowserEnv`).

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use livetemplate_tests::BrowserEnv;

/// The example binary, started on `port` (0: any) with the Redis store under `prefix`.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(port: u16, prefix: &str) -> Result<Server, String> {
        let mut child = Command::new(env!("CARGO_BIN_EXE_reconnection"))
            .args([
                "--redis",
                "redis://127.0.0.1:6379",
                "--redis-prefix",
                prefix,
            ])
            .env("PORT", port.to_string())
            .env_remove("LT_CLIENT_DIR")
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start the example: {e}"))?;
        let mut stdout = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut banner = String::new();
        stdout
            .read_line(&mut banner)
            .map_err(|e| format!("no banner: {e}"))?;
        // Keep reading so that the server never writes into a closed pipe.
        std::thread::spawn(move || {
            let _ = stdout.read_to_end(&mut Vec::new());
        });
        let addr = banner
            .trim()
            .strip_prefix("reconnection: http://")
            .ok_or_else(|| format!("unexpected banner {banner:?}"))?
            .to_string();
        Ok(Server { child, addr })
    }

    fn port(&self) -> u16 {
        self.addr
            .parse::<SocketAddr>()
            .map(|a| a.port())
            .unwrap_or(0)
    }

    /// Kill the process (no graceful shutdown) and start a new one on the same port.
    fn restart(&mut self, prefix: &str) -> Result<(), String> {
        let port = self.port();
        self.child.kill().map_err(|e| format!("kill: {e}"))?;
        self.child.wait().map_err(|e| format!("wait: {e}"))?;
        *self = Server::start(port, prefix)?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn persisted_fields_survive_a_dropped_websocket_and_a_killed_server() {
    let test = "reconnection_restart";
    let Some(env) = BrowserEnv::for_test(test) else {
        return;
    };
    let redis: SocketAddr = ([127, 0, 0, 1], 6379).into();
    if TcpStream::connect_timeout(&redis, Duration::from_secs(1)).is_err() {
        println!("skipping {test}: no Redis on 127.0.0.1:6379 (scripts/setup starts one)");
        return;
    }
    let prefix = format!(
        "livetemplate-test:browser-reconnection:{}:{}:",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0)
    );
    let mut server = Server::start(0, &prefix).expect("start the example");
    let url = format!("http://{}/", server.addr);
    let output = env
        .run_scenario(test, &url, |command| match command {
            "restart" => server.restart(&prefix),
            other => Err(format!("unknown control command {other:?}")),
        })
        .expect("run the scenario with node");
    print!("{}", output.stdout);
    output.assert_passed();
}
