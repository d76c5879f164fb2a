//! The Node judge process (`tests/js/judge.js` at the workspace root): the official
//! client's `TreeRenderer` applies a sequence of wire trees and compares the HTML it
//! rebuilds after every step with the expected HTML (input format at the top of
//! judge.js).
//!
//! Include it with `#[path = "support/node_judge.rs"] mod node_judge;` from a test crate.
//! One `node` process serves the whole test binary; cases are sent one line at a time.
//!
//! Needs Node.js and `tests/js/node_modules` (`npm ci --prefix tests/js`); a test fails
//! with that hint when they are missing, unless `LT_SKIP_NODE=1` (then [`judge`] returns
//! `None` and the judge's verdicts are skipped).
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

/// The workspace root (where `tests/js/` lives).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A running judge process.
pub struct Judge {
    // Kept so the process lives as long as the pipes.
    _child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl Judge {
    /// Send one case line, read its result line.
    pub fn run(&mut self, case: &str) -> Result<Value, String> {
        debug_assert!(!case.contains('\n'));
        self.stdin
            .write_all(case.as_bytes())
            .and_then(|()| self.stdin.write_all(b"\n"))
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("writing to the judge failed: {e}"))?;
        let mut line = String::new();
        match self.stdout.read_line(&mut line) {
            Ok(0) => Err("the judge exited early (see its stderr above)".into()),
            Ok(_) => {
                serde_json::from_str(&line).map_err(|e| format!("bad judge output {line:?}: {e}"))
            }
            Err(e) => Err(format!("reading from the judge failed: {e}")),
        }
    }
}

/// The shared judge process, or `None` when `LT_SKIP_NODE=1`.
pub fn judge() -> Option<&'static Mutex<Judge>> {
    static JUDGE: OnceLock<Option<Mutex<Judge>>> = OnceLock::new();
    JUDGE
        .get_or_init(|| {
            if std::env::var("LT_SKIP_NODE").is_ok_and(|v| v == "1") {
                // Written past the test harness's capture so the skip is visible.
                let msg = format!(
                    "LT_SKIP_NODE=1: skipping the client judge (tests/{}.rs)\n",
                    env!("CARGO_CRATE_NAME")
                );
                let _ = std::io::stderr().write_all(msg.as_bytes());
                return None;
            }
            let root = workspace_root();
            let hint = "run `npm ci --prefix tests/js` (Node.js 18+ required), or set LT_SKIP_NODE=1 to skip";
            let client = root.join("tests/js/node_modules/@livetemplate/client/dist/state/tree-renderer.js");
            assert!(client.exists(), "{} is missing: {hint}", client.display());
            let mut child = Command::new("node")
                .arg(root.join("tests/js/judge.js"))
                .current_dir(&root)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start `node`: {e}; {hint}"));
            let stdin = child.stdin.take().expect("piped stdin");
            let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
            Some(Mutex::new(Judge { _child: child, stdin, stdout }))
        })
        .as_ref()
}

/// Run one encoded case through the shared judge: `Ok(None)` when it agrees (or the
/// judge is skipped), `Ok(Some(verdict))` when it disagrees.
pub fn verdict(case: &str) -> Result<Option<Value>, String> {
    let Some(judge) = judge() else {
        return Ok(None);
    };
    let mut judge = judge.lock().unwrap_or_else(|e| e.into_inner());
    let verdict = judge.run(case)?;
    if verdict["ok"] == Value::Bool(true) {
        Ok(None)
    } else {
        Ok(Some(verdict))
    }
}

/// Slot values (not statics) must never be strings the client blanks (`{{…}}`), and
/// arrays in slots must be non-empty ops lists.
pub fn check_values(v: &Value, path: &str) -> Result<(), String> {
    match v {
        Value::String(s) if s.starts_with("{{") && s.ends_with("}}") => {
            Err(format!("{path}: bare template-looking text {s:?}"))
        }
        Value::Array(a) => {
            if a.is_empty() {
                return Err(format!("{path}: empty array"));
            }
            a.iter()
                .enumerate()
                .try_for_each(|(i, x)| check_values(x, &format!("{path}[{i}]")))
        }
        Value::Object(o) => {
            o.iter()
                .filter(|(k, _)| k.as_str() != "s")
                .try_for_each(|(k, x)| match (k.as_str(), x) {
                    ("d", Value::Array(items)) => items
                        .iter()
                        .enumerate()
                        .try_for_each(|(i, item)| check_values(item, &format!("{path}.d[{i}]"))),
                    _ => check_values(x, &format!("{path}.{k}")),
                })
        }
        _ => Ok(()),
    }
}
