//! The server process under test: file-descriptor limit, resident memory, and spawning a server command.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::BenchError;

/// Raises the soft `RLIMIT_NOFILE` to the hard limit; returns `(old_soft, new_soft)`.
///
/// Thousands of sockets need thousands of descriptors; the default soft limit (often 1024) is far too low.
/// Spawned servers inherit the raised limit.
pub fn raise_nofile_limit() -> Result<(libc::rlim_t, libc::rlim_t), BenchError> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes into the struct we own and pass by valid pointer.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(BenchError::io(
            "getrlimit(RLIMIT_NOFILE)",
            std::io::Error::last_os_error(),
        ));
    }
    let old = lim.rlim_cur;
    if lim.rlim_cur < lim.rlim_max {
        lim.rlim_cur = lim.rlim_max;
        // SAFETY: setrlimit only reads the struct we own; raising the soft limit up to the hard one is allowed
        // for unprivileged processes.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &lim) } != 0 {
            return Err(BenchError::io(
                "setrlimit(RLIMIT_NOFILE)",
                std::io::Error::last_os_error(),
            ));
        }
    }
    Ok((old, lim.rlim_cur))
}

/// Parses the `VmRSS:` line of a `/proc/<pid>/status` text into bytes.
pub fn parse_vmrss(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let mut parts = line["VmRSS:".len()..].split_whitespace();
    let value: u64 = parts.next()?.parse().ok()?;
    match parts.next() {
        Some("kB") | None => Some(value * 1024),
        Some("mB") | Some("MB") => Some(value * 1024 * 1024),
        _ => None,
    }
}

/// Resident set size of process `pid`, in bytes, from `/proc/<pid>/status`.
pub fn read_rss(pid: u32) -> Result<u64, BenchError> {
    let path = format!("/proc/{pid}/status");
    let text =
        std::fs::read_to_string(&path).map_err(|e| BenchError::io(format!("reading {path}"), e))?;
    parse_vmrss(&text).ok_or_else(|| BenchError::Process(format!("no VmRSS line in {path}")))
}

/// A server started by this tool with `PORT` set; killed when dropped.
pub struct SpawnedServer {
    child: Child,
    /// The port the server was told to listen on.
    pub port: u16,
}

impl SpawnedServer {
    /// Picks a free loopback port, runs `cmd` with `PORT=<port>` (stdout discarded, stderr inherited) and
    /// waits up to `ready_timeout` until the port accepts connections.
    pub fn spawn(cmd: &[String], ready_timeout: Duration) -> Result<Self, BenchError> {
        let (program, args) = cmd
            .split_first()
            .ok_or_else(|| BenchError::Usage("--spawn needs a command".into()))?;
        let port = free_port()?;
        let child = Command::new(program)
            .args(args)
            .env("PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| BenchError::Process(format!("cannot start `{program}`: {e}")))?;
        let mut server = SpawnedServer { child, port };
        server.wait_ready(ready_timeout)?;
        Ok(server)
    }

    /// Process id of the server.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails if the process has exited.
    pub fn check_alive(&mut self) -> Result<(), BenchError> {
        match self.child.try_wait() {
            Ok(None) => Ok(()),
            Ok(Some(status)) => Err(BenchError::Process(format!("server exited: {status}"))),
            Err(e) => Err(BenchError::Process(format!(
                "cannot query the server process: {e}"
            ))),
        }
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<(), BenchError> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, self.port));
        let deadline = Instant::now() + timeout;
        loop {
            self.check_alive()?;
            if std::net::TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(BenchError::Process(format!(
                    "server did not listen on {addr} within {timeout:?}"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for SpawnedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16, BenchError> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| BenchError::io("finding a free port", e))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| BenchError::io("finding a free port", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vmrss_parsing() {
        let status = "Name:\tserver\nVmPeak:\t  100 kB\nVmRSS:\t    5432 kB\nThreads:\t3\n";
        assert_eq!(parse_vmrss(status), Some(5432 * 1024));
        assert_eq!(parse_vmrss("Name: x\n"), None);
        assert_eq!(parse_vmrss("VmRSS:\t abc kB\n"), None);
        assert_eq!(parse_vmrss("VmRSS:\t 12 GB\n"), None);
    }

    #[test]
    fn own_rss_is_readable() {
        let rss = read_rss(std::process::id()).unwrap();
        assert!(rss > 0);
    }

    #[test]
    fn nofile_limit_is_raised_to_hard() {
        let (old, new) = raise_nofile_limit().unwrap();
        assert!(new >= old);
    }

    #[test]
    fn spawn_reports_a_missing_program() {
        let cmd = vec!["/nonexistent/livetemplate-bench-server".to_owned()];
        assert!(matches!(
            SpawnedServer::spawn(&cmd, Duration::from_secs(1)),
            Err(BenchError::Process(_))
        ));
    }
}
