//! The render tree: what a template renders to, and what the wire format describes.
//!
//! A [`Node`] is static HTML fragments (`statics`, sent once as `"s"`) interleaved with
//! dynamic [`Slot`]s (sent as `"0"`, `"1"`, …). A [`Range`] is the output of an
//! `{{#each}}` block: one set of item statics shared by every [`Item`]. Items are
//! reference-counted so that renders can share unchanged items (cloning a range clones
//! pointers, and the diff skips items that are the same allocation).
//!
//! This module owns the data types, HTML reconstruction ([`Node::to_html`]), full-tree
//! JSON encoding ([`json`]) and the minimal diff between two trees ([`diff`]). It knows
//! nothing about templates (see `crate::template`) or connections.

pub mod diff;
pub mod json;

use std::hash::{BuildHasherDefault, Hasher};
use std::sync::Arc;

/// Static HTML fragments of a node or range item; shared between renders so that
/// structure comparison is usually a pointer comparison.
pub type Statics = Arc<[Box<str>]>;

/// Compare two statics arrays: pointer equality first, then content.
pub fn same_statics(a: &Statics, b: &Statics) -> bool {
    Arc::ptr_eq(a, b) || a[..] == b[..]
}

/// One dynamic position of a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Slot {
    /// Already-escaped HTML text, inserted verbatim by the client.
    Text(String),
    /// A nested node: a conditional branch, a partial, a `{{#with}}` body …
    Node(Node),
    /// A list rendered by `{{#each}}`.
    Range(Range),
}

/// A static/dynamic node: `statics.len() == slots.len() + 1`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Node {
    /// `"s"` on the wire.
    pub statics: Statics,
    /// `"0"`, `"1"`, … on the wire.
    pub slots: Vec<Slot>,
}

/// A list of items sharing one set of statics (`"d"` on the wire).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Range {
    /// Item statics: every item has `statics.len() - 1` slots.
    pub statics: Statics,
    /// The items, in order. An item shared with an earlier tree (the same `Arc`) is
    /// known to be unchanged.
    pub items: Vec<Arc<Item>>,
    /// Keyed ranges: the item slot that holds the key (the slot right after a static
    /// ending in `data-key="` or `data-lvt-key="`), sent as `"m": {"idKey": "<slot>"}`.
    /// `None`: positional keys, sent as `"_k"` on every item.
    pub key_slot: Option<usize>,
}

/// One item of a [`Range`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// The item key: the text of `key_slot` for keyed ranges, else the item's position
    /// (`"0"`, `"1"`, …). Unique within the range.
    pub key: String,
    /// The item's slots.
    pub slots: Vec<Slot>,
}

impl Node {
    /// A node without dynamic slots.
    pub fn text(html: &str) -> Node {
        Node {
            statics: Arc::from(vec![Box::<str>::from(html)]),
            slots: Vec::new(),
        }
    }

    /// Reconstruct the HTML this node stands for (what the client rebuilds).
    pub fn to_html(&self) -> String {
        let mut out = String::new();
        self.write_html(&mut out);
        out
    }

    /// Append the HTML of this node to `out`.
    pub fn write_html(&self, out: &mut String) {
        write_interleaved(&self.statics, &self.slots, out);
    }
}

impl Slot {
    /// Append the HTML of this slot to `out`.
    pub fn write_html(&self, out: &mut String) {
        match self {
            Slot::Text(t) => out.push_str(t),
            Slot::Node(n) => n.write_html(out),
            Slot::Range(r) => {
                for item in &r.items {
                    write_interleaved(&r.statics, &item.slots, out);
                }
            }
        }
    }
}

pub(crate) fn write_interleaved(statics: &Statics, slots: &[Slot], out: &mut String) {
    for (i, s) in statics.iter().enumerate() {
        out.push_str(s);
        if let Some(slot) = slots.get(i) {
            slot.write_html(out);
        }
    }
}

/// FxHash-style hasher for short keys: the range diff and the range builder hash every
/// key of a list.
#[derive(Default)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn write(&mut self, bytes: &[u8]) {
        const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut h = self.0;
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            h = (h.rotate_left(5) ^ u64::from_le_bytes(w)).wrapping_mul(SEED);
        }
        for &b in chunks.remainder() {
            h = (h.rotate_left(5) ^ u64::from(b)).wrapping_mul(SEED);
        }
        self.0 = h;
    }

    fn write_u8(&mut self, b: u8) {
        self.0 = (self.0.rotate_left(5) ^ u64::from(b)).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// Builds [`KeyHasher`]s.
pub(crate) type KeyHashBuilder = BuildHasherDefault<KeyHasher>;
