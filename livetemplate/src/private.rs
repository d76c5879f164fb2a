//! The hidden door: everything the macros' generated code names, and nothing else.
//!
//! Generated code refers to `::livetemplate::__private::…` only (or `<crate>::__private`
//! with `crate = …`). The module is `#[deprecated]` so that naming it by hand warns;
//! expansions silence that lint on themselves.

pub use livetemplate_runtime::controller::{
    resolve_action, ActionKind, ActionSpec, BoxFuture, Controller, IntoActionResult, LiveState,
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

    /// The stored object: field name → value.
    pub type Object = Map<String, Value>;

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
        let value = serde_json::to_value(value)
            .map_err(|e| serde_json::Error::custom(format!("persisted field `{key}`: {e}")))?;
        object.insert(key.to_string(), value);
        Ok(())
    }

    /// The bytes handed to the session store.
    ///
    /// # Errors
    ///
    /// Never in practice (a map of JSON values always serializes).
    pub fn finish(object: &Object) -> Result<Option<Vec<u8>>, serde_json::Error> {
        serde_json::to_vec(object).map(Some)
    }

    /// Read stored bytes back as an object.
    ///
    /// # Errors
    ///
    /// The bytes are not a JSON object.
    pub fn parse(bytes: &[u8]) -> Result<Object, serde_json::Error> {
        serde_json::from_slice(bytes)
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
        match object.remove(key) {
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
