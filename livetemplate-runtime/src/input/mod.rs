//! Parsing what browsers send: action messages, form posts, typed form data.
//!
//! - [`parse_message`]: a WebSocket text frame or JSON POST body → [`ActionMessage`].
//! - [`parse_form_post`], [`parse_form_post_with_actions`]: a plain HTML form post
//!   (URL-encoded or multipart) → [`ActionMessage`], with the action detected from the
//!   fields (rules in [`form_post`]); [`parse_post_body`] picks by content type.
//! - [`parse_value`]: the browser client's value coercion, for code that wants it.
//! - [`Form<T>`] and [`Data<T>`]: typed action parameters (lenient with per-field
//!   errors, and strict); [`FromContext`] is how action parameters other than the state
//!   and the context are extracted.
//!
//! Values of plain form posts stay strings (as in the original framework) while the
//! JavaScript client sends coerced numbers and booleans; [`Form<T>`] reads both alike.

mod error;
mod form;
pub mod form_post;
mod lenient;
mod message;
pub mod multipart;
mod value;

#[cfg(test)]
mod tests;

pub use error::InputError;
pub use form::{Data, Form};
pub use form_post::{parse_form_post, parse_form_post_with_actions, parse_post_body};
pub use message::{is_redacted, parse_message, ActionMessage, DEFAULT_ACTION};
pub use value::parse_value;

pub(crate) use form::bind_lenient;
pub(crate) use message::read_message;

use crate::context::Context;
use crate::error::Error;

/// An action parameter the dispatcher extracts from the [`Context`] (typed form data,
/// published data, …).
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an action parameter",
    label = "the dispatcher cannot supply this type",
    note = "action parameters are: the state (`&mut State` or `&State`), `&mut Context` or `&Context`, and types implementing `FromContext` such as `Form<T>` and `Data<T>`"
)]
pub trait FromContext: Sized {
    /// Extract the value; an `Err` fails the action (state untouched) and its errors
    /// reach the template.
    fn from_context(ctx: &Context) -> Result<Self, Error>;
}
