//! Plain HTML form posts (the no-JavaScript tier): `application/x-www-form-urlencoded`
//! and `multipart/form-data` bodies turned into an [`ActionMessage`].
//!
//! # Which action a form post runs
//!
//! The first rule that gives a non-empty name wins:
//!
//! 1. the field `lvt-action` (its first value);
//! 2. the field `lvt-submitter` (its first value; also recorded as the submitter);
//! 3. the clicked button, detected among the *candidate* fields: fields with exactly one
//!    value, excluding `lvt-action`, `lvt-submitter`, the field named `action` (ordinary
//!    data, never routing), the empty name and, in multipart bodies, `data`. With
//!    `known` telling which names are actions:
//!    1. exactly one candidate has an empty value and a known name → it
//!       (a valueless `<button name="save">` submits `save=`);
//!    2. else, if no empty-valued candidate has a known name and exactly one candidate
//!       with a non-empty value has a known name → it, and its value becomes
//!       `data.value` (a valued `<button name="delete" value="7">`, read the way the
//!       browser client reads it);
//!    3. else, exactly one candidate has an empty value → it, whatever its name (the
//!       original framework's rule; with no known names this is the only rule);
//!    4. else nothing (zero or several candidates: ambiguous);
//! 4. `"submit"`.
//!
//! A button found by rule 3 is also the [`ActionMessage::submitter`] and is removed
//! from the data, as are `lvt-action` and `lvt-submitter`. Rule 3 is skipped when a
//! multipart `data` part holds JSON (see below). Caveat of rule 3.2: a text input named
//! after an action and filled in looks exactly like a valued button; name data inputs
//! differently, or route with a hidden `lvt-action` input.
//!
//! # Data
//!
//! Every other field becomes a string (a repeated name becomes an array of strings, in
//! order); values are **not** coerced (see [`parse_value`](super::parse_value) for why
//! this does not matter to typed code). In multipart bodies a `data` part holding a JSON
//! object replaces the individual fields entirely; a `data` part that is not a JSON
//! object is an ordinary field. File parts are not data: their contents are dropped and
//! their non-empty file names are listed in `extra["files"]` (`{"field": ["a.png"]}`).

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use super::error::InputError;
use super::message::{parse_message, resolve_action_name, ActionMessage};
use super::multipart::{boundary, parse_header_value, parse_multipart};

/// Field that names the action explicitly.
pub const LVT_ACTION_FIELD: &str = "lvt-action";
/// Field that names the clicked submit button explicitly.
pub const LVT_SUBMITTER_FIELD: &str = "lvt-submitter";

/// Parse a plain form post with the original framework's action detection (no known
/// action names; see the [module docs](self) for the rules).
///
/// `content_type` is the request's `Content-Type` header.
///
/// # Errors
///
/// [`InputError::TooLarge`] above `max_len` bytes, [`InputError::MissingContentType`],
/// [`InputError::UnsupportedContentType`] for anything but the two form encodings, and
/// the multipart errors ([`InputError::MissingBoundary`], [`InputError::InvalidBoundary`],
/// [`InputError::Multipart`]).
///
/// # Examples
///
/// ```
/// use livetemplate_runtime::input::parse_form_post;
///
/// let msg = parse_form_post(
///     Some("application/x-www-form-urlencoded"),
///     b"title=Hi&increment=",
///     1024,
/// )
/// .unwrap();
/// assert_eq!(msg.action, "increment");
/// assert_eq!(msg.data["title"], "Hi");
/// ```
pub fn parse_form_post(
    content_type: Option<&str>,
    body: &[u8],
    max_len: usize,
) -> Result<ActionMessage, InputError> {
    parse_form_post_with_actions(content_type, body, max_len, &|_| false)
}

/// Parse a plain form post, using `known` (is this name an action of the page?) to
/// find the clicked button where the original rules cannot: an ambiguous form, or a
/// button with a value. See the [module docs](self) for the exact rules.
///
/// # Errors
///
/// As [`parse_form_post`].
///
/// # Examples
///
/// ```
/// use livetemplate_runtime::input::parse_form_post_with_actions;
///
/// let known = |name: &str| name == "delete";
/// let ct = Some("application/x-www-form-urlencoded");
/// let msg = parse_form_post_with_actions(ct, b"note=&delete=7", 1024, &known).unwrap();
/// assert_eq!(msg.action, "delete");
/// assert_eq!(msg.data["value"], "7");
/// ```
pub fn parse_form_post_with_actions(
    content_type: Option<&str>,
    body: &[u8],
    max_len: usize,
    known: &dyn Fn(&str) -> bool,
) -> Result<ActionMessage, InputError> {
    if body.len() > max_len {
        return Err(InputError::TooLarge {
            len: body.len(),
            max: max_len,
        });
    }
    let content_type = content_type.ok_or(InputError::MissingContentType)?;
    let (essence, _) = parse_header_value(content_type);
    let essence = essence.to_ascii_lowercase();
    match essence.as_str() {
        "application/x-www-form-urlencoded" => {
            let mut fields = Fields::new();
            for (k, v) in form_urlencoded::parse(body) {
                fields.push(k.into_owned(), v.into_owned());
            }
            Ok(build(fields, None, Map::new(), false, known))
        }
        "multipart/form-data" => {
            let boundary = boundary(content_type)?;
            let mut fields = Fields::new();
            let mut files: BTreeMap<String, Vec<Value>> = BTreeMap::new();
            for part in parse_multipart(body, &boundary)? {
                match &part.filename {
                    Some(filename) => {
                        if !filename.is_empty() {
                            files
                                .entry(part.name)
                                .or_default()
                                .push(filename.clone().into());
                        }
                    }
                    None => {
                        let text = part.text();
                        fields.push(part.name, text);
                    }
                }
            }
            let json_data = fields
                .first("data")
                .and_then(|s| match serde_json::from_str(s) {
                    Ok(Value::Object(m)) => Some(m),
                    _ => None,
                });
            let mut extra = Map::new();
            if !files.is_empty() {
                let files = files
                    .into_iter()
                    .map(|(k, v)| (k, Value::Array(v)))
                    .collect();
                extra.insert("files".into(), Value::Object(files));
            }
            Ok(build(fields, json_data, extra, true, known))
        }
        _ => Err(InputError::UnsupportedContentType(essence)),
    }
}

/// Parse any action POST body: JSON (`application/json`, or no content type) with
/// [`parse_message`], the form encodings with [`parse_form_post_with_actions`].
///
/// # Errors
///
/// Those of [`parse_message`] (plus [`InputError::NotUtf8`]) and of
/// [`parse_form_post`].
pub fn parse_post_body(
    content_type: Option<&str>,
    body: &[u8],
    max_len: usize,
    known: &dyn Fn(&str) -> bool,
) -> Result<ActionMessage, InputError> {
    let is_json = match content_type {
        None => true,
        Some(ct) => parse_header_value(ct)
            .0
            .eq_ignore_ascii_case("application/json"),
    };
    if !is_json {
        return parse_form_post_with_actions(content_type, body, max_len, known);
    }
    if body.len() > max_len {
        return Err(InputError::TooLarge {
            len: body.len(),
            max: max_len,
        });
    }
    let text = std::str::from_utf8(body).map_err(|_| InputError::NotUtf8)?;
    parse_message(text, max_len)
}

/// Form fields by name, values in submission order.
struct Fields(BTreeMap<String, Vec<String>>);

impl Fields {
    fn new() -> Fields {
        Fields(BTreeMap::new())
    }

    fn push(&mut self, name: String, value: String) {
        self.0.entry(name).or_default().push(value);
    }

    /// The first value of `name`, if non-empty.
    fn first(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }
}

fn build(
    fields: Fields,
    json_data: Option<Map<String, Value>>,
    extra: Map<String, Value>,
    multipart: bool,
    known: &dyn Fn(&str) -> bool,
) -> ActionMessage {
    let mut action = fields
        .first(LVT_ACTION_FIELD)
        .unwrap_or_default()
        .to_string();
    let mut submitter = fields.first(LVT_SUBMITTER_FIELD).map(str::to_string);
    let mut button: Option<(String, String)> = None;
    if action.is_empty() && submitter.is_none() && json_data.is_none() {
        button = detect_button(&fields, multipart, known);
        if let Some((name, _)) = &button {
            submitter = Some(name.clone());
        }
    }
    if let Some((name, _)) = &button {
        action = name.clone();
    }
    let action = resolve_action_name(action, submitter.as_deref());

    let data = match json_data {
        Some(data) => data,
        None => {
            let mut data = Map::new();
            for (name, mut values) in fields.0 {
                let is_button = button.as_ref().is_some_and(|(b, _)| *b == name);
                if name == LVT_ACTION_FIELD || name == LVT_SUBMITTER_FIELD || is_button {
                    continue;
                }
                let value = if values.len() == 1 {
                    Value::String(values.pop().unwrap_or_default())
                } else {
                    Value::Array(values.into_iter().map(Value::String).collect())
                };
                data.insert(name, value);
            }
            if let Some((_, value)) = button.filter(|(_, v)| !v.is_empty()) {
                data.insert("value".into(), Value::String(value));
            }
            data
        }
    };
    ActionMessage {
        action,
        data,
        submitter,
        extra,
    }
}

/// Rule 3 of the module docs: the clicked button's name and value.
fn detect_button(
    fields: &Fields,
    multipart: bool,
    known: &dyn Fn(&str) -> bool,
) -> Option<(String, String)> {
    let candidates: Vec<(&str, &str)> = fields
        .0
        .iter()
        .filter(|(name, values)| {
            values.len() == 1
                && !name.is_empty()
                && *name != "action"
                && *name != LVT_ACTION_FIELD
                && *name != LVT_SUBMITTER_FIELD
                && !(multipart && *name == "data")
        })
        .map(|(name, values)| (name.as_str(), values[0].as_str()))
        .collect();
    let only = |list: Vec<(&str, &str)>| match list.as_slice() {
        [(name, value)] => Some((name.to_string(), value.to_string())),
        _ => None,
    };
    let empty: Vec<_> = candidates
        .iter()
        .copied()
        .filter(|(_, v)| v.is_empty())
        .collect();
    let empty_known: Vec<_> = empty.iter().copied().filter(|(n, _)| known(n)).collect();
    if empty_known.len() == 1 {
        return only(empty_known);
    }
    if empty_known.is_empty() {
        let valued_known: Vec<_> = candidates
            .iter()
            .copied()
            .filter(|(n, v)| !v.is_empty() && known(n))
            .collect();
        if valued_known.len() == 1 {
            return only(valued_known);
        }
    }
    only(empty)
}
