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
//! - [`input`]: parsing what browsers send (action messages, form posts, `Form<T>`).
//! - [`transport`]: the HTTP/WebSocket handler (a `tower::Service`), sessions, serving.
//! - [`store`]: session stores for `#[persist]` fields (memory, Redis).
//! - [`pubsub`]: topic grammar, the subscription index and the topic policy.
//! - [`replica`]: several replicas of one app: publishes, pushes and syncs across them
//!   over Redis pub/sub.

/// `serde::Serializer` methods a serializer answers all alike: each listed method
/// ignores its arguments and returns `$answer` (of type `$ret`). Used by the serializers
/// that only accept some shapes (map keys, shape probes, pickers).
macro_rules! answer_alike {
    ($ret:ty => $answer:expr; $($method:ident($($arg:ty),*)),* $(,)?) => {
        $(
            fn $method(self, $(_: $arg),*) -> $ret {
                $answer
            }
        )*
    };
}

/// [`answer_alike!`] for the fifteen primitive `serde::Serializer` methods (booleans,
/// integers, floats, `char` and bytes; not `str`): each returns `$answer`.
macro_rules! primitives_alike {
    ($ret:ty => $answer:expr) => {
        answer_alike!($ret => $answer;
            serialize_bool(bool),
            serialize_i8(i8),
            serialize_i16(i16),
            serialize_i32(i32),
            serialize_i64(i64),
            serialize_i128(i128),
            serialize_u8(u8),
            serialize_u16(u16),
            serialize_u32(u32),
            serialize_u64(u64),
            serialize_u128(u128),
            serialize_f32(f32),
            serialize_f64(f64),
            serialize_char(char),
            serialize_bytes(&[u8]),
        );
    };
}

pub mod context;
pub mod controller;
pub mod error;
pub mod input;
pub mod pubsub;
pub mod replica;
pub mod store;
pub mod template;
pub mod transport;
pub mod tree;

pub use context::{ConnectKind, Context, Disconnect, Origin};
pub use controller::{
    Action, ActionKind, ActionSpec, BoxFuture, Controller, IntoActionResult, LiveState,
};
pub use error::{Error, FieldError, FieldErrors, Result};
pub use input::{Data, Form, FromContext};
pub use template::{RenderError, Template, TemplateBuilder, TemplateError};
pub use transport::push::{PushError, Session};
pub use transport::{
    serve, App, Broker, BrokerMetrics, FanoutError, LiveHandler, PublishError, Published,
    Publisher, SubscribeError,
};
