use serde_json::{json, Value};

use crate::input::parse_value;

#[test]
fn numbers_in_canonical_form_become_numbers() {
    assert_eq!(parse_value("42"), json!(42));
    assert_eq!(parse_value(" 42 "), json!(42));
    assert_eq!(parse_value("\t100\n"), json!(100));
    assert_eq!(parse_value("-3"), json!(-3));
    assert_eq!(parse_value("2.5"), json!(2.5));
    assert_eq!(parse_value("0"), json!(0));
    assert_eq!(parse_value("3.25"), json!(3.25));
    assert_eq!(parse_value("1e-7"), json!(1e-7));
    assert_eq!(parse_value("9007199254740991"), json!(9007199254740991_i64));
    assert_eq!(
        parse_value("-9007199254740991"),
        json!(-9007199254740991_i64)
    );
}

#[test]
fn integers_serialise_without_a_fraction() {
    assert_eq!(serde_json::to_string(&parse_value("42")).unwrap(), "42");
    assert_eq!(serde_json::to_string(&parse_value("2.5")).unwrap(), "2.5");
}

#[test]
fn non_canonical_numbers_stay_strings() {
    for s in [
        "007", "4.50", "1e3", "0x10", "-0", "", "+5", ".5", "5.", "12abc", "3.14.15", "1E5",
    ] {
        assert_eq!(parse_value(s), Value::String(s.to_string()), "{s:?}");
    }
}

#[test]
fn unsafe_integers_stay_trimmed_strings() {
    assert_eq!(parse_value("9007199254740992"), json!("9007199254740992"));
    assert_eq!(parse_value("-9007199254740992"), json!("-9007199254740992"));
    assert_eq!(
        parse_value("1769358878696557000"),
        json!("1769358878696557000")
    );
    assert_eq!(
        parse_value("  1769358878696557000  "),
        json!("1769358878696557000")
    );
    // parseFloat reads a prefix: the trimmed string is returned.
    assert_eq!(
        parse_value(" 12345678901234567890abc "),
        json!("12345678901234567890abc")
    );
    assert_eq!(parse_value("1e+21"), json!("1e+21"));
}

#[test]
fn booleans_need_an_exact_match() {
    assert_eq!(parse_value("true"), json!(true));
    assert_eq!(parse_value("false"), json!(false));
    assert_eq!(parse_value("True"), json!("True"));
    assert_eq!(parse_value("FALSE"), json!("FALSE"));
    assert_eq!(parse_value("  true  "), json!("  true  "));
}

#[test]
fn other_strings_are_returned_untrimmed() {
    assert_eq!(parse_value("hello"), json!("hello"));
    assert_eq!(parse_value(" hi "), json!(" hi "));
    assert_eq!(parse_value("foo123"), json!("foo123"));
}

#[test]
fn infinity_becomes_null() {
    assert_eq!(parse_value("Infinity"), Value::Null);
    assert_eq!(parse_value("-Infinity"), Value::Null);
    assert_eq!(parse_value("Infinityx"), json!("Infinityx"));
}

#[test]
fn javascript_whitespace_is_trimmed() {
    assert_eq!(parse_value("\u{FEFF}7\u{A0}"), json!(7));
    assert_eq!(parse_value("\u{2028}7\u{3000}"), json!(7));
    // U+0085 is not JavaScript whitespace.
    assert_eq!(parse_value("\u{85}7"), json!("\u{85}7"));
}
