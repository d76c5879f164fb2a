//! A state's top-level scalar fields as the text a flat template shows.
//!
//! [`capture`] serializes a state and, for each wanted top-level key whose value is a
//! scalar, keeps the text handlebars renders for what `serde_json::to_value` makes of
//! it: strings as they are, integers in decimal, booleans as `true`/`false`, `null` as
//! nothing, a unit variant as its name. It gives up on anything else (a state that is
//! not a struct, a wanted value that is a float, a list, an object or a 128-bit
//! integer), and the caller takes the general path, which handles every case.

use std::fmt;

use serde::ser::{self, Impossible, Serialize};

/// The texts of the wanted keys, kept between renders so that their buffers are reused.
#[derive(Debug, Default)]
pub(crate) struct FieldTexts {
    /// The text of each wanted key, valid where `present` says so.
    pub(crate) text: Vec<String>,
    /// Whether the state has the key (a missing key renders as nothing).
    pub(crate) present: Vec<bool>,
}

/// Reads the top-level fields of `state` named in `keys` into `texts` (same order as
/// `keys`); false when it cannot (see the module documentation). A field named `lvt`
/// is never read: the template data's reserved key hides it.
pub(crate) fn capture<S: Serialize + ?Sized>(
    state: &S,
    keys: &[String],
    texts: &mut FieldTexts,
) -> bool {
    texts.text.resize_with(keys.len(), String::new);
    texts.present.clear();
    texts.present.resize(keys.len(), false);
    state.serialize(Top { keys, texts }).is_ok()
}

/// Why [`capture`] gave up; never shown (the general path reports real errors).
#[derive(Debug)]
struct GiveUp;

impl fmt::Display for GiveUp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("not a plain field")
    }
}

impl std::error::Error for GiveUp {}

impl ser::Error for GiveUp {
    fn custom<T: fmt::Display>(_: T) -> GiveUp {
        GiveUp
    }
}

/// The state itself: a struct (possibly in `Some` or a newtype).
struct Top<'a> {
    keys: &'a [String],
    texts: &'a mut FieldTexts,
}

impl<'a> ser::Serializer for Top<'a> {
    type Ok = ();
    type Error = GiveUp;
    type SerializeSeq = Impossible<(), GiveUp>;
    type SerializeTuple = Impossible<(), GiveUp>;
    type SerializeTupleStruct = Impossible<(), GiveUp>;
    type SerializeTupleVariant = Impossible<(), GiveUp>;
    type SerializeMap = Impossible<(), GiveUp>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), GiveUp>;

    primitives_alike!(Result<(), GiveUp> => Err(GiveUp));
    answer_alike!(Result<(), GiveUp> => Err(GiveUp);
        serialize_str(&str),
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );

    answer_alike!(Result<Impossible<(), GiveUp>, GiveUp> => Err(GiveUp);
        serialize_seq(Option<usize>),
        serialize_tuple(usize),
        serialize_tuple_struct(&'static str, usize),
        serialize_tuple_variant(&'static str, u32, &'static str, usize),
        serialize_map(Option<usize>),
        serialize_struct_variant(&'static str, u32, &'static str, usize),
    );

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), GiveUp> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), GiveUp> {
        if name.starts_with('$') {
            // serde_json's private marker types.
            return Err(GiveUp);
        }
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), GiveUp> {
        Err(GiveUp)
    }

    fn serialize_struct(self, name: &'static str, _: usize) -> Result<Self, GiveUp> {
        if name.starts_with('$') {
            return Err(GiveUp);
        }
        Ok(self)
    }
}

impl ser::SerializeStruct for Top<'_> {
    type Ok = ();
    type Error = GiveUp;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), GiveUp> {
        if key == crate::transport::LVT_KEY {
            return Ok(());
        }
        if let Some(i) = self.keys.iter().position(|k| k == key) {
            // A repeated name: the last one wins, as in the template data.
            let out = &mut self.texts.text[i];
            out.clear();
            value.serialize(Scalar { out })?;
            self.texts.present[i] = true;
        }
        Ok(())
    }

    fn end(self) -> Result<(), GiveUp> {
        Ok(())
    }
}

/// One field's value, written as text when it is a scalar.
struct Scalar<'a> {
    out: &'a mut String,
}

impl Scalar<'_> {
    fn int(self, v: impl itoa::Integer) -> Result<(), GiveUp> {
        self.out.push_str(itoa::Buffer::new().format(v));
        Ok(())
    }
}

impl ser::Serializer for Scalar<'_> {
    type Ok = ();
    type Error = GiveUp;
    type SerializeSeq = Impossible<(), GiveUp>;
    type SerializeTuple = Impossible<(), GiveUp>;
    type SerializeTupleStruct = Impossible<(), GiveUp>;
    type SerializeTupleVariant = Impossible<(), GiveUp>;
    type SerializeMap = Impossible<(), GiveUp>;
    type SerializeStruct = Impossible<(), GiveUp>;
    type SerializeStructVariant = Impossible<(), GiveUp>;

    answer_alike!(Result<(), GiveUp> => Err(GiveUp);
        serialize_i128(i128),
        serialize_u128(u128),
        serialize_f32(f32),
        serialize_f64(f64),
        serialize_bytes(&[u8]),
    );

    // `null`: nothing.
    answer_alike!(Result<(), GiveUp> => Ok(());
        serialize_none(),
        serialize_unit(),
        serialize_unit_struct(&'static str),
    );

    answer_alike!(Result<Impossible<(), GiveUp>, GiveUp> => Err(GiveUp);
        serialize_seq(Option<usize>),
        serialize_tuple(usize),
        serialize_tuple_struct(&'static str, usize),
        serialize_tuple_variant(&'static str, u32, &'static str, usize),
        serialize_map(Option<usize>),
        serialize_struct(&'static str, usize),
        serialize_struct_variant(&'static str, u32, &'static str, usize),
    );

    fn serialize_bool(self, v: bool) -> Result<(), GiveUp> {
        self.out.push_str(if v { "true" } else { "false" });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result<(), GiveUp> {
        self.int(v)
    }

    fn serialize_i16(self, v: i16) -> Result<(), GiveUp> {
        self.int(v)
    }

    fn serialize_i32(self, v: i32) -> Result<(), GiveUp> {
        self.int(v)
    }

    fn serialize_i64(self, v: i64) -> Result<(), GiveUp> {
        self.int(v)
    }

    fn serialize_u8(self, v: u8) -> Result<(), GiveUp> {
        self.int(v)
    }

    fn serialize_u16(self, v: u16) -> Result<(), GiveUp> {
        self.int(v)
    }

    fn serialize_u32(self, v: u32) -> Result<(), GiveUp> {
        self.int(v)
    }

    fn serialize_u64(self, v: u64) -> Result<(), GiveUp> {
        self.int(v)
    }

    fn serialize_char(self, v: char) -> Result<(), GiveUp> {
        self.out.push(v);
        Ok(())
    }

    fn serialize_str(self, v: &str) -> Result<(), GiveUp> {
        self.out.push_str(v);
        Ok(())
    }

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), GiveUp> {
        self.out.push_str(variant);
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), GiveUp> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), GiveUp> {
        if name.starts_with('$') {
            return Err(GiveUp);
        }
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), GiveUp> {
        Err(GiveUp)
    }
}
