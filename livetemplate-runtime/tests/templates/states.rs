//! Generated state sequences for the property tests over `tests/templates/`.
//!
//! States are generated from the shape of a sample state (same keys, values of the same
//! kind): lists grow, shrink and are reordered, booleans flip, keys go missing, and strings
//! mix `<>&"'=` and `` ` ``, `{{x}}`, newlines and non-ASCII text.
//!
//! Include it with `#[path = "templates/states.rs"] mod states;` from a test crate.
#![allow(dead_code)]

use std::io::Write;

use proptest::prelude::*;
use serde_json::{Map, Value};

const FRAGMENTS: &[&str] = &[
    "a",
    "Zoë",
    "x1",
    " ",
    "  ",
    "\n",
    "\t",
    "<",
    ">",
    "&",
    "\"",
    "'",
    "=",
    "`",
    "{{x}}",
    "{{",
    "}}",
    "{",
    "}",
    "&amp;",
    "<b>",
    "</li>",
    "data-key=\"",
    "é€",
    "0",
    "true",
    "-",
];

fn fragment_string() -> BoxedStrategy<String> {
    proptest::collection::vec(proptest::sample::select(FRAGMENTS), 0..5)
        .prop_map(|parts| parts.concat())
        .boxed()
}

fn scalar() -> BoxedStrategy<Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-3i64..200).prop_map(Value::from),
        fragment_string().prop_map(Value::String),
    ]
    .boxed()
}

/// Values shaped like `sample`; now and then a value of another kind.
fn shaped(sample: &Value) -> BoxedStrategy<Value> {
    let same_kind = match sample {
        Value::Null => prop_oneof![3 => Just(Value::Null), 1 => scalar()].boxed(),
        Value::Bool(_) => any::<bool>().prop_map(Value::Bool).boxed(),
        Value::Number(n) => {
            let orig = n.clone();
            prop_oneof![
                1 => Just(Value::Number(orig)),
                3 => proptest::sample::select(vec![-1i64, 0, 1, 2, 3, 7, 12, 42, 100, 123_456])
                    .prop_map(Value::from),
                1 => Just(serde_json::json!(1.5)),
            ]
            .boxed()
        }
        Value::String(s) => {
            let orig = s.clone();
            prop_oneof![3 => Just(orig).prop_map(Value::String), 4 => fragment_string().prop_map(Value::String)]
                .boxed()
        }
        Value::Array(items) => {
            let elem = items.first().map_or_else(scalar, shaped);
            proptest::collection::vec(elem, 0..5)
                .prop_map(Value::Array)
                .boxed()
        }
        Value::Object(map) => {
            let fields: Vec<(String, BoxedStrategy<Option<Value>>)> = map
                .iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        proptest::option::weighted(0.9, shaped(v)).boxed(),
                    )
                })
                .collect();
            let keys: Vec<String> = fields.iter().map(|(k, _)| k.clone()).collect();
            let strategies: Vec<BoxedStrategy<Option<Value>>> =
                fields.into_iter().map(|(_, s)| s).collect();
            strategies
                .prop_map(move |values| {
                    let mut m = Map::new();
                    for (k, v) in keys.iter().zip(values) {
                        if let Some(v) = v {
                            m.insert(k.clone(), v);
                        }
                    }
                    Value::Object(m)
                })
                .boxed()
        }
    };
    prop_oneof![12 => same_kind, 1 => scalar()].boxed()
}

/// Apply `f` to every array in `v`, depth first.
fn map_arrays(v: &Value, f: &dyn Fn(&mut Vec<Value>)) -> Value {
    match v {
        Value::Array(items) => {
            let mut items: Vec<Value> = items.iter().map(|i| map_arrays(i, f)).collect();
            f(&mut items);
            Value::Array(items)
        }
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), map_arrays(v, f)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A sequence of states: fresh states, and reorderings of the previous one.
pub fn sequence(sample: &Value) -> BoxedStrategy<Vec<Value>> {
    proptest::collection::vec((shaped(sample), 0u8..10), 1..6)
        .prop_map(|steps| {
            let mut states: Vec<Value> = Vec::with_capacity(steps.len());
            for (fresh, pick) in steps {
                let next = match (states.last(), pick) {
                    (Some(prev), 8) => map_arrays(prev, &|a| a.reverse()),
                    (Some(prev), 9) => map_arrays(prev, &|a| {
                        let by = usize::from(!a.is_empty());
                        a.rotate_left(by);
                    }),
                    _ => fresh,
                };
                states.push(next);
            }
            states
        })
        .boxed()
}

/// Append a generated sequence to the file named by `LT_EXPORT_CASES`, if set (format:
/// see `tests/template_props.rs`).
pub fn export(name: &str, states: &[Value]) {
    let Ok(path) = std::env::var("LT_EXPORT_CASES") else {
        return;
    };
    let line = serde_json::json!({"template": name, "states": states}).to_string() + "\n";
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(e) = written {
        panic!("cannot append to LT_EXPORT_CASES={path}: {e}");
    }
}
