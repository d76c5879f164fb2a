//! Random input never panics a parser.

use proptest::prelude::*;
use serde::Deserialize;

use crate::input::multipart::parse_multipart;
use crate::input::{
    parse_form_post_with_actions, parse_message, parse_post_body, parse_value, Form,
};

#[derive(Debug, Deserialize)]
#[allow(dead_code)]
struct Target {
    a: Option<u8>,
    b: Vec<i64>,
    c: String,
    d: bool,
    e: Option<(f32, char)>,
}

fn known(name: &str) -> bool {
    name.len() % 2 == 0
}

fn multipart_like() -> impl Strategy<Value = Vec<u8>> {
    let pieces = prop::sample::select(vec![
        "--B".as_bytes(),
        b"--B--",
        b"\r\n",
        b"Content-Disposition: form-data; name=\"x\"",
        b"Content-Disposition: form-data; name=\"data\"",
        b"; filename=\"f\"",
        b"{\"a\":1}",
        b"lvt-action",
        b"v",
        b"\"",
        b";",
        b"\\",
        b"\xff",
    ]);
    prop::collection::vec(pieces, 0..24).prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_message(&text, 4096);
        let _ = parse_value(&text);
        let _ = parse_multipart(&bytes, "B");
        for ct in [
            None,
            Some("application/json"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=B"),
            Some(text.as_ref()),
        ] {
            let _ = parse_post_body(ct, &bytes, 4096, &known);
            if let Ok(msg) = parse_form_post_with_actions(ct, &bytes, 4096, &known) {
                prop_assert!(!msg.action.is_empty());
                let _ = Form::<Target>::from_data(&msg.data);
            }
        }
    }

    #[test]
    fn multipart_like_bytes_never_panic(bytes in multipart_like()) {
        let _ = parse_multipart(&bytes, "B");
        if let Ok(msg) = parse_form_post_with_actions(Some("multipart/form-data; boundary=B"), &bytes, 4096, &known) {
            prop_assert!(!msg.action.is_empty());
        }
    }

    #[test]
    fn random_json_never_panics(text in "\\{(\"[a-e]\":(\"[ -~]{0,6}\"|[0-9.e+-]{1,6}|true|null|\\[\\]|\\[\"1\",2\\]|\\{\\}),?){0,6}\\}") {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text) {
            if let Some(map) = v.as_object() {
                let _ = Form::<Target>::from_data(map);
            }
        }
        let _ = parse_message(&text, 4096);
    }

    #[test]
    fn parse_value_is_stable_on_numbers(n in any::<i32>()) {
        prop_assert_eq!(parse_value(&n.to_string()), serde_json::json!(n));
    }
}
