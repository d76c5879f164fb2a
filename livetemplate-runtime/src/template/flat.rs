//! Flat templates: text and plain values only, rendered without handlebars.
//!
//! A template whose root holds only text, comments and `{{path}}` / `{{{path}}}` values
//! (a plain path of names: no helper, no `this`, `../` or `@`) renders to one node whose
//! statics never change and whose slots are the values. [`Flat::render`] builds that
//! node straight from the data, as the instrumented render would (same statics `Arc`,
//! same slots); values it cannot render the same way (an array indexed by a name, a
//! reserved code point in unescaped output) make it give up, and the instrumented
//! render runs instead (to produce the same error).

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Arc;

use handlebars::template::{Parameter, Template as HbTemplate, TemplateElement};
use handlebars::{JsonRender, Path, PathSeg};
use serde::Serialize;
use serde_json::Value;

use crate::tree::{Node, Slot, Statics};

use super::fields::{capture, FieldTexts};
use super::marker::contains_reserved;
use super::parse::StaticsCache;
use super::range::Interner;

/// The name of handlebars' hook for values that are missing.
const HELPER_MISSING: &str = "helperMissing";

/// A flat template's plan (see the module documentation).
pub(crate) struct Flat {
    statics: Statics,
    values: Vec<FlatValue>,
    /// The top-level keys the values read (their first segments, once each).
    keys: Vec<String>,
    /// Every value is a top-level key other than `lvt`: the template can render from
    /// the state's fields (see [`Flat::render_fields`]).
    fields_only: bool,
}

/// One `{{path}}` (escaped) or `{{{path}}}` (raw).
struct FlatValue {
    path: Vec<String>,
    raw: bool,
    /// Index of `path[0]` in `Flat::keys`.
    key: usize,
}

impl Flat {
    /// The plan of `root` (before instrumentation), when it is flat; `helpers`: every
    /// helper name the registry knows (a value's name must not be one).
    pub(crate) fn plan(root: &HbTemplate, helpers: &HashSet<&str>) -> Option<FlatPlan> {
        if helpers.contains(HELPER_MISSING) {
            return None;
        }
        let mut pieces = vec![String::new()];
        let mut values = Vec::new();
        for el in &root.elements {
            match el {
                TemplateElement::RawString(s) => {
                    if let Some(last) = pieces.last_mut() {
                        last.push_str(s);
                    }
                }
                TemplateElement::Comment(_) => {}
                TemplateElement::Expression(ht) | TemplateElement::HtmlExpression(ht) => {
                    if !(ht.params.is_empty() && ht.hash.is_empty() && !ht.block) {
                        return None;
                    }
                    let Parameter::Path(Path::Relative((segs, raw))) = &ht.name else {
                        return None;
                    };
                    if helpers.contains(raw.as_str()) || raw.starts_with('@') {
                        return None;
                    }
                    let path = segs
                        .iter()
                        .map(|s| match s {
                            PathSeg::Named(n) if !n.is_empty() => Some(n.clone()),
                            _ => None,
                        })
                        .collect::<Option<Vec<String>>>()?;
                    if path.is_empty() {
                        return None;
                    }
                    values.push(FlatValue {
                        path,
                        raw: matches!(el, TemplateElement::HtmlExpression(_)),
                        key: 0,
                    });
                    pieces.push(String::new());
                }
                _ => return None,
            }
        }
        Some(FlatPlan { pieces, values })
    }

    /// Whether every value is a top-level key other than `lvt`.
    pub(crate) fn fields_only(&self) -> bool {
        self.fields_only
    }

    /// The top-level keys of the data the template reads.
    pub(crate) fn keys(&self) -> &[String] {
        &self.keys
    }

    /// Render `data` into the node the instrumented render makes; `None` when this
    /// cannot (see the module documentation).
    pub(crate) fn render(&self, data: &Value, cache: &StaticsCache) -> Option<Node> {
        let interner = Interner::new(cache);
        let mut slots = Vec::with_capacity(self.values.len());
        for v in &self.values {
            let text = match lookup(data, &v.path)? {
                None => String::new(),
                Some(value) => {
                    let rendered = value.render();
                    if v.raw {
                        if contains_reserved(&rendered) {
                            return None;
                        }
                        rendered
                    } else {
                        escape(rendered)
                    }
                }
            };
            slots.push(interner.text_slot(text));
        }
        Some(Node {
            statics: self.statics.clone(),
            slots,
        })
    }
}

impl Flat {
    /// Render the template data of `state` (its fields plus `lvt`) into `spare`, reusing
    /// the node's strings: straight from the state's fields, without building the data.
    /// Gives the node [`Flat::render`] makes from the data, or returns false (leaving
    /// `spare` unusable) when it cannot: a value reads below the top level or reads
    /// `lvt`, or a field is not a plain scalar (see `fields`), or the text would not
    /// be a plain text slot.
    pub(crate) fn render_fields<S: Serialize + ?Sized>(
        &self,
        state: &S,
        texts: &mut FieldTexts,
        spare: &mut Option<Node>,
    ) -> bool {
        if !self.fields_only || !capture(state, &self.keys, texts) {
            return false;
        }
        let node = spare.get_or_insert_with(|| Node {
            statics: self.statics.clone(),
            slots: Vec::new(),
        });
        if !Arc::ptr_eq(&node.statics, &self.statics) {
            node.statics = self.statics.clone();
        }
        node.slots.truncate(self.values.len());
        node.slots
            .resize_with(self.values.len(), || Slot::Text(String::new()));
        for (v, slot) in self.values.iter().zip(&mut node.slots) {
            if !matches!(slot, Slot::Text(_)) {
                *slot = Slot::Text(String::new());
            }
            let Slot::Text(out) = slot else {
                return false;
            };
            out.clear();
            let text = if texts.present[v.key] {
                &*texts.text[v.key]
            } else {
                ""
            };
            if v.raw {
                if contains_reserved(text) {
                    return false;
                }
                out.push_str(text);
            } else if needs_escape(text) {
                out.push_str(&handlebars::html_escape(text));
            } else {
                out.push_str(text);
            }
            if Interner::splits(out) {
                return false;
            }
        }
        true
    }
}

/// A flat template's statics (texts around the values) and values, before its statics
/// are interned.
pub(crate) struct FlatPlan {
    pieces: Vec<String>,
    values: Vec<FlatValue>,
}

impl FlatPlan {
    /// The plan, with its statics interned as the parser interns those of the root node
    /// (`root`: the instrumented root's sub-template id).
    pub(crate) fn intern(self, cache: &StaticsCache, root: u32) -> Flat {
        let pieces: Vec<Cow<'_, str>> = self.pieces.iter().map(|p| Cow::Borrowed(&**p)).collect();
        let statics = Interner::new(cache).intern(root as usize * 2, &pieces);
        let mut keys: Vec<String> = Vec::new();
        let mut values = self.values;
        for v in &mut values {
            if let Some(first) = v.path.first() {
                v.key = match keys.iter().position(|k| k == first) {
                    Some(i) => i,
                    None => {
                        keys.push(first.clone());
                        keys.len() - 1
                    }
                };
            }
        }
        let fields_only = values.iter().all(|v| v.path.len() == 1)
            && !keys.iter().any(|k| k == crate::transport::LVT_KEY);
        Flat {
            statics,
            values,
            keys,
            fields_only,
        }
    }
}

/// Whether `handlebars::html_escape` changes `s`.
fn needs_escape(s: &str) -> bool {
    s.bytes()
        .any(|b| matches!(b, b'<' | b'>' | b'"' | b'&' | b'\'' | b'`' | b'='))
}

/// `handlebars::html_escape`, without a copy when nothing needs escaping.
fn escape(s: String) -> String {
    if needs_escape(&s) {
        handlebars::html_escape(&s)
    } else {
        s
    }
}

/// The value at `path`, as handlebars finds it: `Some(None)` when missing, `None` when
/// handlebars would fail (an array indexed by something other than a number).
fn lookup<'v>(data: &'v Value, path: &[String]) -> Option<Option<&'v Value>> {
    let mut at = data;
    for seg in path {
        at = match at {
            Value::Object(m) => match m.get(seg) {
                Some(v) => v,
                None => return Some(None),
            },
            Value::Array(a) => match a.get(seg.parse::<usize>().ok()?) {
                Some(v) => v,
                None => return Some(None),
            },
            _ => return Some(None),
        };
    }
    Some(Some(at))
}
