//! Runtime of livetemplate: everything that runs.
//!
//! Users depend on the `livetemplate` facade crate, not on this one.
//!
//! What is where:
//! - [`template`]: handlebars templates compiled to a static/dynamic plan; rendering a
//!   state produces a [`tree::Node`].
//! - [`tree`]: the render tree, its HTML reconstruction, JSON encoding and minimal diff.
//! - [`controller`]: the traits generated code implements ([`LiveState`], [`Controller`]).
//! - [`context`]: [`Context`], what actions and hooks see.
//! - [`error`]: [`Error`], [`FieldError`]: what actions return.

pub mod context;
pub mod controller;
pub mod error;
pub mod template;
pub mod tree;

pub use context::{ConnectKind, Context, Disconnect, Origin};
pub use controller::{ActionKind, ActionSpec, BoxFuture, Controller, LiveState};
pub use error::{Error, FieldError, FieldErrors, Result};
