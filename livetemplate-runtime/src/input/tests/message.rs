use serde_json::json;

use crate::input::{is_redacted, parse_message, InputError};

const MAX: usize = 64 * 1024;

#[test]
fn full_message() {
    let msg = parse_message(
        r#"{"action":"save","data":{"title":"Hi","n":3},"submitter":"save"}"#,
        MAX,
    )
    .unwrap();
    assert_eq!(msg.action, "save");
    assert_eq!(msg.data["title"], "Hi");
    assert_eq!(msg.data["n"], 3);
    assert_eq!(msg.submitter.as_deref(), Some("save"));
    assert!(msg.extra.is_empty());
}

#[test]
fn absent_or_null_data_is_empty() {
    let msg = parse_message(r#"{"action":"__ping__"}"#, MAX).unwrap();
    assert_eq!(msg.action, "__ping__");
    assert!(msg.data.is_empty());
    let msg = parse_message(r#"{"action":"load_more","data":null}"#, MAX).unwrap();
    assert!(msg.data.is_empty());
}

#[test]
fn empty_action_uses_submitter_then_submit() {
    let msg = parse_message(r#"{"action":"","data":{},"submitter":"publish"}"#, MAX).unwrap();
    assert_eq!(msg.action, "publish");
    assert_eq!(msg.submitter.as_deref(), Some("publish"));
    let msg = parse_message(r#"{"action":"","data":{}}"#, MAX).unwrap();
    assert_eq!(msg.action, "submit");
    let msg = parse_message(r#"{"action":"","submitter":""}"#, MAX).unwrap();
    assert_eq!(msg.action, "submit");
    assert_eq!(msg.submitter, None);
    let msg = parse_message(r#"{"action":"","submitter":null}"#, MAX).unwrap();
    assert_eq!(msg.action, "submit");
}

#[test]
fn non_empty_action_wins_over_submitter() {
    let msg = parse_message(r#"{"action":"a","submitter":"b"}"#, MAX).unwrap();
    assert_eq!(msg.action, "a");
    assert_eq!(msg.submitter.as_deref(), Some("b"));
}

#[test]
fn malformed_json_is_an_error() {
    for text in [
        "",
        "{",
        "{\"action\":",
        "not json",
        "{\"action\":\"a\",}",
        "{\"action\":\"a\"} x",
    ] {
        let err = parse_message(text, MAX).unwrap_err();
        assert!(matches!(err, InputError::Json(_)), "{text:?}: {err}");
        assert!(err.to_string().starts_with("malformed JSON"), "{err}");
    }
}

#[test]
fn wrong_shapes_are_errors() {
    type Check = fn(&InputError) -> bool;
    let cases: [(&str, Check); 9] = [
        ("[]", |e| matches!(e, InputError::NotAnObject)),
        ("\"save\"", |e| matches!(e, InputError::NotAnObject)),
        ("null", |e| matches!(e, InputError::NotAnObject)),
        ("{}", |e| matches!(e, InputError::MissingAction)),
        ("{\"data\":{}}", |e| matches!(e, InputError::MissingAction)),
        ("{\"action\":5}", |e| {
            matches!(e, InputError::ActionNotString)
        }),
        ("{\"action\":null}", |e| {
            matches!(e, InputError::ActionNotString)
        }),
        ("{\"action\":\"a\",\"data\":[1]}", |e| {
            matches!(e, InputError::DataNotObject)
        }),
        ("{\"action\":\"a\",\"submitter\":3}", |e| {
            matches!(e, InputError::SubmitterNotString)
        }),
    ];
    for (text, check) in cases {
        let err = parse_message(text, MAX).unwrap_err();
        assert!(check(&err), "{text}: got {err:?}");
    }
    assert_eq!(
        parse_message("{\"action\":\"a\",\"data\":\"x\"}", MAX)
            .unwrap_err()
            .to_string(),
        "\"data\" must be a JSON object"
    );
    assert_eq!(
        parse_message("{}", MAX).unwrap_err().to_string(),
        "action message has no \"action\" key"
    );
}

#[test]
fn oversized_input_is_rejected_before_parsing() {
    let text = format!(r#"{{"action":"a","data":{{"x":"{}"}}}}"#, "y".repeat(100));
    let err = parse_message(&text, 50).unwrap_err();
    assert!(matches!(err, InputError::TooLarge { len, max: 50 } if len == text.len()));
    assert_eq!(
        err.to_string(),
        format!("input too large: {} bytes (limit 50)", text.len())
    );
    // Exactly at the limit is fine.
    assert!(parse_message(&text, text.len()).is_ok());
    // Even malformed input reports its size first.
    assert!(matches!(
        parse_message("{{{{", 2),
        Err(InputError::TooLarge { .. })
    ));
}

#[test]
fn other_top_level_keys_are_kept_in_extra() {
    let msg = parse_message(
        r#"{"action":"upload_complete","upload_name":"avatar","entry_ids":["u7"]}"#,
        MAX,
    )
    .unwrap();
    assert_eq!(msg.action, "upload_complete");
    assert!(msg.data.is_empty());
    assert_eq!(msg.extra["upload_name"], "avatar");
    assert_eq!(msg.extra["entry_ids"], json!(["u7"]));
    assert!(!msg.extra.contains_key("action"));
}

#[test]
fn redaction_objects_are_accepted_values() {
    let msg = parse_message(
        r#"{"action":"login","data":{"user":"ann","password":{"redacted":true,"field":"password"}}}"#,
        MAX,
    )
    .unwrap();
    assert_eq!(
        msg.data["password"],
        json!({"redacted": true, "field": "password"})
    );
    assert!(is_redacted(&msg.data["password"]));
    assert!(!is_redacted(&msg.data["user"]));
}

#[test]
fn is_redacted_recognises_both_spellings() {
    assert!(is_redacted(&json!({"redacted": true, "field": "pin"})));
    assert!(is_redacted(&json!("{\"redacted\":true,\"field\":\"pin\"}")));
    assert!(!is_redacted(&json!({"redacted": false})));
    assert!(!is_redacted(&json!("{\"redacted\":true")));
    assert!(!is_redacted(&json!("redacted")));
    assert!(!is_redacted(&json!(1)));
}

/// What the message parser did before it read the top level in one pass: the whole JSON
/// as a `Value`, then the known keys taken out of it. The one-pass reader must agree.
fn reference(text: &str) -> Result<crate::input::ActionMessage, String> {
    use serde_json::Value;
    let value: Value = serde_json::from_str(text).map_err(|_| "json".to_owned())?;
    let Value::Object(mut object) = value else {
        return Err("not an object".into());
    };
    let action = match object.remove("action") {
        None => return Err("missing action".into()),
        Some(Value::String(s)) => s,
        Some(_) => return Err("action not a string".into()),
    };
    let data = match object.remove("data") {
        None | Some(Value::Null) => serde_json::Map::new(),
        Some(Value::Object(m)) => m,
        Some(_) => return Err("data not an object".into()),
    };
    let submitter = match object.remove("submitter") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s),
        Some(_) => return Err("submitter not a string".into()),
    };
    let action = crate::input::message::resolve_action_name(action, submitter.as_deref());
    Ok(crate::input::ActionMessage {
        action,
        data,
        submitter,
        extra: object,
    })
}

fn outcome(
    r: Result<crate::input::ActionMessage, InputError>,
) -> Result<crate::input::ActionMessage, String> {
    r.map_err(|e| match e {
        InputError::Json(_) => "json".to_owned(),
        InputError::NotAnObject => "not an object".to_owned(),
        InputError::MissingAction => "missing action".to_owned(),
        InputError::ActionNotString => "action not a string".to_owned(),
        InputError::DataNotObject => "data not an object".to_owned(),
        InputError::SubmitterNotString => "submitter not a string".to_owned(),
        other => format!("{other}"),
    })
}

proptest::proptest! {
    /// Random top levels (known keys, repeated keys, escaped keys, other keys, values of
    /// every kind, non-objects, broken JSON) parse as the reference parses them.
    #[test]
    fn one_pass_reader_agrees_with_the_value_reader(
        entries in proptest::collection::vec(
            (
                proptest::sample::select(vec![
                    "action", "data", "submitter", "x", "act\\u0069on", "d\\\"", "",
                ]),
                proptest::sample::select(vec![
                    "\"go\"", "\"\"", "null", "1", "true", "{}", "{\"a\":[1,{\"b\":null}]}",
                    "[1,2]", "\"s\\u00e9\"", "-1.5e3", "\"\t\"", "\"é\"", "\"a\\\\\"",
                    "\"increment\"", "{ }",
                ]),
            ),
            0..5,
        ),
        top in proptest::sample::select(vec![
            "object", "object", "object", "array", "scalar", "broken", "trailing", "brace", "space",
        ]),
    ) {
        let body = entries
            .iter()
            .map(|(k, v)| format!("\"{k}\":{v}"))
            .collect::<Vec<_>>()
            .join(",");
        let text = match top {
            "object" => format!("{{{body}}}"),
            "array" => format!("[{{{body}}}, 1]"),
            "scalar" => "\"action\"".to_owned(),
            "broken" => format!("{{{body}"),
            "brace" => format!("{{{body}}}}}"),
            "space" => format!("{{ {body}}}"),
            _ => format!("{{{body}}} x"),
        };
        proptest::prop_assert_eq!(outcome(parse_message(&text, MAX)), reference(&text), "{}", text);
    }
}

#[test]
fn a_click_is_read_without_the_json_reader() {
    use crate::input::message::plain_fields;
    for text in [
        r#"{"action":"increment","data":{},"submitter":"increment"}"#,
        r#"{"submitter":"","action":"é"}"#,
        r#"{"action":""}"#,
    ] {
        assert!(plain_fields(text).is_some(), "{text}");
        assert_eq!(outcome(parse_message(text, MAX)), reference(text), "{text}");
    }
    for text in [
        r#"{"action":"a\"b"}"#,
        r#"{"action":"a","action":"b"}"#,
        r#"{"action":"a","data":{"x":1}}"#,
        r#"{"action": "a"}"#,
        r#"{"action":"a","x":1}"#,
        r#"{}"#,
        r#"{"action":"a"}}"#,
    ] {
        assert!(plain_fields(text).is_none(), "{text}");
        assert_eq!(outcome(parse_message(text, MAX)), reference(text), "{text}");
    }
}
