//! Measurement modes. Each takes a config and a [`Target`](crate::target::Target) and returns a report.

pub mod clicks;
pub mod connect;
pub mod fanout;
pub mod idle;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::client::{ConnectTiming, Session};
use crate::target::Target;
use crate::BenchError;

/// Opens `n` sessions (GET + upgrade + first frame each) with at most `concurrency` in flight. Fails on the
/// first error (after closing what was opened); sessions come back in no particular order.
pub async fn open_many(
    target: &Target,
    n: usize,
    concurrency: usize,
    timeout: Duration,
) -> Result<Vec<(Session, ConnectTiming)>, BenchError> {
    open_many_with_cookie(target, n, concurrency, None, timeout).await
}

/// Like [`open_many`]; with `cookie`, every GET carries it as the session cookie (tabs of one session).
pub async fn open_many_with_cookie(
    target: &Target,
    n: usize,
    concurrency: usize,
    cookie: Option<String>,
    timeout: Duration,
) -> Result<Vec<(Session, ConnectTiming)>, BenchError> {
    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.clamp(1, n.max(1)) {
        let (next, failed, target) = (next.clone(), failed.clone(), target.clone());
        let cookie = cookie.clone();
        workers.spawn(async move {
            let mut opened = Vec::new();
            while !failed.load(Ordering::Relaxed) && next.fetch_add(1, Ordering::Relaxed) < n {
                match Session::open_with_cookie(&target, cookie.as_deref(), timeout).await {
                    Ok(s) => opened.push(s),
                    Err(e) => {
                        failed.store(true, Ordering::Relaxed);
                        return (opened, Some(e));
                    }
                }
            }
            (opened, None)
        });
    }
    let mut all = Vec::with_capacity(n);
    let mut first_error = None;
    while let Some(joined) = workers.join_next().await {
        match joined {
            Ok((opened, err)) => {
                all.extend(opened);
                if first_error.is_none() {
                    first_error = err;
                }
            }
            Err(e) => {
                first_error.get_or_insert(BenchError::Task(e.to_string()));
            }
        }
    }
    if let Some(e) = first_error {
        let opened = all.len();
        close_all(all.into_iter().map(|(s, _)| s).collect(), concurrency).await;
        return Err(match e {
            BenchError::Io { context, source } => BenchError::Io {
                context: format!("{context} (after {opened} of {n} connections were open)"),
                source,
            },
            other => other,
        });
    }
    Ok(all)
}

/// Closes sessions politely with bounded concurrency.
pub async fn close_all(sessions: Vec<Session>, concurrency: usize) {
    let sessions = Arc::new(std::sync::Mutex::new(sessions));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let sessions = sessions.clone();
        workers.spawn(async move {
            loop {
                let next = match sessions.lock() {
                    Ok(mut v) => v.pop(),
                    Err(_) => None,
                };
                match next {
                    Some(s) => s.close().await,
                    None => break,
                }
            }
        });
    }
    while workers.join_next().await.is_some() {}
}
