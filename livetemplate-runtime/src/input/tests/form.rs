use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::context::Context;
use crate::error::Error;
use crate::input::{parse_form_post, Data, Form, FromContext};

fn form<T: serde::de::DeserializeOwned>(data: Value) -> Result<T, Error> {
    Form::<T>::from_context(&Context::for_test("a", data)).map(Form::into_inner)
}

fn errors<T: serde::de::DeserializeOwned + std::fmt::Debug>(
    data: Value,
) -> BTreeMap<String, String> {
    let err = form::<T>(data).unwrap_err();
    assert!(err.is_field_error(), "{err:?}");
    err.to_map()
}

#[derive(Debug, Deserialize, PartialEq)]
struct Item {
    title: String,
    qty: u32,
    price: f64,
    #[serde(default)]
    urgent: bool,
    note: Option<String>,
    due: Option<i64>,
}

#[test]
fn strings_from_plain_forms_are_coerced() {
    let item: Item = form(json!({
        "title": "Milk", "qty": " 2 ", "price": "1.5", "urgent": "on", "note": "", "due": "",
        "extra": "ignored"
    }))
    .unwrap();
    assert_eq!(
        item,
        Item {
            title: "Milk".into(),
            qty: 2,
            price: 1.5,
            urgent: true,
            note: None,
            due: None
        }
    );
}

#[test]
fn values_from_the_js_client_are_accepted_too() {
    let item: Item = form(json!({
        "title": 7, "qty": 2, "price": 3, "urgent": true, "note": "n", "due": 17
    }))
    .unwrap();
    assert_eq!(
        item,
        Item {
            title: "7".into(),
            qty: 2,
            price: 3.0,
            urgent: true,
            note: Some("n".into()),
            due: Some(17)
        }
    );
}

#[test]
fn plain_form_post_and_js_message_bind_to_the_same_value() {
    let post = parse_form_post(
        Some("application/x-www-form-urlencoded"),
        b"title=007&qty=3&price=2.50&urgent=on&note=hi&save=",
        1024,
    )
    .unwrap();
    let js = crate::input::parse_message(
        r#"{"action":"save","data":{"title":"007","qty":3,"price":"2.50","urgent":true,"note":"hi"}}"#,
        1024,
    )
    .unwrap();
    let a: Item = Form::<Item>::from_data(&post.data).unwrap().into_inner();
    let b: Item = Form::<Item>::from_data(&js.data).unwrap().into_inner();
    assert_eq!(a, b);
    assert_eq!(a.title, "007");
}

#[test]
fn every_bad_field_is_reported() {
    let errs =
        errors::<Item>(json!({"qty": "many", "price": "cheap", "urgent": "maybe", "due": "soon"}));
    assert_eq!(
        errs,
        BTreeMap::from([
            ("title".to_string(), "title is required".to_string()),
            ("qty".to_string(), "qty must be a whole number".to_string()),
            ("price".to_string(), "price must be a number".to_string()),
            (
                "urgent".to_string(),
                "urgent must be true or false".to_string()
            ),
            ("due".to_string(), "due must be a whole number".to_string()),
        ])
    );
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Required {
    a: String,
    b: u8,
    c: bool,
    #[serde(rename = "d-field")]
    d: i32,
}

#[test]
fn all_missing_fields_are_reported_under_their_wire_names() {
    let errs = errors::<Required>(json!({}));
    assert_eq!(
        errs,
        BTreeMap::from([
            ("a".to_string(), "a is required".to_string()),
            ("b".to_string(), "b is required".to_string()),
            ("c".to_string(), "c is required".to_string()),
            ("d-field".to_string(), "d-field is required".to_string()),
        ])
    );
}

#[test]
fn empty_values_count_as_missing_for_non_text() {
    let errs = errors::<Required>(json!({"a": "", "b": "", "c": "", "d-field": null}));
    assert!(!errs.contains_key("a"), "an empty string is a valid String");
    assert_eq!(errs["b"], "b is required");
    assert_eq!(errs["c"], "c is required");
    assert_eq!(errs["d-field"], "d-field is required");
}

#[test]
fn out_of_range_integers() {
    let errs = errors::<Required>(json!({"a": "x", "b": "256", "c": true, "d-field": -1}));
    assert_eq!(
        errs,
        BTreeMap::from([(
            "b".to_string(),
            "b must be a whole number between 0 and 255".to_string()
        )])
    );
    let errs = errors::<Required>(json!({"a": "x", "b": 2.5, "c": true, "d-field": 1}));
    assert_eq!(errs["b"], "b must be a whole number");
}

#[derive(Debug, Deserialize, PartialEq)]
struct Checkboxes {
    #[serde(default)]
    a: bool,
    #[serde(default)]
    b: bool,
    c: Option<bool>,
    d: bool,
}

#[test]
fn checkbox_and_bool_coercions() {
    let v: Checkboxes = form(json!({"a": "on", "d": "false"})).unwrap();
    assert_eq!(
        v,
        Checkboxes {
            a: true,
            b: false,
            c: None,
            d: false
        }
    );
    for (raw, want) in [
        (json!("TRUE"), true),
        (json!("1"), true),
        (json!(1), true),
        (json!("off"), false),
        (json!("0"), false),
        (json!(0), false),
        (json!(false), false),
        // Hidden "off" + checked box: the last value wins.
        (json!(["off", "on"]), true),
    ] {
        let v: Checkboxes = form(json!({"d": raw.clone()})).unwrap();
        assert_eq!(v.d, want, "{raw}");
    }
    // A missing bool without a default is required.
    let errs = errors::<Checkboxes>(json!({"a": "on"}));
    assert_eq!(
        errs,
        BTreeMap::from([("d".to_string(), "d is required".to_string())])
    );
    let errs = errors::<Checkboxes>(json!({"d": 2}));
    assert_eq!(errs["d"], "d must be true or false");
}

#[derive(Debug, Deserialize, PartialEq)]
struct Lists {
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    ids: Vec<u32>,
    #[serde(default)]
    set: BTreeSet<i32>,
    #[serde(default)]
    pair: Option<(u8, String)>,
}

#[test]
fn single_values_are_one_element_lists() {
    let v: Lists = form(json!({"tags": "a", "ids": "7", "set": ["3", 1, "3"]})).unwrap();
    assert_eq!(v.tags, ["a"]);
    assert_eq!(v.ids, [7]);
    assert_eq!(v.set, BTreeSet::from([1, 3]));
    let v: Lists = form(json!({"tags": ["a", "b"], "ids": [1, "2"], "pair": ["1", "x"]})).unwrap();
    assert_eq!(v.tags, ["a", "b"]);
    assert_eq!(v.ids, [1, 2]);
    assert_eq!(v.pair, Some((1, "x".into())));
    let v: Lists = form(json!({"tags": "", "ids": []})).unwrap();
    assert!(v.tags.is_empty() && v.ids.is_empty());
}

#[test]
fn list_element_errors_name_the_index() {
    let errs = errors::<Lists>(json!({"ids": ["1", "x"], "tags": {"a": 1}}));
    assert_eq!(errs["ids"], "ids[1] must be a whole number");
    assert_eq!(errs["tags"], "tags must be a list");
}

#[derive(Debug, Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum Size {
    Small,
    Large,
}

#[derive(Debug, Deserialize, PartialEq)]
struct WithEnum {
    size: Size,
    other: Option<Size>,
}

#[test]
fn enums_from_strings() {
    let v: WithEnum = form(json!({"size": "large", "other": ""})).unwrap();
    assert_eq!(
        v,
        WithEnum {
            size: Size::Large,
            other: None
        }
    );
    let errs = errors::<WithEnum>(json!({"size": "huge", "other": 3}));
    assert_eq!(errs["size"], "size must be one of \"small\", \"large\"");
    assert_eq!(errs["other"], "other must be one of \"small\", \"large\"");
}

#[derive(Debug, Deserialize, PartialEq)]
struct Address {
    city: String,
    zip: u32,
}

#[derive(Debug, Deserialize, PartialEq)]
struct Person {
    name: String,
    address: Address,
    age: u8,
}

#[test]
fn nested_errors_are_filed_under_the_top_level_field() {
    let errs = errors::<Person>(json!({"address": {"zip": "x"}, "age": "old"}));
    assert_eq!(
        errs,
        BTreeMap::from([
            ("name".to_string(), "name is required".to_string()),
            (
                "address".to_string(),
                "address.zip must be a whole number".to_string()
            ),
            ("age".to_string(), "age must be a whole number".to_string()),
        ])
    );
    // A missing nested struct is required, and the next round still finds `age`.
    let errs = errors::<Person>(json!({"name": "a", "age": "-1"}));
    assert_eq!(errs["address"], "address is required");
    assert_eq!(errs["age"], "age must be a whole number between 0 and 255");
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Strict {
    a: u8,
    b: u8,
}

#[test]
fn unknown_fields_are_reported_and_others_still_checked() {
    let errs = errors::<Strict>(json!({"a": 1, "zzz": 1, "yyy": 2, "b": "x"}));
    assert_eq!(errs["zzz"], "zzz is not an expected field");
    assert_eq!(errs["yyy"], "yyy is not an expected field");
    assert_eq!(errs["b"], "b must be a whole number");
}

#[derive(Debug, Deserialize, PartialEq)]
struct Texts {
    s: String,
    c: char,
    n: Option<String>,
}

#[test]
fn text_coercions() {
    let v: Texts = form(json!({"s": 2.5, "c": "x", "n": false})).unwrap();
    assert_eq!(
        v,
        Texts {
            s: "2.5".into(),
            c: 'x',
            n: Some("false".into())
        }
    );
    let v: Texts = form(json!({"s": ["a", "b"], "c": 7, "n": null})).unwrap();
    assert_eq!(
        v,
        Texts {
            s: "b".into(),
            c: '7',
            n: None
        }
    );
    let errs = errors::<Texts>(json!({"s": {"x": 1}, "c": "xy"}));
    assert_eq!(errs["s"], "s must be text");
    assert_eq!(errs["c"], "c must be a single character");
}

#[derive(Debug, Deserialize, PartialEq)]
struct Login {
    user: String,
    password: Option<String>,
}

#[test]
fn redacted_values_count_as_absent() {
    let v: Login =
        form(json!({"user": "ann", "password": {"redacted": true, "field": "password"}})).unwrap();
    assert_eq!(v.password, None);
    let v: Login =
        form(json!({"user": "ann", "password": "{\"redacted\":true,\"field\":\"password\"}"}))
            .unwrap();
    assert_eq!(v.password, None);
}

#[test]
fn non_struct_targets() {
    let m: BTreeMap<String, String> = form(json!({"a": "1", "b": 2})).unwrap();
    assert_eq!(m["b"], "2");
    let m: BTreeMap<String, u32> = form(json!({"a": "1", "b": 2})).unwrap();
    assert_eq!(m["a"], 1);
    let v: Value = form(json!({"a": ["x"]})).unwrap();
    assert_eq!(v, json!({"a": ["x"]}));
    let err = form::<Vec<u8>>(json!({"a": 1})).unwrap_err();
    assert!(!err.is_field_error());
    assert!(
        err.to_string().starts_with("the form data must be"),
        "{err}"
    );
}

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Validated {
    #[serde(deserialize_with = "even")]
    n: u32,
    m: u32,
}

fn even<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = u32::deserialize(d)?;
    if n % 2 == 0 {
        Ok(n)
    } else {
        Err(serde::de::Error::custom("not even"))
    }
}

#[test]
fn custom_errors_keep_their_message() {
    let errs = errors::<Validated>(json!({"n": "3", "m": "x"}));
    assert_eq!(errs["n"], "n is invalid: not even");
    assert_eq!(errs["m"], "m must be a whole number");
}

#[test]
fn context_bind_matches_form() {
    let ctx = Context::for_test("a", json!({"title": "t", "qty": "1", "price": "2"}));
    let item: Item = ctx.bind().unwrap();
    assert_eq!(item.qty, 1);
    let err = Context::for_test("a", json!({}))
        .bind::<Item>()
        .unwrap_err();
    assert_eq!(err.to_map().len(), 3);
}

#[test]
fn form_derefs() {
    let mut f = Form::<Login>::from_data(json!({"user": "x"}).as_object().unwrap()).unwrap();
    assert_eq!(f.user, "x");
    f.user.push('y');
    assert_eq!(f.into_inner().user, "xy");
}

#[derive(Debug, Deserialize, PartialEq)]
struct Published {
    id: u64,
    label: String,
}

#[test]
fn data_is_strict() {
    let ctx = Context::for_test("refresh", json!({"id": 5, "label": "x"}));
    let Data(p) = Data::<Published>::from_context(&ctx).unwrap();
    assert_eq!(
        p,
        Published {
            id: 5,
            label: "x".into()
        }
    );

    let ctx = Context::for_test("refresh", json!({"id": "5", "label": "x"}));
    let err = Data::<Published>::from_context(&ctx).unwrap_err();
    assert!(!err.is_field_error());
    assert!(
        err.to_string()
            .starts_with("invalid action data: invalid type"),
        "{err}"
    );
    let d =
        Data::<Published>::from_data(json!({"id": 1, "label": "y"}).as_object().unwrap()).unwrap();
    assert_eq!(d.label, "y");
}
