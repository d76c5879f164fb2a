//! Minimal diff between two render trees, encoded as a wire update (protocol §5.3–§5.6).
//!
//! `old` is the tree last sent on a connection (what the client holds), `new` the tree
//! just rendered. The result is the JSON object to send as `"tree"`: exactly `{}` when
//! nothing changed (never `null`). This module only compares trees; it keeps no state
//! and knows nothing about connections.
//!
//! # Rules
//!
//! - Same statics ([`same_statics`]): recurse; only changed slots are written.
//! - Different statics, or a different kind (text ↔ node ↔ range): the complete new
//!   value, with all its statics and all its slots. A node carrying `"s"` always carries
//!   every slot.
//! - A range whose statics, key slot and keys allow it is sent as ops (§5.5), otherwise
//!   as the complete range node (which the client swaps in place).
//! - Nothing changed below a slot: the slot is omitted. An ops array is never empty.
//! - Text the client would blank (`{{…}}`) is sent as an equivalent node (see [`json`]).
//!
//! # Range ops
//!
//! Items are identified by [`Item::key`], sent as JSON strings. Keyed ranges
//! (`key_slot: Some(k)`) are looked up by the client through `m.idKey`, so every item's
//! slot `k` must be the text of its key; unkeyed ranges carry their keys as `"_k"`. Ops
//! are used only when, in both trees, every key is non-empty and unique (and matches its
//! key slot), every item has one slot per statics gap, and the statics and key slot
//! are unchanged; otherwise the complete range is sent. It is also sent complete when no
//! old item survives (one object beats removing every row).
//!
//! Op order, one slot's ops in one update:
//! 1. `["r",key]` for each removed item, in old order;
//! 2. `["u",key,changes]` for each surviving item that changed, in new order; `changes`
//!    holds only changed slots, nested nodes diffed by the same rules (complete when their
//!    statics changed), nested ranges as nested ops;
//! 3. insertions, when the survivors kept their relative order: each maximal run of new
//!    items becomes `["a",items]` if it ends the list, `["p",items]` if it starts it,
//!    otherwise `["i",afterKey,items]` after the item just before it in the new order
//!    (always a survivor, so the anchor exists when the op is applied);
//! 4. when the survivors' relative order changed: one `["a",items]` with all new items,
//!    then `["o",[every key, new order]]`.
//!
//! New items are complete: every slot, nested nodes with their statics.
//!
//! Unkeyed ranges use positional keys (`"0"`, `"1"`, …), so the same algorithm yields a
//! positional diff: `u` for changed positions, `a` for appended positions, `r` for
//! removed tail positions; `_k` stays what the full encoding sent.
//!
//! # Client merge quirks handled here
//!
//! A complete node merged into a stored range is deep-merged rather than replaced when
//! the node itself contains a range, which would leave the old `"d"` in place; such a
//! node is sent with `"d":null`. The same is done for root slots past the previous
//! root's when the root's statics change (the client never deletes top-level keys).
//!
//! # Templates
//!
//! The client's targeted DOM path assumes a keyed range is the only content of its parent
//! element (protocol §5.7): templates should wrap each keyed range in its own element,
//! e.g. `<ul>{{#each}}…{{/each}}</ul>`, with headers and footers outside it.
//!
//! [`json`]: super::json

use std::collections::HashMap;
use std::sync::Arc;

use super::json::{
    is_blanked, write_items, write_key, write_node, write_range, write_slot, write_str, write_text,
    Prior,
};
use super::{same_statics, Item, KeyHashBuilder, Node, Range, Slot};

/// The update that turns `old` into `new` on the client, as JSON object text (`{}` when
/// nothing changed).
///
/// # Examples
///
/// ```
/// use livetemplate_runtime::tree::{diff::diff, Node, Slot};
/// use std::sync::Arc;
///
/// let statics: Arc<[Box<str>]> = Arc::from(vec!["<b>".into(), "</b>".into()]);
/// let old = Node { statics: statics.clone(), slots: vec![Slot::Text("1".into())] };
/// let new = Node { statics, slots: vec![Slot::Text("2".into())] };
/// assert_eq!(diff(&old, &new), r#"{"0":"2"}"#);
/// assert_eq!(diff(&new, &new), "{}");
/// ```
pub fn diff(old: &Node, new: &Node) -> String {
    let mut out = String::with_capacity(64);
    write_diff(old, new, &mut out);
    out
}

/// Append the update that turns `old` into `new` to `out` (see [`diff`]).
pub fn write_diff(old: &Node, new: &Node, out: &mut String) {
    if same_statics(&old.statics, &new.statics) {
        if !write_partial(&old.slots, &new.slots, out) {
            out.push_str("{}");
        }
    } else {
        write_node(new, Prior::RootOver(old), out);
    }
}

/// Write `{"<k>":<change>,…}` for the slots that changed; write nothing and return
/// false when none did.
fn write_partial(old: &[Slot], new: &[Slot], out: &mut String) -> bool {
    let start = out.len();
    out.push('{');
    let mut any = false;
    for (k, n) in new.iter().enumerate() {
        let mark = out.len();
        if any {
            out.push(',');
        }
        write_key(k, out);
        let written = match old.get(k) {
            Some(o) => write_slot_diff(o, n, out),
            None => {
                write_slot(n, Prior::Nothing, out);
                true
            }
        };
        if written {
            any = true;
        } else {
            out.truncate(mark);
        }
    }
    if any {
        out.push('}');
    } else {
        out.truncate(start);
    }
    any
}

/// Write the change from `old` to `new` in one slot; false (nothing written) when the
/// client already holds `new`.
fn write_slot_diff(old: &Slot, new: &Slot, out: &mut String) -> bool {
    match (old, new) {
        (Slot::Text(a), Slot::Text(b)) => {
            if a == b {
                return false;
            }
            write_text(b, out);
            true
        }
        (Slot::Node(a), Slot::Node(b)) if same_statics(&a.statics, &b.statics) => {
            write_partial(&a.slots, &b.slots, out)
        }
        (Slot::Range(a), Slot::Range(b)) => write_range_diff(a, b, out),
        _ => {
            write_slot(new, Prior::Known(old), out);
            true
        }
    }
}

type KeyMap<'a> = HashMap<&'a str, usize, KeyHashBuilder>;

/// The key the client reads for an item: `_k` for unkeyed ranges, the key slot's text
/// for keyed ones (`None` when that slot is not text).
fn client_key<'a>(range: &Range, item: &'a Item) -> Option<&'a str> {
    match range.key_slot {
        None => Some(&item.key),
        Some(k) => match item.slots.get(k) {
            Some(Slot::Text(t)) => Some(t),
            _ => None,
        },
    }
}

/// Whether the client can address `item` by `item.key`: the key is non-empty and is
/// exactly what the client reads (for keyed ranges, the key slot's text, sent as a
/// string), and the item has one slot per statics gap.
fn item_ok(range: &Range, item: &Item, slot_count: usize) -> bool {
    !item.key.is_empty()
        && item.slots.len() == slot_count
        && (range.key_slot.is_none()
            || client_key(range, item).is_some_and(|k| k == item.key && !is_blanked(k)))
}

/// Index of every key; `None` when a key is duplicated or an item is unusable.
fn index_keys(range: &Range, slot_count: usize) -> Option<KeyMap<'_>> {
    let mut map = KeyMap::with_capacity_and_hasher(range.items.len(), Default::default());
    for (i, item) in range.items.iter().enumerate() {
        if !item_ok(range, item, slot_count) || map.insert(item.key.as_str(), i).is_some() {
            return None;
        }
    }
    Some(map)
}

/// Whether `key` finds exactly one item of `range` on the client (which takes the first
/// match). Unkeyed items without `_k` would be looked up another way: refused.
fn unique_on_client(range: &Range, key: &str) -> bool {
    let mut hits = 0;
    for item in &range.items {
        match client_key(range, item) {
            Some(k) if k == key => hits += 1,
            Some("") if range.key_slot.is_none() => return false,
            _ => {}
        }
    }
    hits == 1
}

/// Write the change from range `old` to range `new`: ops, the complete range, or
/// nothing (false).
fn write_range_diff(old: &Range, new: &Range, out: &mut String) -> bool {
    if !same_statics(&old.statics, &new.statics) || old.key_slot != new.key_slot {
        write_range(new, out);
        return true;
    }
    let slot_count = new.statics.len().saturating_sub(1);
    if old.items.len() == new.items.len() {
        // The common case: same keys in the same order, a few items changed. One pass
        // finds out, without hashing.
        let mut changed = Vec::new();
        let mut same_keys = true;
        for (i, (o, n)) in old.items.iter().zip(&new.items).enumerate() {
            // The same allocation: an item the render reused, unchanged.
            if Arc::ptr_eq(o, n) {
                continue;
            }
            if o.key != n.key {
                same_keys = false;
                break;
            }
            if o.slots != n.slots {
                changed.push(i);
            }
        }
        if same_keys {
            return write_updates_in_place(old, new, &changed, slot_count, out);
        }
    }
    write_list_ops(old, new, slot_count, out)
}

/// Same keys in the same order: `u` ops for the `changed` positions.
fn write_updates_in_place(
    old: &Range,
    new: &Range,
    changed: &[usize],
    slot_count: usize,
    out: &mut String,
) -> bool {
    if changed.is_empty() {
        return false;
    }
    // Every updated item must be addressable, by a key that is unique on the client.
    // A few updates: scan the list per key; many: index it.
    let addressable = if changed.len() <= 8 {
        changed.iter().all(|&i| {
            let (o, n) = (&old.items[i], &new.items[i]);
            item_ok(old, o, slot_count)
                && item_ok(new, n, slot_count)
                && unique_on_client(old, &o.key)
        })
    } else {
        index_keys(old, slot_count).is_some()
            && new.items.iter().all(|n| item_ok(new, n, slot_count))
    };
    if !addressable {
        write_range(new, out);
        return true;
    }
    let start = out.len();
    out.push('[');
    let mut any = false;
    for &i in changed {
        any |= write_update_op(&old.items[i], &new.items[i], any, out);
    }
    if any {
        out.push(']');
    } else {
        out.truncate(start);
    }
    any
}

/// Marks a new item in the old-position table.
const NEW_ITEM: usize = usize::MAX;

/// For each new item, its position in `old` (or [`NEW_ITEM`]); `None` when keys are
/// duplicated or an item is not addressable.
fn match_items(old: &Range, new: &Range, slot_count: usize) -> Option<Vec<usize>> {
    let old_index = index_keys(old, slot_count)?;
    let mut seen = vec![false; old.items.len()];
    let mut fresh = KeyMap::default();
    let mut old_pos = Vec::with_capacity(new.items.len());
    for (j, n) in new.items.iter().enumerate() {
        if !item_ok(new, n, slot_count) {
            return None;
        }
        match old_index.get(n.key.as_str()) {
            Some(&i) => {
                if std::mem::replace(&mut seen[i], true) {
                    return None;
                }
                old_pos.push(i);
            }
            None => {
                if fresh.insert(n.key.as_str(), j).is_some() {
                    return None;
                }
                old_pos.push(NEW_ITEM);
            }
        }
    }
    Some(old_pos)
}

/// Keys were added, removed or moved: `r`, `u`, insertions, then `o` if needed.
fn write_list_ops(old: &Range, new: &Range, slot_count: usize, out: &mut String) -> bool {
    let Some(old_pos) = match_items(old, new, slot_count) else {
        write_range(new, out);
        return true;
    };
    let mut survives = vec![false; old.items.len()];
    let mut survivors = 0;
    for &i in old_pos.iter().filter(|&&i| i != NEW_ITEM) {
        survives[i] = true;
        survivors += 1;
    }
    if survivors == 0 && !old.items.is_empty() {
        write_range(new, out);
        return true;
    }
    let inserted = new.items.len() - survivors;

    out.push('[');
    let mut any = false;
    // 1. Removals, in old order.
    for (o, _) in old.items.iter().zip(&survives).filter(|(_, s)| !**s) {
        if any {
            out.push(',');
        }
        out.push_str("[\"r\",");
        write_str(&o.key, out);
        out.push(']');
        any = true;
    }
    // 2. Updates, in new order; also find whether the survivors moved.
    let mut last_old = None;
    let mut moved = false;
    for (n, &i) in new
        .items
        .iter()
        .zip(&old_pos)
        .filter(|(_, i)| **i != NEW_ITEM)
    {
        let o = &old.items[i];
        if !Arc::ptr_eq(o, n) && o.slots != n.slots {
            any |= write_update_op(o, n, any, out);
        }
        moved |= last_old.is_some_and(|last| i < last);
        last_old = Some(i);
    }
    // 3./4. Insertions, then the order.
    let items = &new.items;
    if moved {
        if inserted > 0 {
            if any {
                out.push(',');
            }
            out.push_str("[\"a\",");
            let fresh = items.iter().zip(&old_pos).filter(|(_, i)| **i == NEW_ITEM);
            write_items(new, fresh.map(|(n, _)| n), out);
            out.push(']');
            any = true;
        }
        if any {
            out.push(',');
        }
        out.push_str("[\"o\",[");
        for (i, n) in items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(&n.key, out);
        }
        out.push_str("]]");
        any = true;
    } else {
        let mut j = 0;
        while j < items.len() {
            if old_pos[j] != NEW_ITEM {
                j += 1;
                continue;
            }
            let run_start = j;
            while j < items.len() && old_pos[j] == NEW_ITEM {
                j += 1;
            }
            if any {
                out.push(',');
            }
            if j == items.len() {
                out.push_str("[\"a\",");
            } else if run_start == 0 {
                out.push_str("[\"p\",");
            } else {
                // The item before a maximal run of new items is a survivor.
                out.push_str("[\"i\",");
                write_str(&items[run_start - 1].key, out);
                out.push(',');
            }
            write_items(new, items[run_start..j].iter(), out);
            out.push(']');
            any = true;
        }
    }
    if any {
        out.push(']');
    } else {
        // Nothing was written after the '['.
        out.pop();
    }
    any
}

/// Write `["u",key,changes]` (preceded by a comma when `comma`) if the item changed.
fn write_update_op(old: &Item, new: &Item, comma: bool, out: &mut String) -> bool {
    let mark = out.len();
    if comma {
        out.push(',');
    }
    out.push_str("[\"u\",");
    write_str(&new.key, out);
    out.push(',');
    if write_partial(&old.slots, &new.slots, out) {
        out.push(']');
        true
    } else {
        out.truncate(mark);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::json::full_json;
    use serde_json::Value;
    use std::sync::Arc;

    // ---- a small tree builder -------------------------------------------------------

    fn st(parts: &[&str]) -> crate::tree::Statics {
        parts
            .iter()
            .map(|s| Box::<str>::from(*s))
            .collect::<Vec<_>>()
            .into()
    }

    fn t(s: &str) -> Slot {
        Slot::Text(s.to_owned())
    }

    fn node(statics: &[&str], slots: Vec<Slot>) -> Node {
        assert_eq!(
            statics.len(),
            slots.len() + 1,
            "builder: statics/slots mismatch"
        );
        Node {
            statics: st(statics),
            slots,
        }
    }

    fn root(slots: Vec<Slot>) -> Node {
        let mut statics = vec!["<main>"];
        statics.extend(std::iter::repeat_n("|", slots.len().saturating_sub(1)));
        if !slots.is_empty() {
            statics.push("</main>");
        }
        node(&statics, slots)
    }

    /// Keyed rows `<li data-key="K">TEXT</li>`, key slot 0.
    fn rows(statics: &crate::tree::Statics, rows: &[(&str, &str)]) -> Slot {
        Slot::Range(Range {
            statics: Arc::clone(statics),
            items: rows
                .iter()
                .map(|(k, v)| {
                    Arc::new(Item {
                        key: (*k).to_owned(),
                        slots: vec![t(k), t(v)],
                    })
                })
                .collect(),
            key_slot: Some(0),
        })
    }

    fn li() -> crate::tree::Statics {
        st(&["<li data-key=\"", "\">", "</li>"])
    }

    fn unkeyed(statics: &crate::tree::Statics, values: &[&str]) -> Slot {
        Slot::Range(Range {
            statics: Arc::clone(statics),
            items: values
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    Arc::new(Item {
                        key: i.to_string(),
                        slots: vec![t(v)],
                    })
                })
                .collect(),
            key_slot: None,
        })
    }

    fn parse(json: &str) -> Value {
        serde_json::from_str(json).unwrap_or_else(|e| panic!("invalid JSON {json}: {e}"))
    }

    // ---- wire checkers (also used by the property test below) -----------------------

    /// Every string the client would render as a value (not statics) must not be
    /// blanked; ops arrays must not be empty; nodes with "s" carry all their slots;
    /// range items carry every slot; keys are strings.
    fn check_wire(v: &Value, path: &str) -> Result<(), String> {
        match v {
            Value::String(s) if is_blanked(s) => Err(format!("{path}: blanked text {s:?}")),
            Value::Array(a) => {
                if a.is_empty() {
                    return Err(format!("{path}: empty array in a slot"));
                }
                if a[0].is_array() {
                    check_ops(a, path)
                } else {
                    Err(format!("{path}: array that is not an ops list"))
                }
            }
            Value::Object(o) => check_object(o, path),
            Value::String(_) => Ok(()),
            other => Err(format!("{path}: unexpected value {other}")),
        }
    }

    fn check_object(o: &serde_json::Map<String, Value>, path: &str) -> Result<(), String> {
        let statics = o
            .get("s")
            .map(|s| s.as_array().ok_or(format!("{path}: s not an array")));
        if let Some(statics) = statics {
            let statics = statics?;
            if statics.iter().any(|s| !s.is_string()) {
                return Err(format!("{path}: non-string static"));
            }
            let gaps = statics.len().saturating_sub(1);
            if let Some(d) = o.get("d").filter(|d| !d.is_null()) {
                let d = d.as_array().ok_or(format!("{path}: d not an array"))?;
                for (i, item) in d.iter().enumerate() {
                    check_item(item, gaps, o.contains_key("m"), &format!("{path}.d[{i}]"))?;
                }
                return Ok(());
            }
            for k in 0..gaps {
                let v = o
                    .get(&k.to_string())
                    .ok_or(format!("{path}: node with s lacks slot {k}"))?;
                check_wire(v, &format!("{path}.{k}"))?;
            }
            return Ok(());
        }
        for (k, v) in o {
            if k.parse::<usize>().is_err() {
                return Err(format!("{path}: partial node with key {k:?}"));
            }
            check_wire(v, &format!("{path}.{k}"))?;
        }
        Ok(())
    }

    fn check_item(item: &Value, gaps: usize, keyed: bool, path: &str) -> Result<(), String> {
        let o = item
            .as_object()
            .ok_or(format!("{path}: item is not an object"))?;
        for k in 0..gaps {
            let v = o
                .get(&k.to_string())
                .ok_or(format!("{path}: new item lacks slot {k}"))?;
            check_wire(v, &format!("{path}.{k}"))?;
        }
        if !keyed && !o.get("_k").is_some_and(Value::is_string) {
            return Err(format!("{path}: unkeyed item without a string _k"));
        }
        Ok(())
    }

    fn check_ops(ops: &[Value], path: &str) -> Result<(), String> {
        for op in ops {
            let op = op.as_array().ok_or(format!("{path}: op is not an array"))?;
            let letter = op
                .first()
                .and_then(Value::as_str)
                .ok_or(format!("{path}: op letter"))?;
            match letter {
                "r" | "u" | "i" => {
                    if !op.get(1).is_some_and(Value::is_string) {
                        return Err(format!("{path}: {letter} key is not a string"));
                    }
                }
                "o" => {
                    let keys = op
                        .get(1)
                        .and_then(Value::as_array)
                        .ok_or(format!("{path}: o"))?;
                    if !keys.iter().all(Value::is_string) {
                        return Err(format!("{path}: o key is not a string"));
                    }
                }
                "a" | "p" => {}
                other => return Err(format!("{path}: unknown op {other}")),
            }
            if letter == "u" {
                let changes = op.get(2).ok_or(format!("{path}: u without changes"))?;
                let changes = changes.as_object().ok_or(format!("{path}: u changes"))?;
                if changes.is_empty() {
                    return Err(format!("{path}: u with empty changes"));
                }
                check_object(changes, &format!("{path}.u"))?;
            }
        }
        Ok(())
    }

    /// Apply ops to a key list the way the client does; errors on a missing anchor,
    /// a missing key or an order list that is not a permutation.
    fn simulate(
        keys: &[String],
        ops: &Value,
        key_of: impl Fn(&Value) -> String,
    ) -> Result<Vec<String>, String> {
        let mut keys = keys.to_vec();
        for op in ops.as_array().ok_or("ops")? {
            let op = op.as_array().ok_or("op")?;
            let items = |v: &Value| -> Vec<String> {
                v.as_array()
                    .ok_or(())
                    .map(|a| a.iter().map(&key_of).collect())
                    .unwrap_or_default()
            };
            match op[0].as_str() {
                Some("r") => {
                    let k = op[1].as_str().ok_or("r key")?;
                    let i = keys
                        .iter()
                        .position(|x| x == k)
                        .ok_or(format!("r: no key {k}"))?;
                    keys.remove(i);
                }
                Some("u") => {
                    let k = op[1].as_str().ok_or("u key")?;
                    keys.iter()
                        .position(|x| x == k)
                        .ok_or(format!("u: no key {k}"))?;
                }
                Some("a") => keys.extend(items(&op[1])),
                Some("p") => {
                    let mut new = items(&op[1]);
                    new.append(&mut keys);
                    keys = new;
                }
                Some("i") => {
                    let k = op[1].as_str().ok_or("i key")?;
                    let i = keys
                        .iter()
                        .position(|x| x == k)
                        .ok_or(format!("i: anchor {k} does not exist"))?;
                    for (j, n) in items(&op[2]).into_iter().enumerate() {
                        keys.insert(i + 1 + j, n);
                    }
                }
                Some("o") => {
                    let order: Vec<String> = op[1]
                        .as_array()
                        .ok_or("o")?
                        .iter()
                        .map(|v| v.as_str().unwrap_or("").to_owned())
                        .collect();
                    let mut sorted_a = order.clone();
                    let mut sorted_b = keys.clone();
                    sorted_a.sort();
                    sorted_b.sort();
                    if sorted_a != sorted_b {
                        return Err("o: not a permutation of the current keys".into());
                    }
                    keys = order;
                }
                other => return Err(format!("unknown op {other:?}")),
            }
        }
        Ok(keys)
    }

    fn key_of_slot0(item: &Value) -> String {
        item.get("0")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_owned()
    }

    fn keys(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    // ---- §5.8: one test per pitfall --------------------------------------------------

    #[test]
    fn tree_is_never_null_unchanged_is_empty_object() {
        let s = li();
        let a = root(vec![t("x"), rows(&s, &[("a", "A"), ("b", "B")])]);
        let json = diff(&a, &a.clone());
        assert_eq!(json, "{}");
        assert!(parse(&json).is_object());
        // Equal content but different allocations: still nothing.
        let b = root(vec![t("x"), rows(&li(), &[("a", "A"), ("b", "B")])]);
        assert_eq!(diff(&a, &b), "{}");
    }

    #[test]
    fn template_looking_text_is_never_a_bare_string() {
        let brace = |inner: &str| Slot::Node(node(&["{", "}"], vec![t(inner)]));
        let a = root(vec![brace("{x}"), t("plain")]);
        let b = root(vec![brace("{y}"), t("{{raw}}")]);
        for json in [full_json(&a), full_json(&b), diff(&a, &b), diff(&b, &a)] {
            check_wire(&parse(&json), "tree").unwrap();
        }
        assert_eq!(
            diff(&a, &b),
            r#"{"0":{"0":"{y}"},"1":{"s":["{{","}}"],"0":"raw"}}"#
        );
    }

    #[test]
    fn item_keys_are_strings() {
        let s = li();
        let a = root(vec![rows(&s, &[("1", "A"), ("2", "B"), ("3", "C")])]);
        let b = root(vec![rows(&s, &[("3", "C"), ("1", "A2"), ("4", "D")])]);
        let json = diff(&a, &b);
        assert_eq!(
            json,
            r#"{"0":[["r","2"],["u","1",{"1":"A2"}],["a",[{"0":"4","1":"D"}]],["o",["3","1","4"]]]}"#
        );
        check_wire(&parse(&json), "tree").unwrap();
        // Unkeyed: _k is a string too.
        let u = root(vec![unkeyed(&st(&["<i>", "</i>"]), &["x", "y"])]);
        assert!(full_json(&u).contains(r#""_k":"1""#));
    }

    #[test]
    fn no_empty_ops_array() {
        let s = li();
        let a = root(vec![rows(&s, &[("a", "A")]), t("1")]);
        let b = root(vec![rows(&s, &[("a", "A")]), t("2")]);
        assert_eq!(diff(&a, &b), r#"{"1":"2"}"#);
        // Empty → empty.
        let a = root(vec![rows(&s, &[]), t("1")]);
        assert_eq!(diff(&a, &a.clone()), "{}");
        // An update that changes nothing inside a nested item is omitted too.
        let inner = |v: &str| Slot::Node(node(&["<b>", "</b>"], vec![t(v)]));
        let r = |v: &str| {
            Slot::Range(Range {
                statics: Arc::clone(&s),
                items: vec![Arc::new(Item {
                    key: "a".into(),
                    slots: vec![t("a"), inner(v)],
                })],
                key_slot: Some(0),
            })
        };
        assert_eq!(diff(&root(vec![r("x")]), &root(vec![r("x")])), "{}");
        assert_eq!(
            diff(&root(vec![r("x")]), &root(vec![r("y")])),
            r#"{"0":[["u","a",{"1":{"0":"y"}}]]}"#
        );
    }

    #[test]
    fn nodes_with_statics_carry_all_slots() {
        let a = root(vec![Slot::Node(node(&["<b>", "</b>"], vec![t("1")]))]);
        let b = root(vec![Slot::Node(node(
            &["<i>", "|", "</i>"],
            vec![t("1"), t("2")],
        ))]);
        let json = diff(&a, &b);
        assert_eq!(json, r#"{"0":{"s":["<i>","|","</i>"],"0":"1","1":"2"}}"#);
        check_wire(&parse(&json), "tree").unwrap();
        // Root statics change: the whole root, every slot.
        let c = root(vec![t("1"), t("2")]);
        let json = diff(&a, &c);
        assert_eq!(json, r#"{"s":["<main>","|","</main>"],"0":"1","1":"2"}"#);
    }

    #[test]
    fn new_range_items_carry_nested_statics() {
        let s = st(&["<li data-key=\"", "\">", "</li>"]);
        let item = |k: &str, v: &str| Item {
            key: k.into(),
            slots: vec![t(k), Slot::Node(node(&["<b>", "</b>"], vec![t(v)]))],
        };
        let r = |items: Vec<Item>| {
            Slot::Range(Range {
                statics: Arc::clone(&s),
                items: items.into_iter().map(Arc::new).collect(),
                key_slot: Some(0),
            })
        };
        let a = root(vec![r(vec![item("a", "A")])]);
        let b = root(vec![r(vec![
            item("z", "Z"),
            item("a", "A"),
            item("m", "M"),
            item("y", "Y"),
        ])]);
        let json = diff(&a, &b);
        assert_eq!(
            json,
            concat!(
                r#"{"0":[["p",[{"0":"z","1":{"s":["<b>","</b>"],"0":"Z"}}]],"#,
                r#"["a",[{"0":"m","1":{"s":["<b>","</b>"],"0":"M"}},{"0":"y","1":{"s":["<b>","</b>"],"0":"Y"}}]]]}"#
            )
        );
        check_wire(&parse(&json), "tree").unwrap();
    }

    #[test]
    fn insert_anchors_always_exist() {
        let s = li();
        let cases: [(&[&str], &[&str]); 6] = [
            (&["a", "b", "c"], &["a", "x", "b", "y", "z", "c", "w"]),
            (&["a", "b", "c"], &["x", "a", "y", "c"]),
            (&["a", "b", "c", "d"], &["n", "b", "m", "d", "o"]),
            (&["a"], &["b", "c", "a", "d"]),
            (&["a", "b"], &["b", "x", "a"]),
            (&[], &["a", "b"]),
        ];
        for (before, after) in cases {
            let rows_of = |ks: &[&str]| rows(&s, &ks.iter().map(|k| (*k, "v")).collect::<Vec<_>>());
            let a = root(vec![rows_of(before)]);
            let b = root(vec![rows_of(after)]);
            let v = parse(&diff(&a, &b));
            check_wire(&v, "tree").unwrap();
            let got = simulate(&keys(before), &v["0"], key_of_slot0)
                .unwrap_or_else(|e| panic!("{before:?} → {after:?}: {e}"));
            assert_eq!(got, keys(after), "{before:?} → {after:?}: {v}");
        }
    }

    #[test]
    fn keyed_range_sole_content_is_documented() {
        // Documentation-only pitfall (protocol §5.7): the module doc tells templates
        // to wrap keyed ranges in their own element.
        let doc = include_str!("diff.rs");
        assert!(doc.contains("should wrap each keyed range in its own"));
    }

    // ---- other rules ----------------------------------------------------------------

    #[test]
    fn one_changed_row_in_a_thousand_is_one_update_op() {
        let s = li();
        let data: Vec<(String, String)> = (0..1000)
            .map(|i| (format!("r{i}"), format!("row {i}")))
            .collect();
        let pairs: Vec<(&str, &str)> = data.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let a = root(vec![t("title"), rows(&s, &pairs)]);
        let mut b = a.clone();
        let Slot::Range(r) = &mut b.slots[1] else {
            unreachable!()
        };
        Arc::make_mut(&mut r.items[500]).slots[1] = t("changed");
        assert_eq!(diff(&a, &b), r#"{"1":[["u","r500",{"1":"changed"}]]}"#);
        assert_eq!(diff(&a, &a.clone()), "{}");
    }

    #[test]
    fn unkeyed_ranges_diff_by_position() {
        let s = st(&["<i>", "</i>"]);
        let a = root(vec![unkeyed(&s, &["x", "y", "z"])]);
        let b = root(vec![unkeyed(&s, &["x", "Y"])]);
        assert_eq!(diff(&a, &b), r#"{"0":[["r","2"],["u","1",{"0":"Y"}]]}"#);
        let c = root(vec![unkeyed(&s, &["x", "y", "z", "w"])]);
        assert_eq!(diff(&a, &c), r#"{"0":[["a",[{"0":"w","_k":"3"}]]]}"#);
    }

    #[test]
    fn duplicate_or_mismatched_keys_send_the_complete_range() {
        let s = li();
        let a = root(vec![rows(&s, &[("a", "A"), ("b", "B")])]);
        let dup = root(vec![rows(&s, &[("a", "A"), ("a", "B2")])]);
        assert!(diff(&a, &dup).starts_with(r#"{"0":{"s":"#));
        let mut bad = a.clone();
        let Slot::Range(r) = &mut bad.slots[0] else {
            unreachable!()
        };
        let item = Arc::make_mut(&mut r.items[1]);
        item.slots[1] = t("B2");
        item.key = "other".into(); // key no longer matches slot 0
        assert!(diff(&a, &bad).starts_with(r#"{"0":{"s":"#));
        let empty_key = root(vec![rows(&s, &[("", "A"), ("b", "B")])]);
        assert!(diff(&a, &empty_key).starts_with(r#"{"0":{"s":"#));
        // Same keys in the same order, but one of them twice: a `u` would hit the
        // first row only.
        let dup2 = root(vec![rows(&s, &[("a", "A"), ("a", "B3")])]);
        assert!(diff(&dup, &dup2).starts_with(r#"{"0":{"s":"#));
        // Many updates at once take the indexing path: same verdict.
        let many = |v: &str| {
            let data: Vec<(String, String)> = (0..20)
                .map(|i| (format!("k{}", i % 19), format!("{v}{i}")))
                .collect();
            let pairs: Vec<(&str, &str)> =
                data.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            root(vec![rows(&s, &pairs)])
        };
        assert!(diff(&many("x"), &many("y")).starts_with(r#"{"0":{"s":"#));
    }

    #[test]
    fn changed_key_slot_or_statics_send_the_complete_range() {
        let s = li();
        let a = root(vec![rows(&s, &[("a", "A")])]);
        let mut b = a.clone();
        let Slot::Range(r) = &mut b.slots[0] else {
            unreachable!()
        };
        r.key_slot = None;
        assert_eq!(
            diff(&a, &b),
            r#"{"0":{"s":["<li data-key=\"","\">","</li>"],"d":[{"0":"a","1":"A","_k":"a"}]}}"#
        );
        let c = root(vec![rows(
            &st(&["<p data-key=\"", "\">", "</p>"]),
            &[("a", "A")],
        )]);
        assert!(diff(&a, &c).starts_with(r#"{"0":{"s":["<p"#));
    }

    #[test]
    fn emptied_range_is_sent_whole_and_refilled_with_append() {
        let s = li();
        let a = root(vec![rows(&s, &[("a", "A"), ("b", "B")])]);
        let e = root(vec![rows(&s, &[])]);
        assert_eq!(
            diff(&a, &e),
            r#"{"0":{"s":["<li data-key=\"","\">","</li>"],"d":[],"m":{"idKey":"0"}}}"#
        );
        assert_eq!(
            diff(&e, &a),
            r#"{"0":[["a",[{"0":"a","1":"A"},{"0":"b","1":"B"}]]]}"#
        );
    }

    #[test]
    fn kind_changes_send_complete_values() {
        let s = li();
        let n = Slot::Node(node(&["<b>", "</b>"], vec![t("1")]));
        let r = rows(&s, &[("a", "A")]);
        assert_eq!(
            diff(&root(vec![n.clone()]), &root(vec![t("x")])),
            r#"{"0":"x"}"#
        );
        assert_eq!(
            diff(&root(vec![t("x")]), &root(vec![n.clone()])),
            r#"{"0":{"s":["<b>","</b>"],"0":"1"}}"#
        );
        assert_eq!(
            diff(&root(vec![n]), &root(vec![r.clone()])),
            r#"{"0":{"s":["<li data-key=\"","\">","</li>"],"d":[{"0":"a","1":"A"}],"m":{"idKey":"0"}}}"#
        );
        // A range replaced by a node that contains a range: "d":null, or the client
        // would keep the old rows.
        let wrapped = Slot::Node(node(&["<ul>", "</ul>"], vec![r.clone()]));
        let json = diff(&root(vec![r.clone()]), &root(vec![wrapped]));
        assert!(json.ends_with(r#""m":{"idKey":"0"}},"d":null}}"#), "{json}");
        // ... but not a node without ranges (the client replaces it whole).
        let json = diff(&root(vec![r]), &root(vec![Slot::Node(Node::text("none"))]));
        assert_eq!(json, r#"{"0":{"s":["none"]}}"#);
    }

    #[test]
    fn root_statics_change_guards_stale_top_level_slots() {
        let s = li();
        let wrapped = Slot::Node(node(&["<ul>", "</ul>"], vec![rows(&s, &[("a", "A")])]));
        let a = root(vec![t("1")]);
        let b = root(vec![t("1"), wrapped]);
        let json = diff(&a, &b);
        assert!(json.ends_with(r#","d":null}}"#), "{json}");
    }

    #[test]
    fn reverse_is_one_order_op() {
        let s = li();
        let a = root(vec![rows(&s, &[("a", "A"), ("b", "B"), ("c", "C")])]);
        let b = root(vec![rows(&s, &[("c", "C"), ("b", "B"), ("a", "A")])]);
        assert_eq!(diff(&a, &b), r#"{"0":[["o",["c","b","a"]]]}"#);
    }

    // ---- property: wire invariants and op simulation on random keyed lists ----------

    mod prop {
        use super::*;
        use proptest::prelude::*;

        fn list() -> impl Strategy<Value = Vec<(u8, u8)>> {
            // (key id, value id); keys deduplicated below.
            proptest::collection::vec((0u8..24, 0u8..4), 0..12)
        }

        fn dedup(v: Vec<(u8, u8)>) -> Vec<(String, String)> {
            let mut seen = std::collections::HashSet::new();
            v.into_iter()
                .filter(|(k, _)| seen.insert(*k))
                .map(|(k, val)| {
                    (
                        format!("k{k}"),
                        ["a", "{{b}}", "c\"", "d\n"][val as usize].to_owned(),
                    )
                })
                .collect()
        }

        proptest! {
            #[test]
            fn keyed_ops_reach_the_new_key_list(a in list(), b in list()) {
                let s = li();
                let (a, b) = (dedup(a), dedup(b));
                let pa: Vec<(&str, &str)> = a.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let pb: Vec<(&str, &str)> = b.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
                let (ta, tb) = (root(vec![rows(&s, &pa)]), root(vec![rows(&s, &pb)]));
                let json = diff(&ta, &tb);
                let v = parse(&json);
                prop_assert!(check_wire(&v, "tree").is_ok(), "{}: {:?}", json, check_wire(&v, "tree"));
                check_wire(&parse(&full_json(&tb)), "tree").unwrap();
                match v.get("0") {
                    None => prop_assert_eq!(&a, &b),
                    Some(ops) if ops.is_array() => {
                        let before: Vec<String> = a.iter().map(|(k, _)| k.clone()).collect();
                        let after: Vec<String> = b.iter().map(|(k, _)| k.clone()).collect();
                        let got = simulate(&before, ops, key_of_slot0);
                        prop_assert_eq!(got, Ok(after), "{}", json);
                    }
                    Some(full) => prop_assert!(full.get("d").is_some()),
                }
            }
        }
    }
}
