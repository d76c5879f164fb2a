//! The template data of a flat template: only the top-level keys it reads.
//!
//! A template that renders without handlebars (`Template::renders_directly`) reads a
//! known set of top-level keys ([`Template::direct_keys`]). [`pick`] serializes the
//! state and keeps only those fields, each as `serde_json::to_value` makes it (the last
//! of equal keys winning, as in the full data), plus the reserved `lvt` key when it is
//! read: the values at those keys are those of the full template data.

use std::collections::BTreeMap;

use serde::ser::{self, Impossible, Serialize, Serializer as _};
use serde_json::{Error, Map, Value};

#[cfg(doc)]
use crate::template::Template;

use super::live::{lvt_value, LVT_KEY};

/// The keys of `state` named in `keys`, plus `lvt` (errors and flash) when named.
/// `None` when the state is not an object or `null` (or fails to serialize): the full
/// data then tells what is wrong.
pub(crate) fn pick<S: Serialize + ?Sized>(
    state: &S,
    keys: &[String],
    errors: &BTreeMap<String, String>,
    flash: &BTreeMap<String, String>,
) -> Option<Value> {
    let mut out = Map::new();
    state
        .serialize(Pick {
            keys,
            out: &mut out,
        })
        .ok()?;
    if keys.iter().any(|k| k == LVT_KEY) {
        out.insert(LVT_KEY.into(), lvt_value(errors, flash));
    }
    Some(Value::Object(out))
}

/// Serializes the state's outermost object, keeping the wanted entries.
struct Pick<'a> {
    keys: &'a [String],
    out: &'a mut Map<String, Value>,
}

impl Pick<'_> {
    fn wanted(&self, key: &str) -> bool {
        key != LVT_KEY && self.keys.iter().any(|k| k == key)
    }
}

/// The error for a state that is not an object (the full data path reports it).
fn not_an_object() -> Error {
    ser::Error::custom("not an object")
}

impl<'a> ser::Serializer for Pick<'a> {
    type Ok = ();
    type Error = Error;
    type SerializeSeq = Impossible<(), Error>;
    type SerializeTuple = Impossible<(), Error>;
    type SerializeTupleStruct = Impossible<(), Error>;
    type SerializeTupleVariant = Impossible<(), Error>;
    type SerializeMap = PickMap<'a>;
    type SerializeStruct = Self;
    type SerializeStructVariant = Impossible<(), Error>;

    primitives_alike!(Result<(), Error> => Err(not_an_object()));
    answer_alike!(Result<(), Error> => Err(not_an_object());
        serialize_str(&str),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );

    // `null`: no keys.
    fn serialize_none(self) -> Result<(), Error> {
        Ok(())
    }

    fn serialize_unit(self) -> Result<(), Error> {
        Ok(())
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Error> {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        if name.starts_with('$') {
            // serde_json's private marker types are not objects.
            return Err(not_an_object());
        }
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), Error> {
        Err(not_an_object())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, Error> {
        Err(not_an_object())
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, Error> {
        Err(not_an_object())
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, Error> {
        Err(not_an_object())
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, Error> {
        Err(not_an_object())
    }

    fn serialize_map(self, _: Option<usize>) -> Result<PickMap<'a>, Error> {
        Ok(PickMap {
            pick: self,
            key: None,
        })
    }

    fn serialize_struct(self, name: &'static str, _: usize) -> Result<Self, Error> {
        if name.starts_with('$') {
            return Err(not_an_object());
        }
        Ok(self)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, Error> {
        Err(not_an_object())
    }
}

impl ser::SerializeStruct for Pick<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), Error> {
        if self.wanted(key) {
            self.out
                .insert(key.to_owned(), serde_json::to_value(value)?);
        }
        Ok(())
    }

    fn end(self) -> Result<(), Error> {
        Ok(())
    }
}

/// A map state: its keys as `serde_json` writes them.
struct PickMap<'a> {
    pick: Pick<'a>,
    /// The key waiting for its value, when wanted.
    key: Option<String>,
}

impl ser::SerializeMap for PickMap<'_> {
    type Ok = ();
    type Error = Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Error> {
        // serde_json's key rules, through a one-entry map.
        let mut m = serde_json::value::Serializer.serialize_map(Some(1))?;
        m.serialize_key(key)?;
        m.serialize_value(&())?;
        let key = match m.end()? {
            Value::Object(o) => o.into_iter().next().map(|(k, _)| k),
            _ => None,
        };
        self.key = key.filter(|k| self.pick.wanted(k));
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Error> {
        if let Some(key) = self.key.take() {
            self.pick.out.insert(key, serde_json::to_value(value)?);
        }
        Ok(())
    }

    fn end(self) -> Result<(), Error> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use serde::Serialize;
    use serde_json::json;

    use super::*;

    /// The full template data, as the plain path builds it.
    fn full<S: Serialize>(state: &S, errors: &BTreeMap<String, String>) -> Option<Value> {
        let mut data = match serde_json::to_value(state).ok()? {
            Value::Object(m) => m,
            Value::Null => Map::new(),
            _ => return None,
        };
        data.insert(LVT_KEY.into(), json!({"errors": errors, "flash": {}}));
        Some(Value::Object(data))
    }

    /// `pick` agrees with the full data at every wanted key, and refuses what the full
    /// data refuses.
    fn check<S: Serialize>(state: &S, keys: &[&str]) {
        let keys: Vec<String> = keys.iter().map(|k| (*k).to_owned()).collect();
        let errors = BTreeMap::from([("name".to_owned(), "required".to_owned())]);
        let picked = pick(state, &keys, &errors, &BTreeMap::new());
        let full = full(state, &errors);
        match (&picked, &full) {
            (Some(p), Some(f)) => {
                for k in &keys {
                    assert_eq!(p.get(k), f.get(k), "key {k}");
                }
            }
            (None, None) => {}
            _ => panic!("picked {picked:?}, full {full:?}"),
        }
    }

    #[derive(Serialize)]
    struct Inner {
        b: u8,
        lvt: u8,
    }

    #[derive(Serialize)]
    struct State {
        count: i64,
        name: Option<String>,
        #[serde(flatten)]
        inner: Inner,
    }

    #[test]
    fn picked_keys_equal_the_full_data() {
        let s = State {
            count: -3,
            name: None,
            inner: Inner { b: 2, lvt: 9 },
        };
        check(&s, &["count", "name", "b", "lvt", "missing"]);
        check(&s, &[]);
        check(&HashMap::from([(1, "one"), (2, "two")]), &["1", "3"]);
        check(&BTreeMap::from([(true, 1)]), &["true"]);
        check(&Some(json!({"a": [1, 2]})), &["a"]);
        check(&(), &["a", "lvt"]);
        check(&Option::<u8>::None, &["a"]);
        check(&json!(null), &["a"]);
        check(&3, &["a"]);
        check(&vec![1], &["a"]);
        check(&"text", &["a"]);
    }
}
