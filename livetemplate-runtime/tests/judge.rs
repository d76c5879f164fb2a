//! The official client judges our trees: random sequences of render trees are encoded
//! (full tree first, then diffs) and fed to `@livetemplate/client`'s own `TreeRenderer`
//! (`tests/js/judge.js`), whose HTML after each step must equal the server's full render
//! of the new tree (`Node::to_html`).
//!
//! Needs Node.js and `tests/js/node_modules` (`npm ci --prefix tests/js`). Set
//! `LT_SKIP_NODE=1` to skip these tests where Node is unavailable.

#[path = "support/node_judge.rs"]
mod node_judge;
#[path = "support/rng.rs"]
mod rng;

use std::collections::HashMap;
use std::sync::Arc;

use livetemplate_runtime::tree::{diff::diff, json, Item, Node, Range, Slot, Statics};
use node_judge::{check_values, judge};
use proptest::prelude::*;
use rng::Rng;
use serde_json::Value;

/// Encode `trees` as one judge case (full tree, then diffs; `replace[i]` sends step `i`
/// with `json::replace_json` instead of a diff) and check the wire invariants of each
/// step on the way.
fn encode_case(name: &str, trees: &[Node], replace: &[bool]) -> Result<String, String> {
    let mut steps = Vec::with_capacity(trees.len());
    for (i, tree) in trees.iter().enumerate() {
        let wire = if i == 0 {
            json::full_json(tree)
        } else if replace.get(i).copied().unwrap_or(false) {
            json::replace_json(tree)
        } else {
            diff(&trees[i - 1], tree)
        };
        let value: Value = serde_json::from_str(&wire)
            .map_err(|e| format!("step {i}: invalid JSON {wire}: {e}"))?;
        if !value.is_object() {
            return Err(format!("step {i}: tree is not an object: {wire}"));
        }
        check_values(&value, &format!("step {i}"))?;
        let unchanged = diff(tree, tree);
        if unchanged != "{}" {
            return Err(format!(
                "step {i}: diff of a tree with itself is {unchanged}"
            ));
        }
        steps.push(serde_json::json!({ "tree": value, "html": tree.to_html() }));
    }
    Ok(serde_json::json!({ "name": name, "steps": steps }).to_string())
}

/// Run trees through the judge; `Err` with the judge's verdict on a mismatch.
fn judge_trees(name: &str, trees: &[Node], replace: &[bool]) -> Result<(), String> {
    let case = encode_case(name, trees, replace)?;
    match node_judge::verdict(&case)? {
        None => Ok(()),
        Some(verdict) => Err(format!("client disagrees: {verdict}\ncase: {case}")),
    }
}

// ---- a small tree builder ---------------------------------------------------------------

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

fn node(parts: &[&str], slots: Vec<Slot>) -> Node {
    assert_eq!(parts.len(), slots.len() + 1);
    Node {
        statics: statics(parts),
        slots,
    }
}

fn keyed(st: &Statics, rows: &[(&str, &str)]) -> Slot {
    Slot::Range(Range {
        statics: Arc::clone(st),
        items: rows
            .iter()
            .map(|(k, v)| {
                Arc::new(Item {
                    key: (*k).into(),
                    slots: vec![text(k), text(v)],
                })
            })
            .collect(),
        key_slot: Some(0),
    })
}

// ---- fixed scenarios --------------------------------------------------------------------

#[test]
fn protocol_transcript_keyed_list() {
    let li = statics(&["<li data-key=\"", "\">", "</li>"]);
    let page =
        |rows: &[(&str, &str)]| node(&["<ul>", "</ul><form></form>"], vec![keyed(&li, rows)]);
    let trees = [
        page(&[("a", "Alpha"), ("b", "Beta")]),
        page(&[("a", "Alpha")]),
        page(&[("a", "Alpha"), ("c", "Gamma")]),
        page(&[("a", "Alpha"), ("n", "New"), ("c", "Gamma")]),
        page(&[("z", "Zed"), ("a", "Alpha"), ("n", "New"), ("c", "Gamma")]),
        page(&[("z", "Zed"), ("a", "Alpha 2"), ("n", "New"), ("c", "Gamma")]),
        page(&[("c", "Gamma"), ("a", "Alpha 2"), ("n", "New"), ("z", "Zed")]),
        page(&[
            ("c", "C2"),
            ("d", "D"),
            ("e", "E"),
            ("a", "Alpha 2"),
            ("z", "Zed"),
        ]),
        page(&[]),
        page(&[("q", "Q")]),
    ];
    judge_trees("transcript", &trees, &[]).unwrap();
}

#[test]
fn judge_rejects_a_wrong_render() {
    let Some(judge) = judge() else { return };
    let case = r#"{"name":"wrong","steps":[{"tree":{"s":["<b>","</b>"],"0":"1"},"html":"<b>1</b>"},{"tree":{"0":"2"},"html":"<b>3</b>"}]}"#;
    let verdict = judge
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .run(case)
        .unwrap();
    assert_eq!(verdict["ok"], Value::Bool(false), "{verdict}");
    assert_eq!(verdict["step"], 1, "{verdict}");
    assert_eq!(verdict["pos"], 3, "{verdict}");
}

#[test]
fn thousand_rows_moves_and_updates() {
    let li = statics(&["<tr data-key=\"", "\"><td>", "</td></tr>"]);
    let page = |rows: &[(String, String)]| {
        let rows: Vec<(&str, &str)> = rows.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        node(&["<table>", "</table>"], vec![keyed(&li, &rows)])
    };
    let base: Vec<(String, String)> = (0..1000)
        .map(|i| (format!("r{i}"), format!("row {i}")))
        .collect();
    let mut changed = base.clone();
    changed[500].1 = "changed".into();
    let mut reversed = changed.clone();
    reversed.reverse();
    let mut thinned: Vec<_> = reversed.iter().step_by(2).cloned().collect();
    thinned.insert(10, ("x1".into(), "new".into()));
    thinned.push(("x2".into(), "new".into()));
    let mut grown = thinned.clone();
    grown.extend((1000..2000).map(|i| (format!("r{i}"), format!("row {i}"))));
    let trees = [
        page(&base),
        page(&changed),
        page(&reversed),
        page(&thinned),
        page(&grown),
        page(&base),
    ];
    assert_eq!(
        diff(&trees[0], &trees[1]),
        r#"{"0":[["u","r500",{"1":"changed"}]]}"#
    );
    judge_trees("thousand rows", &trees, &[]).unwrap();
}

#[test]
fn range_replaced_by_a_node_containing_a_range() {
    let li = statics(&["<li data-key=\"", "\">", "</li>"]);
    let list = keyed(&li, &[("a", "A"), ("b", "B")]);
    let wrapped = Slot::Node(node(&["<ul>", "</ul>"], vec![keyed(&li, &[("c", "C")])]));
    let page = |slots: Vec<Slot>| {
        let mut parts = vec!["<main>"];
        parts.extend(std::iter::repeat_n("<hr>", slots.len() - 1));
        parts.push("</main>");
        node(&parts, slots)
    };
    let trees = [
        page(vec![list.clone()]),
        page(vec![wrapped.clone()]),
        page(vec![list.clone()]),
        // Root shrinks, then grows over a stale top-level range.
        page(vec![text("x"), list.clone()]),
        node(&["<p>", "</p>"], vec![text("y")]),
        page(vec![text("x"), wrapped]),
    ];
    judge_trees("range to node", &trees, &[]).unwrap();
    // The same over an unknown client state.
    judge_trees(
        "range to node, replace",
        &trees,
        &[false, true, true, true, true, true],
    )
    .unwrap();
}

// ---- random sequences -------------------------------------------------------------------

const TEXTS: &[&str] = &[
    "",
    "a",
    "b",
    "x y",
    "<em>e</em>",
    "&amp;",
    "&quot;q&quot;",
    "line\nbreak",
    "é✓",
    "{x}",
    "}}",
    "{{",
    "0",
    "tab\t",
    "{{raw}}",
    "\\",
    "</li>",
];
const KEYS: &[&str] = &[
    "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "k&amp;1", "ключ", "a b",
    "q&quot;t",
];

/// Builds random trees whose statics come from a small pool, so consecutive trees often
/// share structure; some statics are fresh allocations with equal content.
struct Gen {
    rng: Rng,
    pool: HashMap<(u8, usize, usize), Statics>,
}

impl Gen {
    fn statics(&mut self, kind: u8, slots: usize, variant: usize) -> Statics {
        let make = || -> Statics {
            let mut parts: Vec<String> = Vec::with_capacity(slots + 1);
            match kind {
                // Nodes.
                b'n' => {
                    parts.push(format!("<div class=\"n{slots}v{variant}\">"));
                    for i in 0..slots.saturating_sub(1) {
                        parts.push(format!("<hr v{variant}-{i}>"));
                    }
                    if slots > 0 {
                        parts.push("</div>".into());
                    } else {
                        parts[0].push_str("static \"quoted\"\n</div>");
                    }
                }
                // Unkeyed items.
                b'u' => {
                    parts.push(format!("<p v{variant}>"));
                    for i in 0..slots.saturating_sub(1) {
                        parts.push(format!("|{i}|"));
                    }
                    parts.push("</p>".into());
                }
                // Keyed items: `variant` is the key slot; the static before it ends with data-key=".
                _ => {
                    for i in 0..slots {
                        parts.push(if i == variant {
                            "<li data-key=\"".into()
                        } else {
                            format!("<span s{i}>")
                        });
                    }
                    parts.push("</li>".into());
                    // Close the attribute in the static right after the key slot.
                    parts[variant + 1].insert_str(0, "\">");
                }
            }
            let parts: Vec<Box<str>> = parts.into_iter().map(String::into_boxed_str).collect();
            parts.into()
        };
        if self.rng.chance(10) {
            return make();
        }
        self.pool
            .entry((kind, slots, variant))
            .or_insert_with(make)
            .clone()
    }

    fn text(&mut self) -> Slot {
        if self.rng.chance(8) {
            // How a template represents literal `{{x}}` text.
            let s = self.statics_literal();
            return Slot::Node(Node {
                statics: s,
                slots: vec![Slot::Text("{x}".into())],
            });
        }
        Slot::Text((*self.rng.pick(TEXTS)).to_owned())
    }

    fn statics_literal(&mut self) -> Statics {
        self.pool
            .entry((b'l', 1, 0))
            .or_insert_with(|| statics(&["{", "}"]))
            .clone()
    }

    fn slot(&mut self, depth: usize) -> Slot {
        let roll = if depth >= 3 { 0 } else { self.rng.below(100) };
        match roll {
            0..=44 => self.text(),
            45..=74 => Slot::Node(self.node(depth)),
            _ => Slot::Range(self.range(depth)),
        }
    }

    fn node(&mut self, depth: usize) -> Node {
        let n = self.rng.below(4);
        let v = self.rng.below(3);
        let statics = self.statics(b'n', n, v);
        Node {
            statics,
            slots: (0..n).map(|_| self.slot(depth + 1)).collect(),
        }
    }

    fn range(&mut self, depth: usize) -> Range {
        let slots = 1 + self.rng.below(3);
        let key_slot = if self.rng.chance(60) {
            Some(self.rng.below(slots))
        } else {
            None
        };
        let statics = match key_slot {
            Some(k) => self.statics(b'k', slots, k),
            None => {
                let v = self.rng.below(2);
                self.statics(b'u', slots, v)
            }
        };
        let count = if self.rng.chance(10) {
            15
        } else {
            self.rng.below(6)
        };
        let mut range = Range {
            statics,
            items: Vec::new(),
            key_slot,
        };
        for _ in 0..count {
            let item = self.item(&range, depth);
            range.items.push(Arc::new(item));
        }
        renumber(&mut range);
        range
    }

    /// A new item with a key not used in `range`.
    fn item(&mut self, range: &Range, depth: usize) -> Item {
        let slots = range.statics.len() - 1;
        let mut key = String::new();
        if range.key_slot.is_some() {
            for attempt in 0.. {
                let candidate = if attempt < 8 {
                    (*self.rng.pick(KEYS)).to_owned()
                } else {
                    format!("k{}", self.rng.below(1_000_000))
                };
                if !range.items.iter().any(|i| i.key == candidate) {
                    key = candidate;
                    break;
                }
            }
        }
        let item_slots = (0..slots)
            .map(|k| {
                if Some(k) == range.key_slot {
                    Slot::Text(key.clone())
                } else {
                    self.slot(depth + 1)
                }
            })
            .collect();
        Item {
            key,
            slots: item_slots,
        }
    }

    fn root(&mut self) -> Node {
        let n = 1 + self.rng.below(4);
        let v = self.rng.below(3);
        let statics = self.statics(b'n', n, v);
        Node {
            statics,
            slots: (0..n).map(|_| self.slot(1)).collect(),
        }
    }

    /// Change one random place of `node` (or its root statics).
    fn mutate_root(&mut self, node: &mut Node) {
        if self.rng.chance(8) {
            // Root structure change: same slot count or a new one.
            let n = if self.rng.chance(50) {
                node.slots.len()
            } else {
                1 + self.rng.below(4)
            };
            let v = self.rng.below(3);
            node.statics = self.statics(b'n', n, v);
            node.slots.resize_with(n, || Slot::Text(String::new()));
            for k in 0..n {
                if self.rng.chance(40) {
                    node.slots[k] = self.slot(1);
                }
            }
            return;
        }
        self.mutate_in_node(node, 1);
    }

    fn mutate_in_node(&mut self, node: &mut Node, depth: usize) {
        if node.slots.is_empty() {
            let n = 1 + self.rng.below(3);
            let v = self.rng.below(3);
            node.statics = self.statics(b'n', n, v);
            node.slots = (0..n).map(|_| self.slot(depth + 1)).collect();
            return;
        }
        let k = self.rng.below(node.slots.len());
        self.mutate_slot(&mut node.slots[k], depth);
    }

    fn mutate_slot(&mut self, slot: &mut Slot, depth: usize) {
        match slot {
            Slot::Node(n) if self.rng.chance(60) => {
                if self.rng.chance(70) {
                    self.mutate_in_node(n, depth + 1);
                } else {
                    // Branch switch: other statics, same slot count, same values.
                    let v = self.rng.below(3);
                    n.statics = self.statics(b'n', n.slots.len(), v);
                }
            }
            Slot::Range(r) if self.rng.chance(75) => self.mutate_range(r, depth),
            Slot::Text(_) if self.rng.chance(60) => *slot = self.text(),
            _ => *slot = self.slot(depth),
        }
    }

    fn mutate_range(&mut self, r: &mut Range, depth: usize) {
        let len = r.items.len();
        match self.rng.below(11) {
            0 | 1 => {
                let item = self.item(r, depth);
                let at = self.rng.below(len + 1);
                r.items.insert(at, Arc::new(item));
            }
            2 if len > 0 => {
                r.items.remove(self.rng.below(len));
            }
            3 if len > 1 => {
                let from = self.rng.below(len);
                let item = r.items.remove(from);
                r.items.insert(self.rng.below(len), item);
            }
            4 if len > 1 => {
                let (a, b) = (self.rng.below(len), self.rng.below(len));
                r.items.swap(a, b);
            }
            5 => r.items.reverse(),
            6 => r.items.clear(),
            7 => {
                // Several edits at once.
                for _ in 0..3 {
                    self.mutate_range(r, depth);
                }
            }
            8 if len > 1 && r.key_slot.is_some() && self.rng.chance(30) => {
                // A duplicated key: the diff must fall back to the complete range.
                let src = r.items[0].key.clone();
                let dst = 1 + self.rng.below(len - 1);
                let ks = r.key_slot.unwrap_or(0);
                let item = Arc::make_mut(&mut r.items[dst]);
                item.key = src.clone();
                item.slots[ks] = Slot::Text(src);
            }
            _ if len > 0 => {
                // Update one slot of one item.
                let i = self.rng.below(len);
                let k = self.rng.below(r.items[i].slots.len());
                if Some(k) == r.key_slot {
                    let fresh = self.item(r, depth);
                    let item = Arc::make_mut(&mut r.items[i]);
                    item.key = fresh.key.clone();
                    item.slots[k] = Slot::Text(fresh.key);
                } else {
                    let item = Arc::make_mut(&mut r.items[i]);
                    self.mutate_slot(&mut item.slots[k], depth + 1);
                }
            }
            _ => {
                let item = self.item(r, depth);
                r.items.push(Arc::new(item));
            }
        }
        renumber(r);
    }
}

/// Unkeyed ranges use positional keys.
fn renumber(r: &mut Range) {
    if r.key_slot.is_none() {
        for (i, item) in r.items.iter_mut().enumerate() {
            let key = i.to_string();
            if item.key != key {
                Arc::make_mut(item).key = key;
            }
        }
    }
}

/// Build a sequence from proptest-chosen seeds: the first seeds the initial tree, each
/// step seed drives 0–3 mutations (0 = an unchanged render).
fn sequence(seed: u64, steps: &[u64]) -> (Vec<Node>, Vec<bool>) {
    let mut gen = Gen {
        rng: Rng(seed),
        pool: HashMap::new(),
    };
    let mut tree = gen.root();
    let mut trees = vec![tree.clone()];
    let mut replace = vec![false];
    for &step in steps {
        gen.rng = Rng(step);
        let edits = gen.rng.below(4);
        for _ in 0..edits {
            gen.mutate_root(&mut tree);
        }
        trees.push(tree.clone());
        replace.push(gen.rng.chance(8));
    }
    (trees, replace)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_match_the_client(seed in any::<u64>(), steps in proptest::collection::vec(any::<u64>(), 1..12)) {
        let (trees, replace) = sequence(seed, &steps);
        if let Err(e) = judge_trees("random", &trees, &replace) {
            prop_assert!(false, "{}\ntrees: {:#?}", e, trees);
        }
    }

    #[test]
    fn random_sequences_of_diffs_only(seed in any::<u64>(), steps in proptest::collection::vec(any::<u64>(), 1..12)) {
        let (trees, _) = sequence(seed, &steps);
        if let Err(e) = judge_trees("random, diffs only", &trees, &[]) {
            prop_assert!(false, "{}\ntrees: {:#?}", e, trees);
        }
    }
}

/// The generator must reach every op and every special case, or the judge proves little.
#[test]
fn generator_covers_every_op_and_transition() {
    let needles = [
        ("[\"r\",", "remove"),
        ("[\"u\",", "update"),
        ("[\"a\",", "append"),
        ("[\"p\",", "prepend"),
        ("[\"i\",", "insert"),
        ("[\"o\",", "reorder"),
        ("\"d\":null", "range replaced by a node containing a range"),
        ("{\"s\":[\"{{\",\"}}\"]", "text the client would blank"),
        ("\"_k\":", "unkeyed items"),
        ("\"m\":{\"idKey\":\"1\"}", "key slot other than 0"),
    ];
    let mut counts = vec![0usize; needles.len()];
    let (mut unchanged, mut nested_ops, mut root_changes) = (0, 0, 0);
    let mut rng = Rng(7);
    for _ in 0..400 {
        let steps: Vec<u64> = (0..8).map(|_| rng.next()).collect();
        let (trees, _) = sequence(rng.next(), &steps);
        for pair in trees.windows(2) {
            let d = diff(&pair[0], &pair[1]);
            unchanged += usize::from(d == "{}");
            root_changes += usize::from(d.starts_with("{\"s\":"));
            nested_ops += usize::from(
                d.contains(":{\"0\":[[") || d.contains(":{\"1\":[[") || d.contains(":{\"2\":[["),
            );
            for (count, (needle, _)) in counts.iter_mut().zip(&needles) {
                *count += usize::from(d.contains(needle));
            }
        }
    }
    for (count, (_, what)) in counts.iter().zip(&needles) {
        assert!(
            *count >= 5,
            "the generator rarely produces {what}: {count} times"
        );
    }
    assert!(unchanged >= 5, "unchanged renders: {unchanged}");
    assert!(nested_ops >= 5, "ops on nested ranges: {nested_ops}");
    assert!(root_changes >= 5, "root statics changes: {root_changes}");
    eprintln!(
        "coverage: {counts:?}, unchanged {unchanged}, nested ops {nested_ops}, root {root_changes}"
    );
}
