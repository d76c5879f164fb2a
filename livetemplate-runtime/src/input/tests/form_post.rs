use serde_json::json;

use crate::input::{
    parse_form_post, parse_form_post_with_actions, parse_post_body, ActionMessage, InputError,
};

const MAX: usize = 64 * 1024;
const URLENCODED: Option<&str> = Some("application/x-www-form-urlencoded");

fn post(body: &str) -> ActionMessage {
    parse_form_post(URLENCODED, body.as_bytes(), MAX).unwrap()
}

fn post_known(body: &str, known: &[&str]) -> ActionMessage {
    parse_form_post_with_actions(URLENCODED, body.as_bytes(), MAX, &|n| known.contains(&n)).unwrap()
}

fn multipart_body(boundary: &str, parts: &[(&str, Option<&str>, &str)]) -> String {
    let mut body = String::new();
    for (name, filename, content) in parts {
        body.push_str(&format!("--{boundary}\r\n"));
        match filename {
            Some(f) => body.push_str(&format!(
                "Content-Disposition: form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )),
            None => body.push_str(&format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n")),
        }
        body.push_str(content);
        body.push_str("\r\n");
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    body
}

fn multipart(parts: &[(&str, Option<&str>, &str)], known: &[&str]) -> ActionMessage {
    let b = "----WebKitFormBoundary7MA4YWxkTrZu0gW";
    let body = multipart_body(b, parts);
    let ct = format!("multipart/form-data; boundary={b}");
    parse_form_post_with_actions(Some(&ct), body.as_bytes(), MAX, &|n| known.contains(&n)).unwrap()
}

#[test]
fn lvt_action_field_wins_and_is_removed() {
    let msg = post("lvt-action=save&title=Hi&increment=");
    assert_eq!(msg.action, "save");
    assert_eq!(msg.submitter, None);
    assert_eq!(msg.data.get("lvt-action"), None);
    assert_eq!(msg.data["title"], "Hi");
    // Not detected, so the button stays data.
    assert_eq!(msg.data["increment"], "");
}

#[test]
fn lvt_submitter_field_is_second() {
    let msg = post("lvt-submitter=publish&title=Hi&other=");
    assert_eq!(msg.action, "publish");
    assert_eq!(msg.submitter.as_deref(), Some("publish"));
    assert!(!msg.data.contains_key("lvt-submitter"));
    assert_eq!(msg.data["other"], "");

    let msg = post("lvt-action=a&lvt-submitter=b");
    assert_eq!(msg.action, "a");
    assert_eq!(msg.submitter.as_deref(), Some("b"));
    assert!(msg.data.is_empty());
}

#[test]
fn empty_routing_fields_are_ignored_but_removed() {
    let msg = post("lvt-action=&lvt-submitter=&increment=");
    assert_eq!(msg.action, "increment");
    assert!(msg.data.is_empty());
}

#[test]
fn single_empty_field_is_the_button() {
    let msg = post("title=Hello+world&increment=");
    assert_eq!(msg.action, "increment");
    assert_eq!(msg.submitter.as_deref(), Some("increment"));
    assert_eq!(msg.data.get("increment"), None);
    assert_eq!(msg.data["title"], "Hello world");
}

#[test]
fn ambiguous_or_absent_empty_fields_give_submit() {
    let msg = post("title=&increment=");
    assert_eq!(msg.action, "submit");
    assert_eq!(msg.submitter, None);
    assert_eq!(msg.data["title"], "");
    assert_eq!(msg.data["increment"], "");

    let msg = post("title=x&n=2");
    assert_eq!(msg.action, "submit");
    let msg = post("");
    assert_eq!(msg.action, "submit");
    assert!(msg.data.is_empty());
}

#[test]
fn the_action_field_is_ordinary_data() {
    let msg = post("action=&title=x");
    assert_eq!(msg.action, "submit");
    assert_eq!(msg.data["action"], "");
    let msg = post("action=&save=");
    assert_eq!(msg.action, "save");
    assert_eq!(msg.data["action"], "");
    let msg = post("action=%2Fposts");
    assert_eq!(msg.data["action"], "/posts");
    // Even when "action" is a known action name.
    let msg = post_known("action=&x=1", &["action"]);
    assert_eq!(msg.action, "submit");
}

#[test]
fn repeated_names_become_arrays_and_are_never_buttons() {
    let msg = post("tags=a&tags=b&tags=c&n=1");
    assert_eq!(msg.data["tags"], json!(["a", "b", "c"]));
    assert_eq!(msg.data["n"], "1");
    let msg = post("x=&x=");
    assert_eq!(msg.action, "submit");
    assert_eq!(msg.data["x"], json!(["", ""]));
}

#[test]
fn values_stay_strings() {
    let msg = post("n=42&flag=true&agree=on");
    assert_eq!(msg.data["n"], "42");
    assert_eq!(msg.data["flag"], "true");
    assert_eq!(msg.data["agree"], "on");
}

#[test]
fn known_actions_resolve_ambiguity() {
    // An empty text input next to a valueless button.
    let msg = post_known("note=&save=", &["save"]);
    assert_eq!(msg.action, "save");
    assert_eq!(msg.submitter.as_deref(), Some("save"));
    assert_eq!(msg.data["note"], "");
    assert!(!msg.data.contains_key("save"));
    // Two known empty fields stay ambiguous.
    let msg = post_known("save=&delete=", &["save", "delete"]);
    assert_eq!(msg.action, "submit");
}

#[test]
fn known_actions_find_valued_buttons() {
    let msg = post_known("title=x&delete=7", &["delete", "save"]);
    assert_eq!(msg.action, "delete");
    assert_eq!(msg.submitter.as_deref(), Some("delete"));
    assert_eq!(msg.data["value"], "7");
    assert_eq!(msg.data["title"], "x");
    assert!(!msg.data.contains_key("delete"));
    // Preferred over an unknown empty field.
    let msg = post_known("note=&delete=7", &["delete"]);
    assert_eq!(msg.action, "delete");
    assert_eq!(msg.data["note"], "");
    // The button value replaces a field called "value", as with the browser client.
    let msg = post_known("value=old&delete=7", &["delete"]);
    assert_eq!(msg.data["value"], "7");
}

#[test]
fn valueless_known_button_beats_valued_known_field() {
    let msg = post_known("delete=7&save=", &["delete", "save"]);
    assert_eq!(msg.action, "save");
    assert_eq!(msg.data["delete"], "7");
    assert!(!msg.data.contains_key("value"));
}

#[test]
fn several_valued_known_fields_fall_back_to_the_empty_rule() {
    let msg = post_known("delete=7&archive=8&other=", &["delete", "archive"]);
    assert_eq!(msg.action, "other");
    let msg = post_known("delete=7&archive=8", &["delete", "archive"]);
    assert_eq!(msg.action, "submit");
    assert_eq!(msg.data["delete"], "7");
}

#[test]
fn without_known_actions_a_valued_button_is_not_detected() {
    let msg = post("title=x&delete=7");
    assert_eq!(msg.action, "submit");
    assert_eq!(msg.data["delete"], "7");
}

#[test]
fn unknown_single_empty_field_still_routes() {
    let msg = post_known("title=x&frobnicate=", &["save"]);
    assert_eq!(msg.action, "frobnicate");
}

#[test]
fn content_types() {
    let ok = parse_form_post(
        Some("application/x-www-form-urlencoded; charset=UTF-8"),
        b"a=",
        MAX,
    )
    .unwrap();
    assert_eq!(ok.action, "a");
    let ok = parse_form_post(Some("Application/X-WWW-Form-Urlencoded"), b"a=", MAX).unwrap();
    assert_eq!(ok.action, "a");
    assert!(matches!(
        parse_form_post(None, b"a=", MAX),
        Err(InputError::MissingContentType)
    ));
    let err = parse_form_post(Some("text/plain"), b"a=", MAX).unwrap_err();
    assert!(matches!(&err, InputError::UnsupportedContentType(ct) if ct == "text/plain"));
    assert_eq!(err.to_string(), "unsupported content type \"text/plain\"");
    assert!(matches!(
        parse_form_post(Some("multipart/form-data"), b"", MAX),
        Err(InputError::MissingBoundary)
    ));
    assert!(matches!(
        parse_form_post(Some("multipart/form-data; boundary="), b"", MAX),
        Err(InputError::InvalidBoundary)
    ));
}

#[test]
fn oversized_form_is_rejected() {
    let err = parse_form_post(URLENCODED, b"a=1234567890", 5).unwrap_err();
    assert!(matches!(err, InputError::TooLarge { len: 12, max: 5 }));
}

#[test]
fn invalid_percent_encoding_and_utf8_are_replaced_not_rejected() {
    let msg = parse_form_post(URLENCODED, b"a=%ZZ&b=%FF&c=caf%C3%A9", MAX).unwrap();
    assert_eq!(msg.data["a"], "%ZZ");
    assert_eq!(msg.data["b"], "\u{FFFD}");
    assert_eq!(msg.data["c"], "café");
}

#[test]
fn multipart_fields_and_detection() {
    let msg = multipart(
        &[
            ("title", None, "Hello"),
            ("tags", None, "a"),
            ("tags", None, "b"),
            ("save", None, ""),
        ],
        &[],
    );
    assert_eq!(msg.action, "save");
    assert_eq!(msg.data["title"], "Hello");
    assert_eq!(msg.data["tags"], json!(["a", "b"]));
    assert!(!msg.data.contains_key("save"));
    assert!(msg.extra.is_empty());
}

#[test]
fn multipart_routing_fields() {
    let msg = multipart(
        &[
            ("lvt-action", None, "upload"),
            ("lvt-submitter", None, "go"),
            ("x", None, "1"),
        ],
        &[],
    );
    assert_eq!(msg.action, "upload");
    assert_eq!(msg.submitter.as_deref(), Some("go"));
    assert_eq!(msg.data, json!({"x": "1"}).as_object().unwrap().clone());
}

#[test]
fn multipart_json_data_part_takes_precedence() {
    let msg = multipart(
        &[
            ("lvt-action", None, "save"),
            ("title", None, "raw"),
            ("data", None, r#"{"title":"json","n":3}"#),
        ],
        &[],
    );
    assert_eq!(msg.action, "save");
    assert_eq!(
        msg.data,
        json!({"title": "json", "n": 3})
            .as_object()
            .unwrap()
            .clone()
    );

    // With JSON data the empty-field rule is not used.
    let msg = multipart(
        &[("data", None, r#"{"a":1}"#), ("save", None, "")],
        &["save"],
    );
    assert_eq!(msg.action, "submit");
    assert_eq!(msg.data["a"], 1);
}

#[test]
fn multipart_non_json_data_part_is_an_ordinary_field() {
    let msg = multipart(&[("data", None, "not json"), ("go", None, "")], &[]);
    assert_eq!(msg.action, "go");
    assert_eq!(msg.data["data"], "not json");
    // A JSON array is not an object either.
    let msg = multipart(&[("data", None, "[1]")], &[]);
    assert_eq!(msg.data["data"], "[1]");
    // An empty data part is never the button.
    let msg = multipart(&[("data", None, "")], &["data"]);
    assert_eq!(msg.action, "submit");
}

#[test]
fn multipart_files_are_not_data() {
    let msg = multipart(
        &[
            ("title", None, "x"),
            ("avatar", Some("me.png"), "\u{0}\u{1}binary"),
            ("avatar", Some("you.png"), "more"),
            ("empty", Some(""), ""),
            ("save", None, ""),
        ],
        &[],
    );
    assert_eq!(msg.action, "save");
    assert!(!msg.data.contains_key("avatar"));
    assert!(!msg.data.contains_key("empty"));
    assert_eq!(msg.extra["files"], json!({"avatar": ["me.png", "you.png"]}));
}

#[test]
fn multipart_valued_known_button() {
    let msg = multipart(&[("title", None, "x"), ("delete", None, "7")], &["delete"]);
    assert_eq!(msg.action, "delete");
    assert_eq!(msg.data["value"], "7");
}

#[test]
fn post_body_dispatches_by_content_type() {
    let none = |_: &str| false;
    let msg = parse_post_body(
        Some("application/json"),
        br#"{"action":"a","data":{"n":1}}"#,
        MAX,
        &none,
    )
    .unwrap();
    assert_eq!(msg.action, "a");
    assert_eq!(msg.data["n"], 1);
    let msg = parse_post_body(None, br#"{"action":"b"}"#, MAX, &none).unwrap();
    assert_eq!(msg.action, "b");
    let msg = parse_post_body(
        Some("application/json; charset=utf-8"),
        br#"{"action":""}"#,
        MAX,
        &none,
    )
    .unwrap();
    assert_eq!(msg.action, "submit");
    let msg = parse_post_body(URLENCODED, b"go=", MAX, &none).unwrap();
    assert_eq!(msg.action, "go");
    assert!(matches!(
        parse_post_body(None, b"\xff", MAX, &none),
        Err(InputError::NotUtf8)
    ));
    assert!(matches!(
        parse_post_body(None, b"{}", 1, &none),
        Err(InputError::TooLarge { .. })
    ));
    assert!(matches!(
        parse_post_body(None, b"[]", MAX, &none),
        Err(InputError::NotAnObject)
    ));
}
