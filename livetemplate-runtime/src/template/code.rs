//! Element codes: an exact, compact record of the serializer calls a value makes.
//!
//! The in-place data writer (`data`) keeps one code per element of the lists at the top
//! of the data (lists not inside other lists). The next update first checks an element
//! against its code; when it matches, the element made the same serializer calls as the
//! value the data holds, so `serde_json::to_value` would give an equal value: the
//! element is left alone, without looking up its fields in the data.
//!
//! The encoding is self-delimiting (every compound value ends with [`END`], every string
//! carries its length), so equal codes mean equal call sequences. It is finer than the
//! JSON value (struct names, integer widths and the like are recorded), which costs at
//! most an element written again. Names (`&'static str`) are recorded by address, so
//! codes are only meaningful inside the process that made them; they are never stored.

use std::fmt;

use serde::ser::{self, Serialize};

/// Serializes `value` into `out`. Returns `false` (with `out` partly written) when the
/// value fails to serialize.
pub(crate) fn encode<T: Serialize + ?Sized>(value: &T, out: &mut Vec<u8>) -> bool {
    value.serialize(Coder(&mut Write(out))).is_ok()
}

/// Whether `value` serializes to exactly `code`.
pub(crate) fn matches<T: Serialize + ?Sized>(value: &T, code: &[u8]) -> bool {
    let mut check = Check(code);
    value.serialize(Coder(&mut check)).is_ok() && check.0.is_empty()
}

// Tags. Integers are widened (i8–i64 as i64, u8–u64 as u64): the JSON value does not
// tell them apart either.
const FALSE: u8 = 0;
const TRUE: u8 = 1;
const I64: u8 = 2;
const U64: u8 = 3;
const F32: u8 = 4;
const F64: u8 = 5;
const I128: u8 = 6;
const U128: u8 = 7;
const CHAR: u8 = 8;
const STR: u8 = 9;
const BYTES: u8 = 10;
const NONE: u8 = 11;
const SOME: u8 = 12;
const UNIT: u8 = 13;
const UNIT_STRUCT: u8 = 14;
const UNIT_VARIANT: u8 = 15;
const NEWTYPE_STRUCT: u8 = 16;
const NEWTYPE_VARIANT: u8 = 17;
const SEQ: u8 = 18;
const TUPLE: u8 = 19;
const TUPLE_STRUCT: u8 = 20;
const TUPLE_VARIANT: u8 = 21;
const MAP: u8 = 22;
const STRUCT: u8 = 23;
const STRUCT_VARIANT: u8 = 24;
const END: u8 = 25;

/// Where a code goes: written out, or checked against an existing code.
trait Sink {
    /// A fixed number of bytes (compared without a call when checking).
    fn put<const N: usize>(&mut self, bytes: [u8; N]) -> Result<(), Stop>;
    /// Bytes whose number is in the code before them.
    fn put_slice(&mut self, bytes: &[u8]) -> Result<(), Stop>;
}

/// Appends to a buffer.
struct Write<'a>(&'a mut Vec<u8>);

impl Sink for Write<'_> {
    #[inline]
    fn put<const N: usize>(&mut self, bytes: [u8; N]) -> Result<(), Stop> {
        self.0.extend_from_slice(&bytes);
        Ok(())
    }

    #[inline]
    fn put_slice(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        self.0.extend_from_slice(bytes);
        Ok(())
    }
}

/// Consumes an existing code, stopping at the first difference.
struct Check<'a>(&'a [u8]);

impl Sink for Check<'_> {
    #[inline]
    fn put<const N: usize>(&mut self, bytes: [u8; N]) -> Result<(), Stop> {
        match self.0.split_first_chunk::<N>() {
            Some((head, rest)) if *head == bytes => {
                self.0 = rest;
                Ok(())
            }
            _ => Err(Stop),
        }
    }

    #[inline]
    fn put_slice(&mut self, bytes: &[u8]) -> Result<(), Stop> {
        match self.0.split_at_checked(bytes.len()) {
            Some((head, rest)) if head == bytes => {
                self.0 = rest;
                Ok(())
            }
            _ => Err(Stop),
        }
    }
}

/// The value differs from the code (or failed to serialize).
#[derive(Debug)]
pub(crate) struct Stop;

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the value differs from its code")
    }
}

impl std::error::Error for Stop {}

impl ser::Error for Stop {
    fn custom<T: fmt::Display>(_: T) -> Self {
        Stop
    }
}

/// The serializer writing (or checking) a code.
struct Coder<'s, S>(&'s mut S);

impl<S: Sink> Coder<'_, S> {
    #[inline]
    fn tag(&mut self, tag: u8) -> Result<(), Stop> {
        self.0.put([tag])
    }

    /// A tag and a fixed-size payload.
    #[inline]
    fn fixed<const N: usize>(&mut self, tag: u8, payload: [u8; N]) -> Result<(), Stop> {
        self.tag(tag)?;
        self.0.put(payload)
    }

    /// A tag, then `bytes` with their length.
    #[inline]
    fn text(&mut self, tag: u8, bytes: &[u8]) -> Result<(), Stop> {
        self.fixed(tag, (bytes.len() as u64).to_le_bytes())?;
        self.0.put_slice(bytes)
    }

    /// A name (struct, field or variant): where it is, which tells it as well as its
    /// text (a `&'static str` does not move; equal names at two places only cost a
    /// write too many). Address and length in one word when they fit.
    #[inline]
    fn name(&mut self, name: &'static str) -> Result<(), Stop> {
        let (at, len) = (name.as_ptr() as u64, name.len() as u64);
        if at >> 48 == 0 && len < 1 << 15 {
            self.0.put((at | len << 48).to_le_bytes())
        } else {
            // Marked by the top bit, which a packed word never has.
            self.0.put((u64::MAX).to_le_bytes())?;
            self.0.put(at.to_le_bytes())?;
            self.0.put(len.to_le_bytes())
        }
    }

    fn reborrow(&mut self) -> Coder<'_, S> {
        Coder(&mut *self.0)
    }
}

impl<'s, S: Sink> ser::Serializer for Coder<'s, S> {
    type Ok = ();
    type Error = Stop;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(mut self, v: bool) -> Result<(), Stop> {
        self.tag(if v { TRUE } else { FALSE })
    }

    fn serialize_i8(self, v: i8) -> Result<(), Stop> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result<(), Stop> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result<(), Stop> {
        self.serialize_i64(i64::from(v))
    }

    fn serialize_i64(mut self, v: i64) -> Result<(), Stop> {
        self.fixed(I64, v.to_le_bytes())
    }

    fn serialize_i128(mut self, v: i128) -> Result<(), Stop> {
        self.fixed(I128, v.to_le_bytes())
    }

    fn serialize_u8(self, v: u8) -> Result<(), Stop> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result<(), Stop> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result<(), Stop> {
        self.serialize_u64(u64::from(v))
    }

    fn serialize_u64(mut self, v: u64) -> Result<(), Stop> {
        self.fixed(U64, v.to_le_bytes())
    }

    fn serialize_u128(mut self, v: u128) -> Result<(), Stop> {
        self.fixed(U128, v.to_le_bytes())
    }

    fn serialize_f32(mut self, v: f32) -> Result<(), Stop> {
        self.fixed(F32, v.to_bits().to_le_bytes())
    }

    fn serialize_f64(mut self, v: f64) -> Result<(), Stop> {
        self.fixed(F64, v.to_bits().to_le_bytes())
    }

    fn serialize_char(mut self, v: char) -> Result<(), Stop> {
        self.fixed(CHAR, u32::from(v).to_le_bytes())
    }

    fn serialize_str(mut self, v: &str) -> Result<(), Stop> {
        self.text(STR, v.as_bytes())
    }

    fn serialize_bytes(mut self, v: &[u8]) -> Result<(), Stop> {
        self.text(BYTES, v)
    }

    fn serialize_none(mut self) -> Result<(), Stop> {
        self.tag(NONE)
    }

    fn serialize_some<T: Serialize + ?Sized>(mut self, value: &T) -> Result<(), Stop> {
        self.tag(SOME)?;
        value.serialize(self)
    }

    fn serialize_unit(mut self) -> Result<(), Stop> {
        self.tag(UNIT)
    }

    fn serialize_unit_struct(mut self, name: &'static str) -> Result<(), Stop> {
        self.tag(UNIT_STRUCT)?;
        self.name(name)
    }

    fn serialize_unit_variant(
        mut self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
    ) -> Result<(), Stop> {
        self.tag(UNIT_VARIANT)?;
        self.name(name)?;
        self.name(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        mut self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.tag(NEWTYPE_STRUCT)?;
        self.name(name)?;
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        mut self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Stop> {
        self.tag(NEWTYPE_VARIANT)?;
        self.name(name)?;
        self.name(variant)?;
        value.serialize(self)
    }

    fn serialize_seq(mut self, _len: Option<usize>) -> Result<Self, Stop> {
        self.tag(SEQ)?;
        Ok(self)
    }

    fn serialize_tuple(mut self, _len: usize) -> Result<Self, Stop> {
        self.tag(TUPLE)?;
        Ok(self)
    }

    fn serialize_tuple_struct(mut self, name: &'static str, _len: usize) -> Result<Self, Stop> {
        self.tag(TUPLE_STRUCT)?;
        self.name(name)?;
        Ok(self)
    }

    fn serialize_tuple_variant(
        mut self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self, Stop> {
        self.tag(TUPLE_VARIANT)?;
        self.name(name)?;
        self.name(variant)?;
        Ok(self)
    }

    fn serialize_map(mut self, _len: Option<usize>) -> Result<Self, Stop> {
        self.tag(MAP)?;
        Ok(self)
    }

    fn serialize_struct(mut self, name: &'static str, _len: usize) -> Result<Self, Stop> {
        self.tag(STRUCT)?;
        self.name(name)?;
        Ok(self)
    }

    fn serialize_struct_variant(
        mut self,
        name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Self, Stop> {
        self.tag(STRUCT_VARIANT)?;
        self.name(name)?;
        self.name(variant)?;
        Ok(self)
    }
}

/// The compound serializers: elements in order, then [`END`]; struct fields are
/// preceded by their names.
macro_rules! compound {
    ($($trait:ident :: $method:ident),* $(,)?) => {
        $(
            impl<S: Sink> ser::$trait for Coder<'_, S> {
                type Ok = ();
                type Error = Stop;

                fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
                    value.serialize(self.reborrow())
                }

                fn end(mut self) -> Result<(), Stop> {
                    self.tag(END)
                }
            }
        )*
    };
}

compound!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
);

impl<S: Sink> ser::SerializeMap for Coder<'_, S> {
    type Ok = ();
    type Error = Stop;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Stop> {
        key.serialize(self.reborrow())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Stop> {
        value.serialize(self.reborrow())
    }

    fn end(mut self) -> Result<(), Stop> {
        self.tag(END)
    }
}

macro_rules! fields {
    ($($trait:ident),* $(,)?) => {
        $(
            impl<S: Sink> ser::$trait for Coder<'_, S> {
                type Ok = ();
                type Error = Stop;

                fn serialize_field<T: Serialize + ?Sized>(
                    &mut self,
                    key: &'static str,
                    value: &T,
                ) -> Result<(), Stop> {
                    self.name(key)?;
                    value.serialize(self.reborrow())
                }

                fn end(mut self) -> Result<(), Stop> {
                    self.tag(END)
                }
            }
        )*
    };
}

fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde::Serialize;
    use serde_json::json;

    use super::*;

    fn code<T: Serialize + ?Sized>(v: &T) -> Vec<u8> {
        let mut out = Vec::new();
        assert!(encode(v, &mut out));
        out
    }

    #[derive(Serialize)]
    struct Row {
        id: String,
        tags: Vec<String>,
        n: Option<u32>,
    }

    #[test]
    fn a_value_matches_its_own_code_only() {
        let row = |id: &str, tags: &[&str], n| Row {
            id: id.into(),
            tags: tags.iter().map(|t| (*t).to_owned()).collect(),
            n,
        };
        let values = [
            row("a", &[], None),
            row("a", &[""], None),
            row("a", &["", ""], None),
            row("a", &["b"], None),
            row("ab", &[], None),
            row("a", &["b"], Some(0)),
            row("a", &["b"], Some(1)),
        ];
        for (i, a) in values.iter().enumerate() {
            let c = code(a);
            for (j, b) in values.iter().enumerate() {
                assert_eq!(matches(b, &c), i == j, "{i} vs {j}");
            }
            // A prefix or an extension of a code is not a match.
            assert!(!matches(a, &c[..c.len() - 1]));
            let mut longer = c.clone();
            longer.push(END);
            assert!(!matches(a, &longer));
        }
    }

    #[test]
    fn strings_are_delimited() {
        // ["ab", "c"] and ["a", "bc"] must not share a code.
        assert_ne!(code(&["ab", "c"]), code(&["a", "bc"]));
        assert_ne!(code(&json!({"a": "b"})), code(&json!({"ab": ""})));
        let long = "x".repeat(300);
        assert!(matches(&long, &code(&long)));
        assert!(!matches(&"x".repeat(299), &code(&long)));
    }

    #[test]
    fn equal_codes_come_from_equal_json() {
        // Values the JSON does not tell apart may differ in code (a write too many);
        // values it tells apart always differ in code.
        let values: Vec<serde_json::Value> = vec![
            json!(null),
            json!(0),
            json!(-1),
            json!(1.5),
            json!("0"),
            json!([]),
            json!([null]),
            json!({}),
            json!({"": null}),
            json!([[]]),
            json!([{}]),
        ];
        for (i, a) in values.iter().enumerate() {
            for (j, b) in values.iter().enumerate() {
                assert_eq!(code(a) == code(b), i == j, "{a} vs {b}");
            }
        }
        let m = BTreeMap::from([(1, 'x')]);
        assert!(matches(&m, &code(&m)));
        assert!(!matches(&BTreeMap::from([(1, 'y')]), &code(&m)));
    }

    /// A value failing to serialize matches nothing and encodes as a failure.
    struct Fails;

    impl Serialize for Fails {
        fn serialize<S: ser::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(ser::Error::custom("no"))
        }
    }

    #[test]
    fn failures_match_nothing() {
        assert!(!encode(&Fails, &mut Vec::new()));
        assert!(!matches(&Fails, &[]));
        assert!(!matches(&[Fails], &code(&Vec::<u8>::new())));
    }
}
