//! Errors user code returns from actions and hooks, and how they reach the template.
//!
//! [`Error`] is what `?` produces inside an action: field errors ([`FieldError`],
//! [`FieldErrors`]) are shown next to their field, anything else as a general error
//! (key `_general`).

use std::collections::BTreeMap;
use std::fmt;

/// The error type of actions and lifecycle hooks.
///
/// Any `std::error::Error` converts into it with `?` (a general error); a
/// [`FieldError`] or [`FieldErrors`] converts into field errors.
pub struct Error {
    inner: Inner,
}

enum Inner {
    Fields(BTreeMap<String, String>),
    General {
        message: String,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

/// Key under which a general (non-field) error is reported.
pub const GENERAL_ERROR_KEY: &str = "_general";

impl Error {
    /// A general error with this message.
    pub fn msg(message: impl fmt::Display) -> Error {
        Error {
            inner: Inner::General {
                message: message.to_string(),
                source: None,
            },
        }
    }

    /// A field error.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Error {
        FieldError::new(field, message).into()
    }

    /// The errors as the wire (`meta.errors`) and templates (`lvt.errors`) see them:
    /// field → message, or `_general` → message.
    pub fn to_map(&self) -> BTreeMap<String, String> {
        match &self.inner {
            Inner::Fields(f) => f.clone(),
            Inner::General { message, .. } => {
                BTreeMap::from([(GENERAL_ERROR_KEY.to_string(), message.clone())])
            }
        }
    }

    /// Whether this error carries field errors (as opposed to a general error).
    pub fn is_field_error(&self) -> bool {
        matches!(self.inner, Inner::Fields(_))
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::Fields(m) => f.debug_tuple("Error::Fields").field(m).finish(),
            Inner::General { message, source } => f
                .debug_struct("Error::General")
                .field("message", message)
                .field("source", source)
                .finish(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.inner {
            Inner::Fields(m) => {
                let mut first = true;
                for (k, v) in m {
                    if !first {
                        f.write_str("; ")?;
                    }
                    first = false;
                    write!(f, "{k}: {v}")?;
                }
                Ok(())
            }
            Inner::General { message, .. } => f.write_str(message),
        }
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for Error {
    fn from(e: E) -> Error {
        Error {
            inner: Inner::General {
                message: e.to_string(),
                source: Some(Box::new(e)),
            },
        }
    }
}

/// An error about one form field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field name, as the form names it.
    pub field: String,
    /// What is wrong, for the user.
    pub message: String,
}

impl FieldError {
    /// An error about `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl From<FieldError> for Error {
    fn from(e: FieldError) -> Error {
        Error {
            inner: Inner::Fields(BTreeMap::from([(e.field, e.message)])),
        }
    }
}

/// Several field errors at once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldErrors(pub BTreeMap<String, String>);

impl FieldErrors {
    /// No errors yet.
    pub fn new() -> FieldErrors {
        FieldErrors::default()
    }
    /// Add an error for `field` (the first error per field wins).
    pub fn add(&mut self, field: impl Into<String>, message: impl Into<String>) -> &mut Self {
        self.0.entry(field.into()).or_insert_with(|| message.into());
        self
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// `Ok(())` when empty, else the errors.
    pub fn into_result(self) -> Result<(), Error> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(self.into())
        }
    }
}

impl From<FieldErrors> for Error {
    fn from(e: FieldErrors) -> Error {
        Error {
            inner: Inner::Fields(e.0),
        }
    }
}

/// Result of actions and hooks.
pub type Result<T = (), E = Error> = std::result::Result<T, E>;
