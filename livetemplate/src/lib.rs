//! livetemplate: server-driven, real-time HTML for Rust.
//!
//! An app is three things:
//!
//! - a **template** (handlebars) that renders the page from a state;
//! - a **state** struct, one value per browser connection, deriving [`LiveState`]
//!   (`#[persist]` marks the fields that survive refresh and reconnect);
//! - a **controller**, one value for the whole server holding the app's dependencies
//!   (database pool, clients, configuration), whose `#[action]` methods change a
//!   connection's state when the browser asks.
//!
//! A click runs an action on the server; the server re-renders the template and sends
//! only what changed; the browser client patches the page.
//!
//! ```
//! use livetemplate::prelude::*;
//!
//! #[derive(Clone, Default, Serialize, Deserialize, LiveState)]
//! struct CounterState {
//!     #[persist]
//!     count: i64,
//! }
//!
//! struct Counter;
//!
//! #[controller(state = CounterState)]
//! impl Counter {
//!     #[action]
//!     fn increment(&self, state: &mut CounterState) {
//!         state.count += 1;
//!     }
//!
//!     #[action]
//!     fn decrement(&self, state: &mut CounterState) -> Result<()> {
//!         if state.count == 0 {
//!             return Err(Error::msg("the counter is already at zero"));
//!         }
//!         state.count -= 1;
//!         Ok(())
//!     }
//! }
//! # fn main() {}
//! ```
//!
//! with a template such as
//!
//! ```html
//! <p>Count: {{count}}</p>
//! <button name="increment">+</button>
//! <button name="decrement">-</button>
//! ```
//!
//! # Guides
//!
//! - [`guide::controllers`]: controller vs state, actions, the action-name (alias) rule,
//!   parameters and return types.
//! - [`guide::lifecycle`]: what runs when — mount, connect, actions, disconnect.
//! - [`guide::persistence`]: `#[persist]`, when state is saved and restored.
//! - [`guide::errors`]: field errors vs general errors, and how templates show them.
//! - [`guide::realtime`]: other tabs and other users — topics, publish, sync, server
//!   push, out-of-band publishes, presence.
//!
//! Complete programs live in the
//! [examples directory](https://github.com/livetemplate-rs/livetemplate-rs/tree/main/examples)
//! (`examples/counter`, `examples/todos`, …).
//!
//! # Macros
//!
//! [`macro@controller`] with [`macro@action`], [`macro@mount`], [`macro@on_connect`],
//! [`macro@on_disconnect`]; [`derive@LiveState`] with `#[persist]`. Set
//! `LIVETEMPLATE_MACROS_DEBUG=1` while building to print what they generate.

// The unit tests of `__private` live inside the deprecated module.
#![cfg_attr(test, allow(deprecated))]

pub use livetemplate_runtime::{
    Action, ActionKind, ActionSpec, ConnectKind, Context, Controller, Data, Disconnect, Error,
    FieldError, FieldErrors, Form, FromContext, IntoActionResult, LiveState, Origin, Result,
};

// Real time: topics, publishes, server push.
pub use livetemplate_runtime::pubsub::{AclRequest, TopicError};
pub use livetemplate_runtime::{
    Broker, BrokerMetrics, FanoutError, PublishError, Published, Publisher, PushError, Session,
    SubscribeError,
};
// End real time.

#[doc(inline)]
pub use livetemplate_macros::{action, controller, mount, on_connect, on_disconnect, LiveState};

// Transport: serving live pages.
pub use livetemplate_runtime::transport::{
    self, serve, serve_with_shutdown, App, AuthError, Authenticator, BasicAuth, Identity,
    LiveHandler,
};
pub use livetemplate_runtime::Template;
// End transport.

/// Several replicas of one app: [`replica::RedisFanout`] carries publishes, server
/// pushes and `ctx.sync()` between them over Redis pub/sub (give it to
/// [`App::fanout`]).
pub use livetemplate_runtime::replica;

/// Session stores for `#[persist]` fields: [`store::MemoryStore`] (the default),
/// [`store::RedisStore`], and the [`store::SessionStore`] trait for your own.
pub use livetemplate_runtime::store;

/// The names most apps need: `use livetemplate::prelude::*;`.
///
/// The macros, the [`LiveState`] trait and derive, [`Context`], [`Form`], [`Data`],
/// [`Result`], [`Error`], [`FieldError`], [`FieldErrors`], and serde's
/// `Serialize`/`Deserialize` (your crate still needs `serde` as a dependency for the
/// derives to expand).
pub mod prelude {
    pub use crate::{
        action, controller, mount, on_connect, on_disconnect, Context, Data, Error, FieldError,
        FieldErrors, Form, LiveState, Result,
    };
    pub use serde::{Deserialize, Serialize};
}

/// Guides: longer explanations than fit on one item.
pub mod guide {
    #[doc = include_str!("../docs/controllers.md")]
    pub mod controllers {}
    #[doc = include_str!("../docs/lifecycle.md")]
    pub mod lifecycle {}
    #[doc = include_str!("../docs/persistence.md")]
    pub mod persistence {}
    #[doc = include_str!("../docs/errors.md")]
    pub mod errors {}
    #[doc = include_str!("../docs/realtime.md")]
    pub mod realtime {}
}

/// Items the macros' generated code refers to. Not public API: may change in any
/// release; naming it warns.
#[doc(hidden)]
#[deprecated = "`livetemplate::__private` is for code generated by livetemplate's macros; \
                use the items re-exported at the crate root instead"]
#[path = "private.rs"]
pub mod __private;
