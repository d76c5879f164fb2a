//! The JSON action message: WebSocket text frames and JSON POST bodies.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::error::InputError;

/// The action name used when a message or form names none.
pub const DEFAULT_ACTION: &str = "submit";

/// One action request from a browser, whatever the transport.
///
/// Built by [`parse_message`] (WebSocket frames, JSON POST bodies) and by
/// [`parse_form_post`](super::parse_form_post) (plain HTML form posts).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ActionMessage {
    /// The action to run; never empty (defaults to `"submit"`).
    pub action: String,
    /// The action data: form fields, button value, `data-*` attributes.
    pub data: Map<String, Value>,
    /// The name of the clicked submit button, when known.
    pub submitter: Option<String>,
    /// Other top-level keys, kept as they came.
    ///
    /// For JSON messages: every key except `action`, `data` and `submitter` (upload
    /// messages carry `upload_name`, `files`, `entry_id`, …). For form posts: `files`,
    /// an object mapping each file field to the list of its non-empty file names
    /// (the file contents themselves are not kept), present only when files were sent.
    pub extra: Map<String, Value>,
}

/// Parse one JSON action message (a WebSocket text frame or a JSON POST body).
///
/// Rules:
/// - the input must be at most `max_len` bytes and a JSON object;
/// - `action` must be present and a string; when it is empty the action is
///   `submitter` if that is a non-empty string, else `"submit"`;
/// - `data` absent (or `null`) means `{}`; any other non-object is an error; its values
///   are kept as they are (including redaction objects, see [`is_redacted`]);
/// - `submitter` may be absent, `null` or a string (an empty string counts as absent);
/// - every other top-level key goes to [`ActionMessage::extra`].
///
/// # Errors
///
/// [`InputError::TooLarge`], [`InputError::Json`], [`InputError::NotAnObject`],
/// [`InputError::MissingAction`], [`InputError::ActionNotString`],
/// [`InputError::DataNotObject`], [`InputError::SubmitterNotString`].
///
/// # Examples
///
/// ```
/// use livetemplate_runtime::input::parse_message;
///
/// let msg = parse_message(r#"{"action":"","data":{"n":1},"submitter":"save"}"#, 1024).unwrap();
/// assert_eq!(msg.action, "save");
/// assert_eq!(msg.data["n"], 1);
/// ```
pub fn parse_message(text: &str, max_len: usize) -> Result<ActionMessage, InputError> {
    read_message(text, max_len).map(MessageRef::into_owned)
}

/// An action message as [`parse_message`] reads it, its strings borrowed from the
/// input where they have no escapes.
#[derive(Debug)]
pub(crate) struct MessageRef<'a> {
    /// Never empty (see [`ActionMessage::action`]).
    pub(crate) action: Cow<'a, str>,
    pub(crate) data: Map<String, Value>,
    pub(crate) submitter: Option<Cow<'a, str>>,
    pub(crate) extra: Map<String, Value>,
}

impl MessageRef<'_> {
    fn into_owned(self) -> ActionMessage {
        ActionMessage {
            action: self.action.into_owned(),
            data: self.data,
            submitter: self.submitter.map(Cow::into_owned),
            extra: self.extra,
        }
    }
}

/// [`parse_message`] without copying the strings.
pub(crate) fn read_message(text: &str, max_len: usize) -> Result<MessageRef<'_>, InputError> {
    if text.len() > max_len {
        return Err(InputError::TooLarge {
            len: text.len(),
            max: max_len,
        });
    }
    let fields = match plain_fields(text) {
        Some(fields) => fields,
        None => {
            let Top(fields) = serde_json::from_str(text).map_err(InputError::Json)?;
            fields.ok_or(InputError::NotAnObject)?
        }
    };
    let action = match fields.action {
        None => return Err(InputError::MissingAction),
        Some(Field::Str(s)) => s,
        Some(_) => return Err(InputError::ActionNotString),
    };
    let data = match fields.data {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(InputError::DataNotObject),
    };
    let submitter = match fields.submitter {
        None | Some(Field::Null) => None,
        Some(Field::Str(s)) if s.is_empty() => None,
        Some(Field::Str(s)) => Some(s),
        Some(Field::Other) => return Err(InputError::SubmitterNotString),
    };
    // An empty action falls back to the submitter, then to `"submit"`.
    let action = match (action.is_empty(), &submitter) {
        (false, _) => action,
        (true, Some(s)) => s.clone(),
        (true, None) => Cow::Borrowed(DEFAULT_ACTION),
    };
    Ok(MessageRef {
        action,
        data,
        submitter,
        extra: fields.extra,
    })
}

/// The top level of the message a browser sends for a click, read without a JSON
/// parser: `{"action":"…","data":{},"submitter":"…"}` (keys in any order, `data` and
/// `submitter` optional) with no spaces and strings without escapes or control
/// characters. `None` for anything else: the JSON reader then reads it, with the same
/// result (it would borrow the same strings).
pub(crate) fn plain_fields(text: &str) -> Option<TopFields<'_>> {
    let mut rest = text.strip_prefix('{')?.strip_suffix('}')?;
    let mut fields = TopFields::default();
    loop {
        let (key, after) = plain_string(rest)?;
        rest = after.strip_prefix(':')?;
        match key {
            "action" | "submitter" => {
                let (value, after) = plain_string(rest)?;
                let slot = if key == "action" {
                    &mut fields.action
                } else {
                    &mut fields.submitter
                };
                if slot.replace(Field::Str(Cow::Borrowed(value))).is_some() {
                    return None; // a repeated key: the JSON reader keeps the last one
                }
                rest = after;
            }
            "data" => {
                rest = rest.strip_prefix("{}")?;
                if fields.data.replace(Value::Object(Map::new())).is_some() {
                    return None;
                }
            }
            _ => return None,
        }
        if rest.is_empty() {
            return Some(fields);
        }
        rest = rest.strip_prefix(',')?;
    }
}

/// The JSON string at the start of `s` when it has no escapes and no control
/// characters: its text, and what follows it.
fn plain_string(s: &str) -> Option<(&str, &str)> {
    let body = s.strip_prefix('"')?;
    let end = body
        .bytes()
        .position(|b| b == b'"' || b == b'\\' || b < 0x20)?;
    // The byte at `end` is ASCII: both slices are on character boundaries.
    (body.as_bytes()[end] == b'"').then(|| (&body[..end], &body[end + 1..]))
}

/// A message's top level, read in one pass (as a `Value` would be, the last of equal
/// keys winning): the known keys into their slots, the others into `extra`; `None` when
/// the JSON is not an object.
struct Top<'de>(Option<TopFields<'de>>);

#[derive(Debug, Default)]
pub(crate) struct TopFields<'de> {
    action: Option<Field<'de>>,
    data: Option<Value>,
    submitter: Option<Field<'de>>,
    extra: Map<String, Value>,
}

/// A value that should be a string: the string (borrowed when it has no escapes),
/// `null`, or anything else (read through and dropped).
#[derive(Debug)]
enum Field<'de> {
    Str(Cow<'de, str>),
    Null,
    Other,
}

impl<'de> Deserialize<'de> for Top<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Top<'de>, D::Error> {
        d.deserialize_any(TopVisitor)
    }
}

struct TopVisitor;

/// Visitor methods that ignore their argument and answer `$answer`.
macro_rules! answer {
    ($ret:ty => $answer:expr; $($method:ident($ty:ty)),* $(,)?) => {
        $(
            fn $method<E: de::Error>(self, _: $ty) -> Result<$ret, E> {
                Ok($answer)
            }
        )*
    };
}

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Top<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top<'de>, A::Error> {
        let mut fields = TopFields::default();
        while let Some(Key(key)) = map.next_key::<Key<'de>>()? {
            match &*key {
                "action" => fields.action = Some(map.next_value()?),
                "data" => fields.data = Some(map.next_value()?),
                "submitter" => fields.submitter = Some(map.next_value()?),
                _ => {
                    let value = map.next_value()?;
                    fields.extra.insert(key.into_owned(), value);
                }
            }
        }
        Ok(Top(Some(fields)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Top<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Top(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Top<'de>, E> {
        Ok(Top(None))
    }

    // Any other JSON value: not a message (its inside is still checked as JSON).
    answer!(Top<'de> => Top(None);
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_i128(i128),
        visit_u128(u128),
        visit_f64(f64),
        visit_str(&str),
    );
}

impl<'de> Deserialize<'de> for Field<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Field<'de>, D::Error> {
        d.deserialize_any(FieldVisitor)
    }
}

struct FieldVisitor;

impl<'de> Visitor<'de> for FieldVisitor {
    type Value = Field<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Field<'de>, E> {
        Ok(Field::Str(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Field<'de>, E> {
        Ok(Field::Str(Cow::Owned(v.to_owned())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Field<'de>, E> {
        Ok(Field::Str(Cow::Owned(v)))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Field<'de>, E> {
        Ok(Field::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Field::Other)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Field::Other)
    }

    answer!(Field<'de> => Field::Other;
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_i128(i128),
        visit_u128(u128),
        visit_f64(f64),
    );
}

/// An object key, borrowed from the input when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key<'de>, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

/// An empty action falls back to the submitter, then to `"submit"`.
pub(crate) fn resolve_action_name(action: String, submitter: Option<&str>) -> String {
    if !action.is_empty() {
        return action;
    }
    match submitter {
        Some(s) if !s.is_empty() => s.to_string(),
        _ => DEFAULT_ACTION.to_string(),
    }
}

/// Whether `value` is a redaction placeholder: the object
/// `{"redacted": true, "field": …}` the client sends instead of a `data-lvt-redact`
/// field's value, or that object JSON-encoded as a string (multipart paths).
pub fn is_redacted(value: &Value) -> bool {
    fn is_marker(m: &Map<String, Value>) -> bool {
        m.get("redacted") == Some(&Value::Bool(true))
    }
    match value {
        Value::Object(m) => is_marker(m),
        Value::String(s) if s.starts_with('{') && s.contains("redacted") => {
            matches!(serde_json::from_str::<Value>(s), Ok(Value::Object(m)) if is_marker(&m))
        }
        _ => false,
    }
}
