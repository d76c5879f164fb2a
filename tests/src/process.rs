//! [`ExampleProcess`]: an example binary running as a separate process, as in production.

use std::io::{self, BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// How long an example may take to print its banner.
const BANNER_TIMEOUT: Duration = Duration::from_secs(30);

/// An example binary serving on a free port of 127.0.0.1, killed when dropped.
///
/// It is started with `PORT=0` and the given arguments; the first line it prints must be
/// its banner `<name>: http://<address>`. Its output is drained in the background.
pub struct ExampleProcess {
    child: Child,
    addr: String,
}

impl ExampleProcess {
    /// Starts `binary` (e.g. `env!("CARGO_BIN_EXE_chat")`) with `args` and waits for its
    /// banner `<name>: http://…`. `LT_REDIS_URL`, `LT_REDIS_PREFIX` and `LT_CLIENT_DIR` are
    /// removed from its environment so that only `args` configure it.
    ///
    /// # Errors
    ///
    /// The binary cannot be started, exits, or prints something else first.
    pub fn start(binary: &str, name: &str, args: &[&str]) -> io::Result<ExampleProcess> {
        let mut child = Command::new(binary)
            .args(args)
            .env("PORT", "0")
            .env_remove("LT_REDIS_URL")
            .env_remove("LT_REDIS_PREFIX")
            .env_remove("LT_CLIENT_DIR")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("no stdout"))?;
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut line = String::new();
            let _ = tx.send(reader.read_line(&mut line).map(|_| line));
            // Keep reading so that the example never writes into a closed pipe.
            let _ = reader.read_to_end(&mut Vec::new());
        });
        let banner = match rx.recv_timeout(BANNER_TIMEOUT) {
            Ok(Ok(line)) => line,
            Ok(Err(e)) => return Err(e),
            Err(_) => {
                let _ = child.kill();
                return Err(io::Error::other(format!("{name}: no banner in time")));
            }
        };
        let prefix = format!("{name}: http://");
        let Some(addr) = banner.trim().strip_prefix(&prefix) else {
            let _ = child.kill();
            return Err(io::Error::other(format!(
                "{name}: unexpected banner {banner:?}"
            )));
        };
        Ok(ExampleProcess {
            addr: addr.to_string(),
            child,
        })
    }

    /// Its address, `127.0.0.1:<port>`.
    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// Its page URL, `http://127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }
}

impl Drop for ExampleProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
