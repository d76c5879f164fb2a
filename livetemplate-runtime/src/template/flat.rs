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

use handlebars::template::{Parameter, Template as HbTemplate, TemplateElement};
use handlebars::{JsonRender, Path, PathSeg};
use serde_json::Value;

use crate::tree::{Node, Statics};

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
}

/// One `{{path}}` (escaped) or `{{{path}}}` (raw).
struct FlatValue {
    path: Vec<String>,
    raw: bool,
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
                    });
                    pieces.push(String::new());
                }
                _ => return None,
            }
        }
        Some(FlatPlan { pieces, values })
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
        for v in &self.values {
            if let Some(first) = v.path.first() {
                if !keys.contains(first) {
                    keys.push(first.clone());
                }
            }
        }
        Flat {
            statics,
            values: self.values,
            keys,
        }
    }
}

/// `handlebars::html_escape`, without a copy when nothing needs escaping.
fn escape(s: String) -> String {
    let special = |b: u8| matches!(b, b'<' | b'>' | b'"' | b'&' | b'\'' | b'`' | b'=');
    if s.bytes().any(special) {
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
