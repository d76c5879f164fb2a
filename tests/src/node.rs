//! [`BrowserEnv`]: Node.js, Chromium and the npm packages of `tests/browser`, and running scripts.

use std::ffi::OsStr;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// Set this environment variable to `1` to skip the browser tests (they print that they skip).
pub const SKIP_ENV: &str = "LT_SKIP_BROWSER";

/// How long a scenario may run before it is killed. Scenarios time themselves out sooner
/// (20 s by default); this only catches a hung `node`.
const SCENARIO_TIMEOUT: Duration = Duration::from_secs(60);

/// Prefix of the lines a script prints to ask the test for something (e.g. a server restart).
const CONTROL_PREFIX: &str = "LT-CONTROL ";

/// Where the packages that the scenarios `require` must be installed, below `tests/browser`.
const NPM_FILES: [&str; 2] = [
    "node_modules/playwright-core/package.json",
    "node_modules/@livetemplate/client/dist/livetemplate-client.browser.js",
];

/// What the browser tests need and did not find.
#[derive(Debug, thiserror::Error)]
#[error(
    "browser tests cannot run: {}.\nTo install everything, run `scripts/test` (or: `apt-get install -y chromium` \
     and `npm ci --prefix tests/browser`). To skip the browser tests, set {SKIP_ENV}=1.",
    missing.join("; ")
)]
pub struct SetupError {
    /// One entry per missing piece, each saying how to get it.
    pub missing: Vec<String>,
}

/// Node.js, Chromium and the installed npm packages of `tests/browser`.
#[derive(Debug, Clone)]
pub struct BrowserEnv {
    node: PathBuf,
    chromium: PathBuf,
    dir: PathBuf,
}

impl BrowserEnv {
    /// Finds everything the browser scenarios need.
    ///
    /// Node.js is `$LT_NODE` or `node` on the `PATH`; Chromium is `$LT_CHROMIUM`,
    /// `/usr/bin/chromium`, or `chromium` on the `PATH`; the npm packages must be installed in
    /// `tests/browser/node_modules`.
    ///
    /// # Errors
    ///
    /// A [`SetupError`] listing everything that is missing, with the commands that install it.
    pub fn detect() -> Result<Self, SetupError> {
        let dir = crate::browser_dir();
        let mut missing = Vec::new();
        let node = env_path("LT_NODE").or_else(|| on_path("node"));
        match &node {
            Some(node) if runs(node) => {}
            Some(node) => missing.push(format!("`{} --version` fails", node.display())),
            None => missing
                .push("Node.js (`node`) is not on the PATH (install it, or set LT_NODE)".into()),
        }
        let chromium = match env_path("LT_CHROMIUM") {
            Some(path) if path.is_file() => Some(path),
            Some(path) => {
                missing.push(format!("LT_CHROMIUM={} is not a file", path.display()));
                None
            }
            None => {
                let found = Some(PathBuf::from("/usr/bin/chromium"))
                    .filter(|p| p.is_file())
                    .or_else(|| on_path("chromium"));
                if found.is_none() {
                    missing.push(
                        "Chromium is not installed (`apt-get install -y chromium`, or set LT_CHROMIUM)"
                            .into(),
                    );
                }
                found
            }
        };
        for file in NPM_FILES {
            if !dir.join(file).is_file() {
                missing.push(format!(
                    "{} is missing (`npm ci --prefix tests/browser`)",
                    Path::new("tests/browser").join(file).display()
                ));
            }
        }
        match (node, chromium) {
            (Some(node), Some(chromium)) if missing.is_empty() => Ok(BrowserEnv {
                node,
                chromium,
                dir,
            }),
            _ => Err(SetupError { missing }),
        }
    }

    /// The environment for the browser test `test`, or `None` (after printing why) when
    /// `LT_SKIP_BROWSER=1` is set.
    ///
    /// # Panics
    ///
    /// When something is missing and the tests are not skipped: the message says what to install.
    #[track_caller]
    pub fn for_test(test: &str) -> Option<Self> {
        if skip_requested() {
            println!("{test}: skipped ({SKIP_ENV}=1)");
            eprintln!("{test}: skipped ({SKIP_ENV}=1)");
            return None;
        }
        match Self::detect() {
            Ok(env) => Some(env),
            Err(err) => panic!("{test}: {err}"),
        }
    }

    /// The Node.js executable.
    pub fn node(&self) -> &Path {
        &self.node
    }

    /// The Chromium executable (passed to the scenarios as `LT_CHROMIUM`).
    pub fn chromium(&self) -> &Path {
        &self.chromium
    }

    /// Runs the scenario `tests/browser/<name>.js` against `url`.
    ///
    /// `control` answers the scenario's control requests (`LT-CONTROL <command>` lines, e.g.
    /// `restart`); a scenario that sends none never calls it. The scenario is killed after a minute.
    ///
    /// # Errors
    ///
    /// When the scenario file does not exist or `node` cannot be started.
    pub fn run_scenario(
        &self,
        name: &str,
        url: &str,
        control: impl FnMut(&str) -> Result<(), String>,
    ) -> io::Result<NodeOutput> {
        self.run_scenario_on(name, &[url], control)
    }

    /// Runs the scenario `tests/browser/<name>.js` against several replicas of one app:
    /// `urls` are their page URLs (the scenario sees them as `ctx.urls`).
    ///
    /// # Errors
    ///
    /// As [`BrowserEnv::run_scenario`].
    pub fn run_scenario_on(
        &self,
        name: &str,
        urls: &[&str],
        control: impl FnMut(&str) -> Result<(), String>,
    ) -> io::Result<NodeOutput> {
        let script = self.dir.join(format!("{name}.js"));
        if !script.is_file() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no browser scenario {}", script.display()),
            ));
        }
        self.run_script(name, &script, urls, SCENARIO_TIMEOUT, control)
    }

    /// Runs `node <script> <args…>` in `tests/browser`, answering control requests, and kills it
    /// after `timeout`. `name` is the word the script prints after `PASS` when it passes.
    ///
    /// # Errors
    ///
    /// When `node` cannot be started.
    pub fn run_script(
        &self,
        name: &str,
        script: &Path,
        args: &[&str],
        timeout: Duration,
        mut control: impl FnMut(&str) -> Result<(), String>,
    ) -> io::Result<NodeOutput> {
        let mut child = Command::new(&self.node)
            .arg(script)
            .args(args)
            .current_dir(&self.dir)
            .env("LT_CHROMIUM", &self.chromium)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let mut stdin = child.stdin.take();
        let (lines, stdout_reader) = read_lines(child.stdout.take());
        let stderr_reader = read_all(child.stderr.take());

        let deadline = Instant::now() + timeout;
        let mut stdout = String::new();
        let mut timed_out = false;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match lines.recv_timeout(left) {
                Ok(line) => {
                    stdout.push_str(&line);
                    stdout.push('\n');
                    if let Some(command) = line.strip_prefix(CONTROL_PREFIX) {
                        let reply = match control(command.trim()) {
                            Ok(()) => "ok".to_owned(),
                            Err(err) => format!("error {}", err.replace('\n', " ")),
                        };
                        reply_to(&mut stdin, &reply);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    timed_out = true;
                    kill(&mut child);
                    break;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
        }
        drop(stdin);
        let status = wait_until(&mut child, deadline)?;
        let timed_out = timed_out || status.is_none();
        let _ = stdout_reader.join();
        let stderr = stderr_reader.join().unwrap_or_default();
        Ok(NodeOutput {
            name: name.to_owned(),
            status,
            timed_out,
            stdout,
            stderr,
        })
    }
}

/// What a Node script did: its exit status and everything it printed.
#[derive(Debug, Clone)]
pub struct NodeOutput {
    /// The scenario name (what the script prints after `PASS` or `FAIL`).
    pub name: String,
    /// The exit status, or `None` when the script had to be killed.
    pub status: Option<ExitStatus>,
    /// Whether the script ran out of time and was killed.
    pub timed_out: bool,
    /// Everything the script printed on stdout.
    pub stdout: String,
    /// Everything the script printed on stderr.
    pub stderr: String,
}

impl NodeOutput {
    /// Whether the script exited with status 0 and printed its `PASS <name>` line.
    pub fn passed(&self) -> bool {
        let pass_line = format!("PASS {}", self.name);
        !self.timed_out
            && self.status.is_some_and(|s| s.success())
            && self
                .stdout
                .lines()
                .any(|line| line == pass_line || line.starts_with(&format!("{pass_line} ")))
    }

    /// The script's own `FAIL …` line, if it printed one.
    pub fn failure(&self) -> Option<&str> {
        self.stdout.lines().find(|line| line.starts_with("FAIL "))
    }

    /// Panics with the whole output unless the script [passed](Self::passed).
    ///
    /// # Panics
    ///
    /// When the script did not pass.
    #[track_caller]
    pub fn assert_passed(&self) {
        assert!(self.passed(), "{self}");
    }
}

impl fmt::Display for NodeOutput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verdict = if self.passed() {
            "passed"
        } else {
            "did not pass"
        };
        write!(f, "browser scenario `{}` {verdict}", self.name)?;
        match (self.timed_out, self.status) {
            (true, _) => write!(f, " (killed: it ran out of time)")?,
            (false, Some(status)) => write!(f, " ({status})")?,
            (false, None) => write!(f, " (no exit status)")?,
        }
        if let Some(line) = self.failure() {
            write!(f, "\n{line}")?;
        }
        write!(f, "\n--- stdout ---\n{}", self.stdout)?;
        if !self.stderr.trim().is_empty() {
            write!(f, "--- stderr ---\n{}", self.stderr)?;
        }
        Ok(())
    }
}

fn skip_requested() -> bool {
    std::env::var(SKIP_ENV).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

fn env_path(var: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

fn on_path(program: impl AsRef<OsStr>) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program.as_ref()))
        .find(|candidate| candidate.is_file())
}

fn runs(program: &Path) -> bool {
    Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn read_lines(
    pipe: Option<impl Read + Send + 'static>,
) -> (mpsc::Receiver<String>, thread::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel();
    let handle = thread::spawn(move || {
        let Some(pipe) = pipe else { return };
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (rx, handle)
}

fn read_all(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut out = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut out);
        }
        String::from_utf8_lossy(&out).into_owned()
    })
}

fn reply_to(stdin: &mut Option<ChildStdin>, reply: &str) {
    if let Some(pipe) = stdin {
        // A script that exited cannot read the reply; its output says what happened.
        if writeln!(pipe, "{reply}")
            .and_then(|()| pipe.flush())
            .is_err()
        {
            *stdin = None;
        }
    }
}

fn kill(child: &mut Child) {
    let _ = child.kill();
}

/// Waits for the child until `deadline` (plus a grace second), killing it if it outlives that.
fn wait_until(child: &mut Child, deadline: Instant) -> io::Result<Option<ExitStatus>> {
    let hard = deadline + Duration::from_secs(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= hard {
            kill(child);
            child.wait()?;
            return Ok(None);
        }
        thread::sleep(Duration::from_millis(20));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_or_skip(test: &str) -> Option<BrowserEnv> {
        BrowserEnv::for_test(test)
    }

    fn script(name: &str, body: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("lt-node-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join(format!("{name}.js"));
        std::fs::write(&path, body).expect("write script");
        path
    }

    #[test]
    fn control_requests_are_answered_and_pass_is_recognised() {
        let Some(env) = env_or_skip("control_requests_are_answered_and_pass_is_recognised") else {
            return;
        };
        let path = script(
            "ctl",
            r#"
            const rl = require('readline').createInterface({ input: process.stdin });
            const replies = [];
            rl.on('line', (l) => {
              replies.push(l);
              if (replies.length === 1) console.log('LT-CONTROL nope');
              else { console.log(`replies ${JSON.stringify(replies)}`); console.log('PASS ctl (5 ms)'); process.exit(0); }
            });
            console.log('LT-CONTROL restart');
            "#,
        );
        let mut asked = Vec::new();
        let out = env
            .run_script("ctl", &path, &[], Duration::from_secs(20), |cmd| {
                asked.push(cmd.to_owned());
                if cmd == "restart" {
                    Ok(())
                } else {
                    Err(format!("unknown command {cmd}"))
                }
            })
            .expect("run node");
        assert_eq!(asked, ["restart", "nope"]);
        assert!(
            out.stdout
                .contains(r#"replies ["ok","error unknown command nope"]"#),
            "{out}"
        );
        out.assert_passed();
    }

    #[test]
    fn a_failing_script_does_not_pass() {
        let Some(env) = env_or_skip("a_failing_script_does_not_pass") else {
            return;
        };
        let path = script("bad", "console.log('FAIL bad: nope'); process.exit(1);");
        let out = env
            .run_script("bad", &path, &[], Duration::from_secs(20), |_| Ok(()))
            .expect("run node");
        assert!(!out.passed());
        assert_eq!(out.failure(), Some("FAIL bad: nope"));
        assert!(out.to_string().contains("did not pass"), "{out}");

        // Exit 0 without the PASS line is not a pass either.
        let path = script("quiet", "process.exit(0);");
        let out = env
            .run_script("quiet", &path, &[], Duration::from_secs(20), |_| Ok(()))
            .expect("run node");
        assert!(!out.passed(), "{out}");
    }

    #[test]
    fn a_hung_script_is_killed() {
        let Some(env) = env_or_skip("a_hung_script_is_killed") else {
            return;
        };
        let path = script(
            "hang",
            "console.log('PASS hang'); setInterval(() => {}, 1000);",
        );
        let out = env
            .run_script("hang", &path, &[], Duration::from_millis(500), |_| Ok(()))
            .expect("run node");
        assert!(out.timed_out, "{out}");
        assert!(!out.passed(), "{out}");
    }

    #[test]
    fn an_unknown_scenario_is_an_error() {
        let Some(env) = env_or_skip("an_unknown_scenario_is_an_error") else {
            return;
        };
        let err = env
            .run_scenario("no_such_scenario", "http://127.0.0.1:9/", |_| Ok(()))
            .expect_err("missing scenario");
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("no_such_scenario.js"), "{err}");
    }

    #[test]
    fn setup_error_says_how_to_fix_it() {
        let err = SetupError {
            missing: vec!["Chromium is not installed (`apt-get install -y chromium`)".into()],
        };
        let text = err.to_string();
        assert!(text.contains("Chromium is not installed"), "{text}");
        assert!(text.contains("scripts/test"), "{text}");
        assert!(text.contains("npm ci --prefix tests/browser"), "{text}");
        assert!(text.contains("LT_SKIP_BROWSER=1"), "{text}");
    }
}
