//! livetemplate: server-driven, real-time HTML for Rust.
//!
//! (Crate documentation to be written.)

pub use livetemplate_runtime::{
    ActionKind, ConnectKind, Context, Controller, Disconnect, Error, FieldError, FieldErrors,
    LiveState, Origin, Result,
};

// Transport: serving live pages.
pub use livetemplate_runtime::transport::{
    self, serve, App, AuthError, Authenticator, BasicAuth, Identity, LiveHandler,
};
// End transport.

/// The names most apps need: `use livetemplate::prelude::*;`.
pub mod prelude {
    pub use crate::{Context, Error, FieldError, FieldErrors, LiveState, Result};
}

/// Items the macros' generated code refers to. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use livetemplate_runtime::controller::{
        resolve_action, ActionKind, ActionSpec, BoxFuture, Controller, LiveState,
    };
    pub use livetemplate_runtime::{Context, Disconnect, Error};
    pub use serde;
    pub use serde_json;
}
