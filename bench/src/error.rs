//! Errors of the load generator.

use std::time::Duration;

/// Everything that can make a benchmark run fail.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// The command line could not be understood.
    #[error("usage error: {0}")]
    Usage(String),
    /// The target URL is malformed.
    #[error("invalid target url `{url}`: {reason}")]
    BadUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The target host is not a loopback address.
    #[error(
        "refusing target host `{0}`: only localhost and 127.0.0.0/8 are allowed (this tool measures a server on \
         this machine)"
    )]
    NonLoopback(String),
    /// A socket operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// An operation did not finish in time.
    #[error("timed out after {timeout:?} while {what}")]
    Timeout {
        /// What was being waited for.
        what: String,
        /// The limit that was hit.
        timeout: Duration,
    },
    /// The server's HTTP response could not be used.
    #[error("bad HTTP response to the initial GET: {0}")]
    BadHttp(String),
    /// The server set no session cookie on the initial GET.
    #[error("the initial GET set no `{0}` cookie (expected `Set-Cookie: {0}=...`)")]
    NoCookie(String),
    /// The server refused the WebSocket upgrade.
    #[error("WebSocket upgrade refused: HTTP status {status} (expected 101){body}")]
    UpgradeRefused {
        /// The status the server answered with.
        status: u16,
        /// The start of the response body, if any, prefixed for display.
        body: String,
    },
    /// A WebSocket protocol error.
    #[error("WebSocket error while {context}: {source}")]
    WebSocket {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: Box<tokio_tungstenite::tungstenite::Error>,
    },
    /// The server sent a frame that does not fit the protocol at this point.
    #[error("unexpected frame while {context}: {detail}")]
    UnexpectedFrame {
        /// What was being waited for.
        context: String,
        /// What arrived (truncated).
        detail: String,
    },
    /// The server closed the connection.
    #[error("server closed the connection while {0}")]
    Closed(String),
    /// One clicker of a clicks run failed; the run is aborted.
    #[error("clicker {index}: {source}")]
    Clicker {
        /// Which clicker (0-based).
        index: usize,
        /// What went wrong.
        #[source]
        source: Box<BenchError>,
    },
    /// A fan-out subscriber connection failed; the run is aborted.
    #[error("subscriber {index}: {source}")]
    Subscriber {
        /// Which subscriber (0-based).
        index: usize,
        /// What went wrong.
        #[source]
        source: Box<BenchError>,
    },
    /// The fan-out publisher's action failed; the run is aborted.
    #[error("publisher, round {round} (0-based, warm-up rounds included): {source}")]
    Publisher {
        /// Which round.
        round: usize,
        /// What went wrong.
        #[source]
        source: Box<BenchError>,
    },
    /// A task of the load generator itself failed (a bug, not the server's fault).
    #[error("internal task failed: {0}")]
    Task(String),
    /// The server process could not be started or observed.
    #[error("server process: {0}")]
    Process(String),
}

impl BenchError {
    /// Wraps an I/O error with what was being done.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }

    /// Wraps a WebSocket error with what was being done.
    pub fn ws(context: impl Into<String>, source: tokio_tungstenite::tungstenite::Error) -> Self {
        Self::WebSocket {
            context: context.into(),
            source: Box::new(source),
        }
    }
}
