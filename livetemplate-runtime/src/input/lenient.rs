//! A forgiving `serde` deserializer over action data, so that one typed struct reads
//! the JavaScript client's coerced values and plain form posts' strings alike.
//!
//! Coercions (the target type decides):
//! - integers: numbers without a fractional part, and strings that parse as integers
//!   (surrounding whitespace ignored; `"1e3"` and `"5.0"` too); out-of-range is an error;
//! - floats: numbers, and strings that parse as finite numbers;
//! - `bool`: booleans; `"true"`/`"on"`/`"1"` and `"false"`/`"off"`/`"0"` (any case);
//!   the numbers 1 and 0;
//! - `String`: strings as they are; numbers and booleans printed (`42` → `"42"`);
//! - `Option<T>`: `null`, `""` and `[]` are `None`;
//! - an empty string (or `null`) where a number, boolean or text is required counts as
//!   a missing value;
//! - sequences (`Vec<T>`, sets, tuples): arrays; a single value is a one-element list;
//!   `""` and `null` are empty lists;
//! - a scalar target given an array takes its **last** element (as the browser client
//!   does for repeated names);
//! - enums: a string names a unit variant (numbers and booleans are printed first);
//!   a one-key object is an externally tagged variant;
//! - redaction placeholders (see [`is_redacted`]) are skipped as if absent.
//!
//! `deserialize_any` (used by `serde_json::Value` fields, `#[serde(flatten)]` and
//! untagged enums) sees values as they are, without coercion.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde::de::value::StringDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, Visitor};
use serde_json::{Map, Value};

use super::message::is_redacted;

/// How deep placeholder values may nest before giving up (guards recursive types).
const MAX_PLACEHOLDER_DEPTH: u8 = 16;

/// One step of the path to a failing value.
#[derive(Clone, Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// What went wrong, before the field name is known.
#[derive(Clone, Debug)]
pub(crate) enum Kind {
    /// A required field is absent (from `serde`'s `missing_field`).
    MissingField(String),
    /// The value is present but empty (`""` or `null`) where something is required.
    Required,
    /// The value cannot be read as the target type; the text says what is expected
    /// (`"a whole number"`).
    Invalid(String),
    /// The key is not a field of the target (`#[serde(deny_unknown_fields)]`).
    UnknownField,
    /// Any other message (from a type's own `Deserialize` impl).
    Custom(String),
}

/// The error of the lenient deserializer: a kind plus where it happened.
#[derive(Clone, Debug)]
pub(crate) struct LenientError {
    path: Vec<Step>,
    pub(crate) kind: Kind,
}

impl LenientError {
    fn new(kind: Kind) -> LenientError {
        LenientError {
            path: Vec::new(),
            kind,
        }
    }

    fn invalid(expected: impl Into<String>) -> LenientError {
        LenientError::new(Kind::Invalid(expected.into()))
    }

    fn at(mut self, step: Step) -> LenientError {
        self.path.insert(0, step);
        self
    }

    /// The top-level data key the error belongs to, if any.
    pub(crate) fn field(&self) -> Option<&str> {
        match self.path.first() {
            Some(Step::Key(k)) => Some(k),
            Some(Step::Index(_)) => None,
            None => match &self.kind {
                Kind::MissingField(f) => Some(f),
                _ => None,
            },
        }
    }

    /// The full name of the failing value, as forms spell it: `address.city`,
    /// `tags[2]`.
    fn name(&self) -> Option<String> {
        let mut name = String::new();
        let missing = match &self.kind {
            Kind::MissingField(f) => Some(Step::Key(f.clone())),
            _ => None,
        };
        for step in self.path.iter().chain(missing.as_ref()) {
            match step {
                Step::Key(k) if name.is_empty() => name.push_str(k),
                Step::Key(k) => {
                    name.push('.');
                    name.push_str(k);
                }
                Step::Index(i) => name.push_str(&format!("[{i}]")),
            }
        }
        (!name.is_empty()).then_some(name)
    }

    /// The user-facing message, naming the field:
    /// `"<name> is required"`, `"<name> must be <expected>"`,
    /// `"<name> is not an expected field"`, `"<name> is invalid: <detail>"`.
    /// Without a name, the same sentences about "the form data".
    pub(crate) fn message(&self) -> String {
        let name = self.name().unwrap_or_else(|| "the form data".to_string());
        match &self.kind {
            Kind::MissingField(_) | Kind::Required => format!("{name} is required"),
            Kind::Invalid(expected) => format!("{name} must be {expected}"),
            Kind::UnknownField => format!("{name} is not an expected field"),
            Kind::Custom(detail) => format!("{name} is invalid: {detail}"),
        }
    }
}

impl fmt::Display for LenientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for LenientError {}

impl de::Error for LenientError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        LenientError::new(Kind::Custom(msg.to_string()))
    }

    fn invalid_type(_unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        LenientError::invalid(exp.to_string())
    }

    fn invalid_value(_unexp: de::Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        LenientError::invalid(exp.to_string())
    }

    fn invalid_length(_len: usize, exp: &dyn de::Expected) -> Self {
        LenientError::invalid(exp.to_string())
    }

    fn unknown_variant(_variant: &str, expected: &'static [&'static str]) -> Self {
        LenientError::invalid(one_of(expected))
    }

    fn unknown_field(_field: &str, _expected: &'static [&'static str]) -> Self {
        LenientError::new(Kind::UnknownField)
    }

    fn missing_field(field: &'static str) -> Self {
        LenientError::new(Kind::MissingField(field.to_string()))
    }
}

fn one_of(options: &[&str]) -> String {
    match options {
        [] => "valid".to_string(),
        [one] => format!("{one:?}"),
        _ => {
            let list: Vec<String> = options.iter().map(|o| format!("{o:?}")).collect();
            format!("one of {}", list.join(", "))
        }
    }
}

/// How the top level treats a data key that already failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Mask {
    /// Replace the value by a placeholder that deserializes into a default of any
    /// type, so the field no longer fails (and no longer counts as missing).
    Placeholder,
    /// Leave the key out.
    Hide,
}

/// The top-level deserializer: the data object, with failed keys masked.
pub(crate) struct TopLevel<'de> {
    pub(crate) data: &'de Map<String, Value>,
    pub(crate) masks: &'de BTreeMap<String, Mask>,
}

impl<'de> TopLevel<'de> {
    fn entries(&self) -> Vec<(&'de str, Lenient<'de>)> {
        let masks = self.masks;
        let mut entries = Vec::with_capacity(self.data.len() + masks.len());
        for (key, value) in self.data {
            match masks.get(key) {
                Some(Mask::Hide) => {}
                Some(Mask::Placeholder) => entries.push((key.as_str(), Lenient::Placeholder(0))),
                None if is_redacted(value) => {}
                None => entries.push((key.as_str(), Lenient::Val(value))),
            }
        }
        for (key, mask) in masks {
            if *mask == Mask::Placeholder && !self.data.contains_key(key) {
                entries.push((key.as_str(), Lenient::Placeholder(0)));
            }
        }
        entries
    }
}

impl<'de> Deserializer<'de> for TopLevel<'de> {
    type Error = LenientError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
        visitor.visit_map(MapAcc::new(self.entries()))
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
        visitor.visit_some(self)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, LenientError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, LenientError> {
        visitor.visit_unit()
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, LenientError> {
        visitor.visit_unit()
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        seq tuple tuple_struct map struct enum identifier
    }
}

/// A value the lenient rules apply to.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Lenient<'de> {
    /// A JSON value.
    Val(&'de Value),
    /// A bare string (a map key).
    Str(&'de str),
    /// A stand-in for a value that already failed: any type's default.
    Placeholder(u8),
}

impl<'de> Lenient<'de> {
    /// For scalar targets: an array stands for its last element.
    fn last(self) -> Lenient<'de> {
        match self {
            Lenient::Val(Value::Array(items)) => items.last().map_or(self, Lenient::Val),
            other => other,
        }
    }

    fn text(self) -> Option<&'de str> {
        match self {
            Lenient::Val(Value::String(s)) => Some(s),
            Lenient::Str(s) => Some(s),
            _ => None,
        }
    }

    /// `null`, `""` or `[]`: no value at all.
    fn is_blank(self) -> bool {
        match self {
            Lenient::Val(Value::Null) => true,
            Lenient::Val(Value::Array(items)) => items.is_empty(),
            other => other.text() == Some(""),
        }
    }

    fn integer(self, expected: &str) -> Result<i128, LenientError> {
        let this = self.last();
        if this.is_blank() {
            return Err(LenientError::new(Kind::Required));
        }
        let from_float =
            |f: f64| (f.is_finite() && f.fract() == 0.0 && f.abs() < 1e38).then_some(f as i128);
        let parsed = match this {
            Lenient::Val(Value::Number(n)) => n
                .as_i64()
                .map(i128::from)
                .or_else(|| n.as_u64().map(i128::from))
                .or_else(|| n.as_f64().and_then(from_float)),
            other => other.text().and_then(|s| {
                let s = s.trim();
                s.parse::<i128>()
                    .ok()
                    .or_else(|| s.parse::<f64>().ok().and_then(from_float))
            }),
        };
        parsed.ok_or_else(|| LenientError::invalid(expected))
    }

    fn float(self) -> Result<f64, LenientError> {
        let this = self.last();
        if this.is_blank() {
            return Err(LenientError::new(Kind::Required));
        }
        let parsed = match this {
            Lenient::Val(Value::Number(n)) => n.as_f64(),
            other => other.text().and_then(|s| s.trim().parse::<f64>().ok()),
        };
        parsed
            .filter(|f| f.is_finite())
            .ok_or_else(|| LenientError::invalid("a number"))
    }

    fn boolean(self) -> Result<bool, LenientError> {
        let this = self.last();
        if this.is_blank() {
            return Err(LenientError::new(Kind::Required));
        }
        let parsed = match this {
            Lenient::Val(Value::Bool(b)) => Some(*b),
            Lenient::Val(Value::Number(n)) => match n.as_f64() {
                Some(1.0) => Some(true),
                Some(0.0) => Some(false),
                _ => None,
            },
            other => other.text().and_then(|s| {
                let s = s.trim();
                if ["true", "on", "1"]
                    .iter()
                    .any(|t| s.eq_ignore_ascii_case(t))
                {
                    Some(true)
                } else if ["false", "off", "0"]
                    .iter()
                    .any(|t| s.eq_ignore_ascii_case(t))
                {
                    Some(false)
                } else {
                    None
                }
            }),
        };
        parsed.ok_or_else(|| LenientError::invalid("true or false"))
    }

    fn string(self) -> Result<Cow<'de, str>, LenientError> {
        match self.last() {
            Lenient::Val(Value::String(s)) => Ok(Cow::Borrowed(s)),
            Lenient::Str(s) => Ok(Cow::Borrowed(s)),
            Lenient::Val(Value::Number(n)) => Ok(Cow::Owned(n.to_string())),
            Lenient::Val(Value::Bool(b)) => Ok(Cow::Borrowed(if *b { "true" } else { "false" })),
            Lenient::Val(Value::Null) => Err(LenientError::new(Kind::Required)),
            Lenient::Val(Value::Array(_)) => Err(LenientError::new(Kind::Required)),
            Lenient::Val(Value::Object(_)) => Err(LenientError::invalid("text")),
            Lenient::Placeholder(_) => Ok(Cow::Borrowed("")),
        }
    }

    /// The elements when read as a list.
    fn elements(self) -> Result<Vec<Lenient<'de>>, LenientError> {
        match self {
            Lenient::Val(Value::Array(items)) => Ok(items.iter().map(Lenient::Val).collect()),
            Lenient::Val(Value::Object(_)) => Err(LenientError::invalid("a list")),
            Lenient::Placeholder(_) => Ok(Vec::new()),
            other if other.is_blank() => Ok(Vec::new()),
            other => Ok(vec![other]),
        }
    }

    fn entries(self) -> Result<Vec<(&'de str, Lenient<'de>)>, LenientError> {
        match self {
            Lenient::Val(Value::Object(map)) => Ok(map
                .iter()
                .filter(|(_, v)| !is_redacted(v))
                .map(|(k, v)| (k.as_str(), Lenient::Val(v)))
                .collect()),
            _ => Err(LenientError::invalid("a group of fields")),
        }
    }

    fn deeper(depth: u8) -> Result<Lenient<'de>, LenientError> {
        if depth >= MAX_PLACEHOLDER_DEPTH {
            return Err(LenientError::new(Kind::Custom("nested too deeply".into())));
        }
        Ok(Lenient::Placeholder(depth + 1))
    }
}

macro_rules! lenient_integers {
    ($($method:ident $visit:ident $ty:ty;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
            if let Lenient::Placeholder(_) = self {
                return visitor.$visit(0);
            }
            let range = || format!("a whole number between {} and {}", <$ty>::MIN, <$ty>::MAX);
            let n = self.integer("a whole number")?;
            let n = <$ty>::try_from(n).map_err(|_| LenientError::invalid(range()))?;
            visitor.$visit(n)
        }
    )*};
}

impl<'de> Deserializer<'de> for Lenient<'de> {
    type Error = LenientError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
        match self {
            Lenient::Placeholder(_) => visitor.visit_unit(),
            Lenient::Str(s) => visitor.visit_borrowed_str(s),
            Lenient::Val(value) => match value {
                Value::Null => visitor.visit_unit(),
                Value::Bool(b) => visitor.visit_bool(*b),
                Value::Number(n) => {
                    if let Some(i) = n.as_u64() {
                        visitor.visit_u64(i)
                    } else if let Some(i) = n.as_i64() {
                        visitor.visit_i64(i)
                    } else {
                        visitor.visit_f64(n.as_f64().unwrap_or(f64::NAN))
                    }
                }
                Value::String(s) => visitor.visit_borrowed_str(s),
                Value::Array(_) => self.deserialize_seq(visitor),
                Value::Object(_) => self.deserialize_map(visitor),
            },
        }
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
        match self {
            Lenient::Placeholder(_) => visitor.visit_bool(false),
            _ => visitor.visit_bool(self.boolean()?),
        }
    }

    lenient_integers! {
        deserialize_i8 visit_i8 i8;
        deserialize_i16 visit_i16 i16;
        deserialize_i32 visit_i32 i32;
        deserialize_i64 visit_i64 i64;
        deserialize_i128 visit_i128 i128;
        deserialize_u8 visit_u8 u8;
        deserialize_u16 visit_u16 u16;
        deserialize_u32 visit_u32 u32;
        deserialize_u64 visit_u64 u64;
        deserialize_u128 visit_u128 u128;
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
        if let Lenient::Placeholder(_) = self {
            return visitor.visit_f32(0.0);
        }
        let f = self.float()?;
        if f.abs() > f64::from(f32::MAX) {
            return Err(LenientError::invalid("a smaller number"));
        }
        visitor.visit_f32(f as f32)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
        match self {
            Lenient::Placeholder(_) => visitor.visit_f64(0.0),
            _ => visitor.visit_f64(self.float()?),
        }
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
        if let Lenient::Placeholder(_) = self {
            return visitor.visit_char('\0');
        }
        let s = self.string()?;
        let mut chars = s.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => visitor.visit_char(c),
            (None, _) => Err(LenientError::new(Kind::Required)),
            _ => Err(LenientError::invalid("a single character")),
        }
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
        match self.string()? {
            Cow::Borrowed(s) => visitor.visit_borrowed_str(s),
            Cow::Owned(s) => visitor.visit_string(s),
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
        match self.string()? {
            Cow::Borrowed(s) => visitor.visit_borrowed_bytes(s.as_bytes()),
            Cow::Owned(s) => visitor.visit_byte_buf(s.into_bytes()),
        }
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
        self.deserialize_bytes(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
        match self {
            Lenient::Placeholder(_) => visitor.visit_none(),
            other if other.is_blank() => visitor.visit_none(),
            other => visitor.visit_some(other),
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
        visitor.visit_unit()
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, LenientError> {
        visitor.visit_unit()
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, LenientError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
        visitor.visit_seq(SeqAcc::new(self.elements()?))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, LenientError> {
        match self {
            Lenient::Placeholder(depth) => {
                let item = Lenient::deeper(depth)?;
                visitor.visit_seq(SeqAcc::new(vec![item; len]))
            }
            other => other.deserialize_seq(visitor),
        }
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, LenientError> {
        self.deserialize_tuple(len, visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
        match self {
            Lenient::Placeholder(_) => visitor.visit_map(MapAcc::new(Vec::new())),
            other => visitor.visit_map(MapAcc::new(other.entries()?)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, LenientError> {
        match self {
            Lenient::Placeholder(depth) => {
                let item = Lenient::deeper(depth)?;
                let entries = fields.iter().map(|f| (*f, item)).collect();
                visitor.visit_map(MapAcc::new(entries))
            }
            other => visitor.visit_map(MapAcc::new(other.entries()?)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, LenientError> {
        let expected = || LenientError::invalid(one_of(variants));
        match self.last() {
            Lenient::Placeholder(depth) => {
                let first = variants.first().ok_or_else(expected)?;
                let value = Lenient::deeper(depth)?;
                visitor.visit_enum(EnumAcc {
                    variant: Cow::Borrowed(first),
                    value: Some(value),
                })
            }
            Lenient::Val(Value::Object(map)) => {
                let mut entries = map.iter();
                match (entries.next(), entries.next()) {
                    (Some((k, v)), None) => visitor.visit_enum(EnumAcc {
                        variant: Cow::Borrowed(k.as_str()),
                        value: Some(Lenient::Val(v)),
                    }),
                    _ => Err(expected()),
                }
            }
            this if this.is_blank() => Err(LenientError::new(Kind::Required)),
            this => {
                let variant = this.string().map_err(|_| expected())?;
                visitor.visit_enum(EnumAcc {
                    variant,
                    value: None,
                })
            }
        }
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, LenientError> {
        match self {
            Lenient::Placeholder(_) => visitor.visit_str(""),
            other => match other.text() {
                Some(s) => visitor.visit_borrowed_str(s),
                None => other.deserialize_any(visitor),
            },
        }
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(
        self,
        visitor: V,
    ) -> Result<V::Value, LenientError> {
        visitor.visit_unit()
    }
}

struct SeqAcc<'de> {
    items: std::vec::IntoIter<Lenient<'de>>,
    index: usize,
}

impl<'de> SeqAcc<'de> {
    fn new(items: Vec<Lenient<'de>>) -> SeqAcc<'de> {
        SeqAcc {
            items: items.into_iter(),
            index: 0,
        }
    }
}

impl<'de> de::SeqAccess<'de> for SeqAcc<'de> {
    type Error = LenientError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, LenientError> {
        let Some(item) = self.items.next() else {
            return Ok(None);
        };
        let index = self.index;
        self.index += 1;
        seed.deserialize(item)
            .map(Some)
            .map_err(|e| e.at(Step::Index(index)))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapAcc<'de> {
    entries: std::vec::IntoIter<(&'de str, Lenient<'de>)>,
    pending: Option<(&'de str, Lenient<'de>)>,
}

impl<'de> MapAcc<'de> {
    fn new(entries: Vec<(&'de str, Lenient<'de>)>) -> MapAcc<'de> {
        MapAcc {
            entries: entries.into_iter(),
            pending: None,
        }
    }
}

impl<'de> de::MapAccess<'de> for MapAcc<'de> {
    type Error = LenientError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, LenientError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.pending = Some((key, value));
        seed.deserialize(Lenient::Str(key))
            .map(Some)
            .map_err(|e| e.at(Step::Key(key.to_string())))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, LenientError> {
        let (key, value) = self
            .pending
            .take()
            .ok_or_else(|| LenientError::new(Kind::Custom("value requested before key".into())))?;
        seed.deserialize(value)
            .map_err(|e| e.at(Step::Key(key.to_string())))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

struct EnumAcc<'de> {
    variant: Cow<'de, str>,
    value: Option<Lenient<'de>>,
}

impl<'de> de::EnumAccess<'de> for EnumAcc<'de> {
    type Error = LenientError;
    type Variant = VariantAcc<'de>;

    fn variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<(T::Value, VariantAcc<'de>), LenientError> {
        let tag = match self.variant {
            Cow::Borrowed(s) => seed.deserialize(Lenient::Str(s))?,
            Cow::Owned(s) => seed.deserialize(StringDeserializer::<LenientError>::new(s))?,
        };
        Ok((tag, VariantAcc { value: self.value }))
    }
}

struct VariantAcc<'de> {
    value: Option<Lenient<'de>>,
}

impl<'de> VariantAcc<'de> {
    fn value(self) -> Result<Lenient<'de>, LenientError> {
        self.value
            .ok_or_else(|| LenientError::invalid("a group of fields"))
    }
}

impl<'de> de::VariantAccess<'de> for VariantAcc<'de> {
    type Error = LenientError;

    fn unit_variant(self) -> Result<(), LenientError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, LenientError> {
        seed.deserialize(self.value()?)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, LenientError> {
        self.value()?.deserialize_tuple(len, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, LenientError> {
        self.value()?.deserialize_struct("", fields, visitor)
    }
}
