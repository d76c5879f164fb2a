//! Typed action data: [`Form<T>`] (lenient, per-field errors) and [`Data<T>`] (strict).

use std::collections::BTreeMap;
use std::ops::{Deref, DerefMut};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use super::lenient::{Kind, Mask, TopLevel};
use super::FromContext;
use crate::context::Context;
use crate::error::{Error, FieldErrors};

/// Form data as `T`, read leniently: the action parameter for forms.
///
/// The values may come from the browser client (already coerced: `42`, `true`) or from
/// a plain form post (all strings: `"42"`, `"on"`); `T` reads both the same way.
/// Coercions, by target type:
///
/// - integers: integral numbers, and strings that parse as integers (whitespace
///   ignored; `"5.0"` and `"1e3"` too); out of range is an error;
/// - floats: numbers, and strings that parse as finite numbers;
/// - `bool`: booleans, `"true"`/`"on"`/`"1"` and `"false"`/`"off"`/`"0"` (any case),
///   the numbers 1 and 0;
/// - `String`: strings as they are; numbers and booleans printed (`42` → `"42"`);
/// - `Option<T>`: `null`, `""` and `[]` are `None`;
/// - lists (`Vec<T>`, sets, tuples): arrays; a single value is a one-element list;
///   `""` is an empty list;
/// - a single value expected but an array given (a repeated name): its last element;
/// - enums: a string names a unit variant; a one-key object is a tagged variant;
/// - redaction placeholders ([`is_redacted`](super::is_redacted)) count as absent.
///
/// `serde_json::Value` fields, `#[serde(flatten)]` and untagged enums see the values
/// as they are, uncoerced.
///
/// Every bad field is reported, each under its own name (as the form names it, i.e.
/// after `#[serde(rename)]`), so the page can show all errors at once:
///
/// | Problem | Message |
/// |---|---|
/// | absent, or `""`/`null` where a value is needed | `"<field> is required"` |
/// | not readable as the field's type | `"<field> must be <expected>"`, e.g. `"qty must be a whole number"`, `"age must be a whole number between 0 and 255"`, `"agree must be true or false"`, `"size must be one of \"s\", \"m\""` |
/// | unknown key under `#[serde(deny_unknown_fields)]` | `"<field> is not an expected field"` |
/// | a type's own `Deserialize` error | `"<field> is invalid: <its message>"` |
///
/// Nested values are named with dots and brackets (`"address.city is required"`,
/// `"tags[1] must be a whole number"`) but filed under the top-level field
/// (`address`, `tags`). An error that belongs to no field becomes a general error.
/// A `bool` field without `#[serde(default)]` is required: an unchecked checkbox
/// sends nothing, so give checkbox fields `#[serde(default)]`.
///
/// # Examples
///
/// ```
/// use livetemplate_runtime::input::Form;
/// use livetemplate_runtime::Context;
/// use serde::Deserialize;
/// use serde_json::json;
///
/// #[derive(Debug, Deserialize)]
/// struct Item {
///     title: String,
///     qty: u32,
///     #[serde(default)]
///     urgent: bool,
///     note: Option<String>,
/// }
///
/// let ctx = Context::for_test("add", json!({"title": "Milk", "qty": "2", "urgent": "on", "note": ""}));
/// let item: Item = ctx.bind().unwrap();
/// assert_eq!((item.qty, item.urgent, item.note), (2, true, None));
///
/// let ctx = Context::for_test("add", json!({"qty": "two"}));
/// let errors = ctx.bind::<Item>().unwrap_err().to_map();
/// assert_eq!(errors["title"], "title is required");
/// assert_eq!(errors["qty"], "qty must be a whole number");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Form<T>(pub T);

impl<T> Form<T> {
    /// The inner value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned> Form<T> {
    /// Read `T` leniently from action data (what [`FromContext`] does with
    /// [`Context::data`]).
    ///
    /// # Errors
    ///
    /// Field errors for every bad field (see the type docs), or a general error.
    pub fn from_data(data: &Map<String, Value>) -> Result<Form<T>, Error> {
        bind_lenient(data).map(Form)
    }
}

impl<T> Deref for Form<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Form<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: DeserializeOwned> FromContext for Form<T> {
    fn from_context(ctx: &Context) -> Result<Self, Error> {
        Form::from_data(ctx.data())
    }
}

/// The raw action data as `T`, read strictly (plain `serde_json` rules): the action
/// parameter for data that servers send each other, such as what a peer's
/// `ctx.publish` carried.
///
/// # Errors
///
/// When the data does not match `T`, a general error
/// `"invalid action data: <serde_json message>"`.
///
/// # Examples
///
/// ```
/// use livetemplate_runtime::input::Data;
/// use livetemplate_runtime::{Context, FromContext};
/// use serde_json::json;
///
/// let ctx = Context::for_test("refresh", json!({"ids": [1, 2]}));
/// let Data(ids): Data<std::collections::BTreeMap<String, Vec<u32>>> =
///     Data::from_context(&ctx).unwrap();
/// assert_eq!(ids["ids"], [1, 2]);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Data<T>(pub T);

impl<T> Data<T> {
    /// The inner value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: DeserializeOwned> Data<T> {
    /// Read `T` strictly from action data.
    ///
    /// # Errors
    ///
    /// A general error when the data does not match `T`.
    pub fn from_data(data: &Map<String, Value>) -> Result<Data<T>, Error> {
        T::deserialize(&Value::Object(data.clone()))
            .map(Data)
            .map_err(|e| Error::msg(format!("invalid action data: {e}")))
    }
}

impl<T> Deref for Data<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> DerefMut for Data<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.0
    }
}

impl<T: DeserializeOwned> FromContext for Data<T> {
    fn from_context(ctx: &Context) -> Result<Self, Error> {
        Data::from_data(ctx.data())
    }
}

/// Rounds allowed beyond one per data key (missing fields add rounds too).
const MAX_EXTRA_ROUNDS: usize = 256;

/// Deserialize `T` leniently, collecting one error per bad field.
///
/// `serde` stops at the first error, so this runs the deserialization again after
/// each failure with the failing key masked: replaced by a placeholder that reads as
/// any type's default (so it neither fails again nor counts as missing), or left out
/// for unknown keys. Every round masks one more key, so this ends; it stops when
/// deserialization succeeds or fails at no new key.
pub(crate) fn bind_lenient<T: DeserializeOwned>(data: &Map<String, Value>) -> Result<T, Error> {
    let mut masks: BTreeMap<String, Mask> = BTreeMap::new();
    let mut errors = FieldErrors::new();
    loop {
        let error = match T::deserialize(TopLevel {
            data,
            masks: &masks,
        }) {
            Ok(value) if errors.is_empty() => return Ok(value),
            Ok(_) => return Err(errors.into()),
            Err(error) => error,
        };
        // Keys come from the data or from `T`'s field names, so rounds are bounded;
        // the cap only guards against odd hand-written `Deserialize` impls.
        let exhausted = masks.len() > data.len() + MAX_EXTRA_ROUNDS;
        match error.field() {
            Some(key) if !masks.contains_key(key) && !exhausted => {
                errors.add(key, error.message());
                let mask = match error.kind {
                    Kind::UnknownField => Mask::Hide,
                    _ => Mask::Placeholder,
                };
                masks.insert(key.to_string(), mask);
            }
            _ if errors.is_empty() => return Err(Error::msg(error.message())),
            _ => return Err(errors.into()),
        }
    }
}
