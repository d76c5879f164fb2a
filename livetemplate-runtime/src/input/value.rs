//! [`parse_value`]: the browser client's value coercion, reproduced exactly.

use serde_json::{Number, Value};

/// Largest integer a JavaScript number holds exactly (`Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// Coerce a string the way the browser client coerces form values, button values and
/// `data-*` attributes before sending them (its `parseValue`):
///
/// 1. Let `t` be `value` with JavaScript whitespace trimmed, and `n` what JavaScript's
///    `parseFloat(t)` gives (the longest numeric prefix). If there is one: an integer
///    beyond ±(2^53−1) gives the string `t`; otherwise, if `t` is exactly JavaScript's
///    canonical spelling of `n` (`"42"`, `"-3"`, `"2.5"`, `"1e-7"`), the number `n`.
/// 2. Else exactly `"true"` / `"false"` give booleans.
/// 3. Else `value` itself, untrimmed.
///
/// `"Infinity"` gives `null`, which is what the client's `JSON.stringify` sends for it.
///
/// Plain (no-JavaScript) form posts do **not** go through this: their values stay
/// strings, as in the original framework. Typed extraction with
/// [`Form`](super::Form) accepts both spellings, so typed code sees no difference.
///
/// # Examples
///
/// ```
/// use livetemplate_runtime::input::parse_value;
/// use serde_json::json;
///
/// assert_eq!(parse_value(" 42 "), json!(42));
/// assert_eq!(parse_value("007"), json!("007"));
/// assert_eq!(parse_value("true"), json!(true));
/// assert_eq!(parse_value("12345678901234567890"), json!("12345678901234567890"));
/// ```
pub fn parse_value(value: &str) -> Value {
    let t = value.trim_matches(is_js_whitespace);
    if let Some(n) = js_parse_float(t) {
        if n.is_finite() && n.fract() == 0.0 && n.abs() > MAX_SAFE_INTEGER {
            return Value::String(t.to_string());
        }
        if js_number_to_string(n) == t {
            return number_value(n);
        }
    }
    match value {
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => Value::String(value.to_string()),
    }
}

/// The JSON value `JSON.stringify` writes for a JavaScript number.
fn number_value(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER {
        // Exact: |n| < 2^53.
        Value::Number(Number::from(n as i64))
    } else {
        Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

/// JavaScript's `WhiteSpace` and `LineTerminator` (what `String.prototype.trim` removes).
fn is_js_whitespace(c: char) -> bool {
    matches!(
        c,
        '\t' | '\n' | '\u{0B}' | '\u{0C}' | '\r' | ' ' | '\u{A0}' | '\u{1680}' | '\u{2000}'
            ..='\u{200A}'
                | '\u{2028}'
                | '\u{2029}'
                | '\u{202F}'
                | '\u{205F}'
                | '\u{3000}'
                | '\u{FEFF}'
    )
}

/// JavaScript's `parseFloat` on an already-trimmed string: the value of the longest
/// prefix that is a decimal literal (`[+-]? (Infinity | digits [. digits] [e [+-] digits])`),
/// or `None` (NaN) when there is none.
fn js_parse_float(t: &str) -> Option<f64> {
    let b = t.as_bytes();
    let mut i = 0;
    let negative = match b.first() {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    if t[i..].starts_with("Infinity") {
        return Some(if negative {
            f64::NEG_INFINITY
        } else {
            f64::INFINITY
        });
    }
    let digits = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let int_len = digits(i);
    let int_part = &t[i..i + int_len];
    i += int_len;
    let mut frac_part = "";
    if b.get(i) == Some(&b'.') {
        let frac_len = digits(i + 1);
        frac_part = &t[i + 1..i + 1 + frac_len];
        i += 1 + frac_len;
    }
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let mut exp_part = "";
    if matches!(b.get(i), Some(b'e' | b'E')) {
        let mut j = i + 1;
        if matches!(b.get(j), Some(b'+' | b'-')) {
            j += 1;
        }
        let exp_len = digits(j);
        if exp_len > 0 {
            exp_part = &t[i + 1..j + exp_len];
        }
    }
    let literal = format!(
        "{}{}.{}e{}",
        if negative { "-" } else { "" },
        if int_part.is_empty() { "0" } else { int_part },
        if frac_part.is_empty() { "0" } else { frac_part },
        if exp_part.is_empty() { "0" } else { exp_part },
    );
    literal.parse().ok()
}

/// JavaScript's `Number.prototype.toString()` (radix 10) for a double.
fn js_number_to_string(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n == 0.0 {
        return "0".into();
    }
    if n.is_infinite() {
        return if n > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let sign = if n < 0.0 { "-" } else { "" };
    // Shortest round-trip digits, as JavaScript uses: "d.ddde±x".
    let sci = format!("{:e}", n.abs());
    let Some((mantissa, exp)) = sci.split_once('e') else {
        return sci;
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let Ok(exp) = exp.parse::<i32>() else {
        return sci;
    };
    let k = digits.len() as i32;
    // n = 0.d1d2…dk × 10^point
    let point = exp + 1;
    let body = if k <= point && point <= 21 {
        format!("{digits}{}", "0".repeat((point - k) as usize))
    } else if 0 < point && point <= 21 {
        let (a, b) = digits.split_at(point as usize);
        format!("{a}.{b}")
    } else if -6 < point && point <= 0 {
        format!("0.{}{digits}", "0".repeat((-point) as usize))
    } else {
        let e = point - 1;
        let e_sign = if e >= 0 { "+" } else { "-" };
        let (first, rest) = digits.split_at(1);
        if rest.is_empty() {
            format!("{first}e{e_sign}{}", e.abs())
        } else {
            format!("{first}.{rest}e{e_sign}{}", e.abs())
        }
    };
    format!("{sign}{body}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn js_to_string_matches_javascript() {
        for (n, s) in [
            (42.0, "42"),
            (-3.0, "-3"),
            (2.5, "2.5"),
            (0.1, "0.1"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (1.5e-7, "1.5e-7"),
            (0.000001, "0.000001"),
            (123.456, "123.456"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (5e-324, "5e-324"),
        ] {
            assert_eq!(js_number_to_string(n), s, "{n}");
        }
    }

    #[test]
    fn parse_float_takes_the_longest_prefix() {
        assert_eq!(js_parse_float("12abc"), Some(12.0));
        assert_eq!(js_parse_float(".5"), Some(0.5));
        assert_eq!(js_parse_float("1.e2"), Some(100.0));
        assert_eq!(js_parse_float("1e"), Some(1.0));
        assert_eq!(js_parse_float("-Infinityx"), Some(f64::NEG_INFINITY));
        assert_eq!(js_parse_float("0x10"), Some(0.0));
        assert_eq!(js_parse_float("abc"), None);
        assert_eq!(js_parse_float("-"), None);
        assert_eq!(js_parse_float("."), None);
        assert_eq!(js_parse_float(""), None);
    }
}
