//! The hidden door: everything the macros' generated code names, and nothing else.
//!
//! Generated code refers to `::livetemplate::__private::…` only (or `<crate>::__private`
//! with `crate = …`). The module is `#[deprecated]` so that naming it by hand warns;
//! expansions silence that lint on themselves.

pub use livetemplate_runtime::controller::{
    resolve_action, Action, ActionKind, ActionSpec, BoxFuture, Controller, IntoActionResult,
    LiveState,
};
pub use livetemplate_runtime::input::FromContext;
pub use livetemplate_runtime::{Context, Disconnect, Error};
pub use serde;
pub use serde_json;

/// Support code of `#[derive(LiveState)]`: the persisted fields as one JSON object.
///
/// Each helper takes the field type as an explicit type argument, and the generated
/// call is spanned at the user's field type, so a field that is not serializable is
/// reported there.
pub mod persist {
    use serde::de::{DeserializeOwned, Error as _};
    use serde::Serialize;
    use serde_json::{Map, Value};

    /// The persisted fields as one JSON object: written field by field when saving
    /// (in declaration order), read key by key when restoring.
    #[derive(Default)]
    pub struct Object {
        /// Saving: the object's text so far (`{` and the fields written); taken by
        /// [`finish`].
        text: std::cell::Cell<Vec<u8>>,
        /// Restoring: the stored object.
        map: Map<String, Value>,
    }

    impl std::fmt::Debug for Object {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("Object")
                .field("map", &self.map)
                .finish_non_exhaustive()
        }
    }

    impl Object {
        /// An empty object, to save fields into.
        pub fn new() -> Object {
            Object::default()
        }
    }

    /// Add one persisted field.
    ///
    /// # Errors
    ///
    /// The field's `Serialize` failed.
    pub fn save<T: Serialize>(
        object: &mut Object,
        key: &str,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        let text = object.text.get_mut();
        if text.is_empty() {
            text.reserve(64);
            text.push(b'{');
        } else {
            text.push(b',');
        }
        if key.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
            serde_json::to_writer(&mut *text, key)?;
        } else {
            // A field name: nothing to escape.
            text.push(b'"');
            text.extend_from_slice(key.as_bytes());
            text.push(b'"');
        }
        text.push(b':');
        serde_json::to_writer(&mut *text, value)
            .map_err(|e| serde_json::Error::custom(format!("persisted field `{key}`: {e}")))
    }

    /// The bytes handed to the session store.
    ///
    /// # Errors
    ///
    /// Never in practice (the fields are already written).
    pub fn finish(object: &Object) -> Result<Option<Vec<u8>>, serde_json::Error> {
        let mut bytes = object.text.take();
        if bytes.is_empty() {
            bytes.push(b'{');
        }
        bytes.push(b'}');
        Ok(Some(bytes))
    }

    /// Read stored bytes back as an object.
    ///
    /// # Errors
    ///
    /// The bytes are not a JSON object.
    pub fn parse(bytes: &[u8]) -> Result<Object, serde_json::Error> {
        Ok(Object {
            text: std::cell::Cell::default(),
            map: serde_json::from_slice(bytes)?,
        })
    }

    /// Take one field out of the stored object: `None` when absent, or when it is `null`
    /// and `T` cannot be built from `null` (a `null` never wipes a field).
    ///
    /// # Errors
    ///
    /// The value is present but not a `T`.
    pub fn take<T: DeserializeOwned>(
        object: &mut Object,
        key: &str,
    ) -> Result<Option<T>, serde_json::Error> {
        match object.map.remove(key) {
            None => Ok(None),
            Some(Value::Null) => Ok(serde_json::from_value(Value::Null).ok()),
            Some(value) => serde_json::from_value(value)
                .map(Some)
                .map_err(|e| serde_json::Error::custom(format!("persisted field `{key}`: {e}"))),
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn save_then_take() {
            let mut object = Object::new();
            save(&mut object, "n", &5u32).unwrap();
            let bytes = finish(&object).unwrap().unwrap();
            assert_eq!(bytes, br#"{"n":5}"#);
            let mut back = parse(&bytes).unwrap();
            assert_eq!(take::<u32>(&mut back, "n").unwrap(), Some(5));
            assert_eq!(take::<u32>(&mut back, "n").unwrap(), None, "taken once");
        }

        #[test]
        fn fields_in_order_escaped_and_failures_named() {
            let mut object = Object::new();
            assert_eq!(finish(&object).unwrap().unwrap(), b"{}");
            save(&mut object, "b\"q", &"x\ny").unwrap();
            save(&mut object, "a", &[1.5, f64::NAN]).unwrap();
            save(
                &mut object,
                "m",
                &std::collections::BTreeMap::from([(1, true)]),
            )
            .unwrap();
            let bytes = finish(&object).unwrap().unwrap();
            assert_eq!(bytes, br#"{"b\"q":"x\ny","a":[1.5,null],"m":{"1":true}}"#);
            let mut back = parse(&bytes).unwrap();
            assert_eq!(
                take::<String>(&mut back, "b\"q").unwrap().as_deref(),
                Some("x\ny")
            );
            let mut bad = Object::new();
            let err = save(
                &mut bad,
                "k",
                &std::collections::HashMap::from([((1, 2), 3)]),
            )
            .unwrap_err();
            assert!(err.to_string().contains("persisted field `k`"), "{err}");
        }

        #[test]
        fn null_only_sets_what_accepts_null() {
            let mut object = parse(br#"{"list":null,"opt":null}"#).unwrap();
            assert_eq!(take::<Vec<u8>>(&mut object, "list").unwrap(), None);
            assert_eq!(take::<Option<u8>>(&mut object, "opt").unwrap(), Some(None));
        }

        #[test]
        fn wrong_type_names_the_field() {
            let mut object = parse(br#"{"n":"five"}"#).unwrap();
            let err = take::<u32>(&mut object, "n").unwrap_err();
            assert!(err.to_string().contains("persisted field `n`"), "{err}");
        }

        #[test]
        fn not_an_object() {
            assert!(parse(b"[1,2]").is_err());
            assert!(parse(b"nope").is_err());
        }
    }
}
