//! Parsing what browsers send: action messages, form posts, typed form data.
//!
//! [`FromContext`] is how action parameters other than the state and the context are
//! extracted (`Form<T>`, `Data<T>`, …).

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
