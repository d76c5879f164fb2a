//! Load generator for livetemplate servers.
//!
//! It talks to any server over the wire (HTTP GET for the session cookie, then a WebSocket upgrade on the page
//! URL, as the official browser client does) and measures click round trips, fan-out latency of one publish to
//! many subscribers, memory per idle connection, bytes per update and connect-to-first-tree latency. It also
//! ships a no-op server that speaks just enough of the protocol to serve as the floor a real server is compared
//! against.
//!
//! Targets are restricted to loopback addresses: this tool is for measuring a server on the same machine.

pub mod args;
pub mod client;
pub mod error;
pub mod modes;
pub mod noop_server;
pub mod report;
pub mod server;
pub mod stats;
pub mod target;

pub use error::BenchError;
