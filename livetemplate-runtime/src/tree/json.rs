//! Full-tree JSON encoding: a [`Node`] as the wire format of protocol §5.1.
//!
//! This module owns the hand-written JSON writer used for every tree the server sends
//! (full trees here, diffs in [`super::diff`]). It writes straight into a `String`,
//! without an intermediate `serde_json::Value`.
//!
//! Encoding:
//! - [`Node`] → `{"s":[statics…],"0":…,"1":…}`: always every slot.
//! - [`Slot::Text`] → a JSON string, inserted verbatim by the client. Text the client
//!   would blank (a string starting with `{{` and ending with `}}`, protocol §5.2) is
//!   sent as the node `{"s":["{{","}}"],"0":"<inner>"}` instead, which renders to the
//!   same HTML.
//! - [`Range`] with a key slot → `{"s":[item statics],"d":[{"0":…},…],"m":{"idKey":"<slot>"}}`;
//!   without one, every item carries its key as `"_k"` and there is no `"m"`.
//!   An empty range keeps its real item statics (`"d":[]`), so later appends need none.
//!
//! Two entry points: [`full_json`] for a client that holds no tree (the first message
//! of a connection), and [`replace_json`] for a full tree sent to a client whose tree
//! is unknown (HTTP replies, recovery). They differ only where the client's merge
//! (protocol §5.3) would otherwise keep a stale `"d"`: a range replaced by a node that
//! itself contains a range is not replaced but deep-merged, so such nodes carry
//! `"d":null`, which the client treats as "not a range".

use super::{Node, Range, Slot, Statics};

/// Encode `node` as a complete wire tree (all statics, all slots).
///
/// This is the first `"tree"` of a connection: the client holds nothing yet.
///
/// # Examples
///
/// ```
/// use livetemplate_runtime::tree::{json, Node, Slot};
/// use std::sync::Arc;
///
/// let node = Node {
///     statics: Arc::from(vec!["<b>".into(), "</b>".into()]),
///     slots: vec![Slot::Text("5".into())],
/// };
/// assert_eq!(json::full_json(&node), r#"{"s":["<b>","</b>"],"0":"5"}"#);
/// ```
pub fn full_json(node: &Node) -> String {
    let mut out = String::with_capacity(256);
    write_full(node, &mut out);
    out
}

/// Append the complete wire tree of `node` to `out` (see [`full_json`]).
pub fn write_full(node: &Node, out: &mut String) {
    write_node(node, Prior::Nothing, out);
}

/// Encode `node` as a complete wire tree that is correct whatever tree the client
/// currently holds (HTTP replies, resynchronisation).
///
/// Same as [`full_json`] except that nodes containing a range carry `"d":null`, so a
/// stale range the client may hold at that path is not merged into them.
pub fn replace_json(node: &Node) -> String {
    let mut out = String::with_capacity(256);
    write_replace(node, &mut out);
    out
}

/// Append the output of [`replace_json`] to `out`.
pub fn write_replace(node: &Node, out: &mut String) {
    write_node(node, Prior::UnknownRoot, out);
}

/// Append `s` to `out` as a JSON string literal (quotes included), escaping `"`, `\`
/// and control characters.
pub fn write_str(s: &str, out: &mut String) {
    out.reserve(s.len() + 2);
    out.push('"');
    let bytes = s.as_bytes();
    // Skip clean 8-byte words first: most text needs no escaping.
    let mut start = 0;
    while start + 8 <= bytes.len() {
        let mut word = [0u8; 8];
        word.copy_from_slice(&bytes[start..start + 8]);
        if word_needs_escape(u64::from_le_bytes(word)) {
            break;
        }
        start += 8;
    }
    let mut copied = 0;
    for (i, &b) in bytes.iter().enumerate().skip(start) {
        let esc = ESCAPE[b as usize];
        if esc == 0 {
            continue;
        }
        // Every escaped byte is ASCII, so `i` is a char boundary.
        out.push_str(&s[copied..i]);
        if esc == b'u' {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.push_str("\\u00");
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 0xf) as usize] as char);
        } else {
            out.push('\\');
            out.push(esc as char);
        }
        copied = i + 1;
    }
    out.push_str(&s[copied..]);
    out.push('"');
}

/// Whether any byte of `w` is a control character, `"` or `\` (exact: the classic
/// "has a zero byte" / "has a byte less than n" word tricks).
fn word_needs_escape(w: u64) -> bool {
    const LO: u64 = 0x0101_0101_0101_0101;
    const HI: u64 = 0x8080_8080_8080_8080;
    let control = w.wrapping_sub(LO * 0x20) & !w & HI;
    let q = w ^ (LO * u64::from(b'"'));
    let quote = q.wrapping_sub(LO) & !q & HI;
    let b = w ^ (LO * u64::from(b'\\'));
    let backslash = b.wrapping_sub(LO) & !b & HI;
    (control | quote | backslash) != 0
}

/// `ESCAPE[b]`: 0 = copy, `u` = `\u00XX`, else the character after the backslash.
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0a] = b'n';
    t[0x0c] = b'f';
    t[0x0d] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

/// True when the client would render this text as empty (protocol §5.2).
pub(crate) fn is_blanked(text: &str) -> bool {
    text.starts_with("{{") && text.ends_with("}}")
}

/// What the client holds at the path a complete value is written to; decides where a
/// node needs `"d":null` (see the module doc).
#[derive(Clone, Copy)]
pub(crate) enum Prior<'a> {
    /// Nothing, or a scalar: the value is stored as sent.
    Nothing,
    /// Exactly this slot (the tree last sent).
    Known(&'a Slot),
    /// Anything: the value may be merged into a stale range.
    Unknown,
    /// The root, replaced over this previous root. Top-level keys are never deleted
    /// by the client, so slots past the old root's are [`Prior::Unknown`].
    RootOver(&'a Node),
    /// The root, replaced over an unknown tree.
    UnknownRoot,
}

impl<'a> Prior<'a> {
    /// The prior of slot `k` of a complete node written over `self`.
    fn child(self, k: usize) -> Prior<'a> {
        match self {
            Prior::Nothing | Prior::Known(Slot::Text(_) | Slot::Range(_)) => Prior::Nothing,
            Prior::Known(Slot::Node(n)) => n.slots.get(k).map_or(Prior::Nothing, Prior::Known),
            Prior::Unknown | Prior::UnknownRoot => Prior::Unknown,
            Prior::RootOver(n) => n.slots.get(k).map_or(Prior::Unknown, Prior::Known),
        }
    }

    /// Whether a node written here may be merged into a stored range.
    fn may_hold_range(self) -> bool {
        matches!(self, Prior::Unknown | Prior::Known(Slot::Range(_)))
    }
}

/// Whether `node` has a range in a slot, at any depth through nested nodes (the
/// client's `hasRangeAnywhere`).
fn contains_range(node: &Node) -> bool {
    node.slots.iter().any(|s| match s {
        Slot::Text(_) => false,
        Slot::Range(_) => true,
        Slot::Node(n) => contains_range(n),
    })
}

/// Write a complete value for `slot` (all statics, all slots, complete items).
pub(crate) fn write_slot(slot: &Slot, prior: Prior<'_>, out: &mut String) {
    match slot {
        Slot::Text(t) => write_text(t, out),
        Slot::Node(n) => write_node(n, prior, out),
        Slot::Range(r) => write_range(r, out),
    }
}

/// Write dynamic text, sending text the client would blank as an equivalent node.
pub(crate) fn write_text(text: &str, out: &mut String) {
    if is_blanked(text) {
        out.push_str(r#"{"s":["{{","}}"],"0":"#);
        write_text(&text[2..text.len() - 2], out);
        out.push('}');
    } else {
        write_str(text, out);
    }
}

/// Write a complete node: `{"s":[…],"0":…,…}`.
pub(crate) fn write_node(node: &Node, prior: Prior<'_>, out: &mut String) {
    out.push_str("{\"s\":");
    write_statics(&node.statics, out);
    for (k, slot) in node.slots.iter().enumerate() {
        out.push(',');
        write_key(k, out);
        write_slot(slot, prior.child(k), out);
    }
    if prior.may_hold_range() && contains_range(node) {
        out.push_str(",\"d\":null");
    }
    out.push('}');
}

/// Write a complete range: `{"s":[…],"d":[…]}` plus `"m"` when keyed.
pub(crate) fn write_range(range: &Range, out: &mut String) {
    out.push_str("{\"s\":");
    write_statics(&range.statics, out);
    out.push_str(",\"d\":");
    write_items(range, range.items.iter(), out);
    if let Some(k) = range.key_slot {
        out.push_str(",\"m\":{\"idKey\":\"");
        push_usize(k, out);
        out.push_str("\"}");
    }
    out.push('}');
}

/// Write complete items as a JSON array.
pub(crate) fn write_items<'a>(
    range: &Range,
    items: impl Iterator<Item = &'a std::sync::Arc<super::Item>>,
    out: &mut String,
) {
    out.push('[');
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        for (k, slot) in item.slots.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            write_key(k, out);
            // A new item is a new object on the client: nothing to merge into.
            write_slot(slot, Prior::Nothing, out);
        }
        if range.key_slot.is_none() {
            if !item.slots.is_empty() {
                out.push(',');
            }
            out.push_str("\"_k\":");
            write_str(&item.key, out);
        }
        out.push('}');
    }
    out.push(']');
}

/// Write a statics array.
pub(crate) fn write_statics(statics: &Statics, out: &mut String) {
    out.push('[');
    for (i, s) in statics.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_str(s, out);
    }
    out.push(']');
}

/// Write `"<k>":`.
pub(crate) fn write_key(k: usize, out: &mut String) {
    const KEYS: [&str; 16] = [
        "\"0\":", "\"1\":", "\"2\":", "\"3\":", "\"4\":", "\"5\":", "\"6\":", "\"7\":", "\"8\":",
        "\"9\":", "\"10\":", "\"11\":", "\"12\":", "\"13\":", "\"14\":", "\"15\":",
    ];
    match KEYS.get(k) {
        Some(key) => out.push_str(key),
        None => {
            out.push('"');
            push_usize(k, out);
            out.push_str("\":");
        }
    }
}

/// Append the decimal digits of `n`.
pub(crate) fn push_usize(n: usize, out: &mut String) {
    if n < 10 {
        out.push((b'0' + n as u8) as char);
        return;
    }
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    let mut n = n;
    while n > 0 {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    for &b in &buf[i..] {
        out.push(b as char);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::Item;
    use std::sync::Arc;

    fn statics(parts: &[&str]) -> Statics {
        parts
            .iter()
            .map(|s| Box::<str>::from(*s))
            .collect::<Vec<_>>()
            .into()
    }

    fn text(s: &str) -> Slot {
        Slot::Text(s.to_owned())
    }

    #[test]
    fn escapes_json_strings() {
        let mut out = String::new();
        write_str("a\"b\\c\nd\te\u{1}f\u{7f}é</script>\u{2028}", &mut out);
        assert_eq!(
            out,
            r#""a\"b\\c\nd\te\u0001f"#.to_owned() + "\u{7f}é</script>\u{2028}\""
        );
        let back: String = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(back, "a\"b\\c\nd\te\u{1}f\u{7f}é</script>\u{2028}");
    }

    #[test]
    fn every_control_character_round_trips() {
        let all: String = (0u8..0x80).map(char::from).collect();
        let mut out = String::new();
        write_str(&all, &mut out);
        let back: String = serde_json::from_str(&out).expect("valid JSON");
        assert_eq!(back, all);
    }

    #[test]
    fn node_with_all_slots() {
        let inner = Node {
            statics: statics(&["<b>", "</b>"]),
            slots: vec![text("x")],
        };
        let node = Node {
            statics: statics(&["<p>", " ", "</p>"]),
            slots: vec![text("1"), Slot::Node(inner)],
        };
        assert_eq!(
            full_json(&node),
            r#"{"s":["<p>"," ","</p>"],"0":"1","1":{"s":["<b>","</b>"],"0":"x"}}"#
        );
    }

    #[test]
    fn keyed_range_has_id_key_and_no_k() {
        let range = Range {
            statics: statics(&["<li data-key=\"", "\">", "</li>"]),
            items: vec![Arc::new(Item {
                key: "a".into(),
                slots: vec![text("a"), text("Alpha")],
            })],
            key_slot: Some(0),
        };
        let node = Node {
            statics: statics(&["<ul>", "</ul>"]),
            slots: vec![Slot::Range(range)],
        };
        assert_eq!(
            full_json(&node),
            r#"{"s":["<ul>","</ul>"],"0":{"s":["<li data-key=\"","\">","</li>"],"d":[{"0":"a","1":"Alpha"}],"m":{"idKey":"0"}}}"#
        );
    }

    #[test]
    fn unkeyed_range_items_carry_k() {
        let range = Range {
            statics: statics(&["<i>", "</i>"]),
            items: vec![
                Arc::new(Item {
                    key: "0".into(),
                    slots: vec![text("x")],
                }),
                Arc::new(Item {
                    key: "1".into(),
                    slots: vec![text("y")],
                }),
            ],
            key_slot: None,
        };
        let node = Node {
            statics: statics(&["", ""]),
            slots: vec![Slot::Range(range)],
        };
        assert_eq!(
            full_json(&node),
            r#"{"s":["",""],"0":{"s":["<i>","</i>"],"d":[{"0":"x","_k":"0"},{"0":"y","_k":"1"}]}}"#
        );
    }

    #[test]
    fn empty_range_keeps_its_statics() {
        let range = Range {
            statics: statics(&["<i>", "</i>"]),
            items: vec![],
            key_slot: Some(0),
        };
        let node = Node {
            statics: statics(&["", ""]),
            slots: vec![Slot::Range(range)],
        };
        assert_eq!(
            full_json(&node),
            r#"{"s":["",""],"0":{"s":["<i>","</i>"],"d":[],"m":{"idKey":"0"}}}"#
        );
    }

    #[test]
    fn text_the_client_would_blank_is_sent_as_a_node() {
        let node = Node {
            statics: statics(&["", ""]),
            slots: vec![text("{{{{x}}}}")],
        };
        assert_eq!(
            full_json(&node),
            r#"{"s":["",""],"0":{"s":["{{","}}"],"0":{"s":["{{","}}"],"0":"x"}}}"#
        );
        let node = Node {
            statics: statics(&["", ""]),
            slots: vec![text("{{}}")],
        };
        assert_eq!(
            full_json(&node),
            r#"{"s":["",""],"0":{"s":["{{","}}"],"0":""}}"#
        );
        // Not blanked: sent as is.
        let node = Node {
            statics: statics(&["", ""]),
            slots: vec![text("{{}")],
        };
        assert_eq!(full_json(&node), r#"{"s":["",""],"0":"{{}"}"#);
    }

    #[test]
    fn replace_json_marks_nodes_containing_ranges() {
        let range = Range {
            statics: statics(&["<i>", "</i>"]),
            items: vec![],
            key_slot: None,
        };
        let wrapper = Node {
            statics: statics(&["<ul>", "</ul>"]),
            slots: vec![Slot::Range(range)],
        };
        let node = Node {
            statics: statics(&["", "", ""]),
            slots: vec![Slot::Node(wrapper), Slot::Node(Node::text("x"))],
        };
        assert_eq!(
            replace_json(&node),
            r#"{"s":["","",""],"0":{"s":["<ul>","</ul>"],"0":{"s":["<i>","</i>"],"d":[]},"d":null},"1":{"s":["x"]}}"#
        );
        assert!(!full_json(&node).contains("null"));
    }

    #[test]
    fn word_scan_finds_every_escape_position() {
        for special in ['"', '\\', '\n', '\u{0}', '\u{1f}'] {
            for pos in 0..20 {
                let mut text: String = "abcdefghijklmnopqrst".into();
                text.replace_range(pos..pos + 1, &special.to_string());
                let mut out = String::new();
                write_str(&text, &mut out);
                let back: String = serde_json::from_str(&out).expect("valid JSON");
                assert_eq!(back, text);
                assert!(
                    out.len() > text.len() + 2,
                    "{special:?} at {pos} not escaped: {out}"
                );
            }
        }
        // Bytes around the thresholds are not escaped.
        let mut out = String::new();
        write_str(" !#[]~\u{7f}\u{80}ÿ€", &mut out);
        assert_eq!(out, "\" !#[]~\u{7f}\u{80}ÿ€\"");
    }

    #[test]
    fn slot_keys() {
        for k in [0usize, 9, 15, 16, 100] {
            let mut out = String::new();
            write_key(k, &mut out);
            assert_eq!(out, format!("\"{k}\":"));
        }
    }

    #[test]
    fn large_slot_numbers() {
        let mut out = String::new();
        for n in [0usize, 9, 10, 99, 100, 12345, usize::MAX] {
            out.clear();
            push_usize(n, &mut out);
            assert_eq!(out, n.to_string());
        }
    }

    #[test]
    fn shared_statics_are_written_by_content() {
        let s = statics(&["a", "b"]);
        let n1 = Node {
            statics: Arc::clone(&s),
            slots: vec![text("1")],
        };
        assert_eq!(full_json(&n1), r#"{"s":["a","b"],"0":"1"}"#);
    }
}
