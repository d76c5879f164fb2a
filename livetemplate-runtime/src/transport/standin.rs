//! Temporary stand-ins for the template engine, the tree JSON/diff and input parsing,
//! with the signatures of the real modules. Removed once those modules exist.
#![allow(missing_docs, dead_code)]

use std::sync::Arc;

use serde_json::{Map, Value};

use crate::tree::{Node, Slot, Statics};

// ---------------------------------------------------------------- template

/// Stand-in template: `{{path}}` (escaped) and `{{{path}}}` (raw), one slot each.
#[derive(Debug)]
pub struct Template {
    statics: Statics,
    paths: Vec<(String, bool)>,
}

#[derive(Debug, thiserror::Error)]
#[error("template error: {0}")]
pub struct TemplateError(String);

#[derive(Debug, thiserror::Error)]
#[error("render error: {0}")]
pub struct RenderError(String);

pub struct TemplateBuilder {
    name: String,
    src: String,
}

impl Template {
    pub fn builder(name: &str, src: &str) -> TemplateBuilder {
        TemplateBuilder {
            name: name.to_string(),
            src: src.to_string(),
        }
    }

    pub fn render(&self, data: &Value) -> Result<Node, RenderError> {
        let slots = self
            .paths
            .iter()
            .map(|(path, raw)| {
                let mut v = data;
                for part in path.split('.') {
                    v = v.get(part).unwrap_or(&Value::Null);
                }
                let text = match v {
                    Value::Null => String::new(),
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                Slot::Text(if *raw { text } else { escape(&text) })
            })
            .collect();
        Ok(Node {
            statics: self.statics.clone(),
            slots,
        })
    }
}

impl TemplateBuilder {
    pub fn build(self) -> Result<Template, TemplateError> {
        let mut statics: Vec<Box<str>> = Vec::new();
        let mut paths = Vec::new();
        let mut rest = self.src.as_str();
        while let Some(start) = rest.find("{{") {
            let raw = rest[start..].starts_with("{{{");
            let (open, close) = if raw { (3, "}}}") } else { (2, "}}") };
            let Some(end) = rest[start + open..].find(close) else {
                return Err(TemplateError(format!("{}: unclosed mustache", self.name)));
            };
            statics.push(rest[..start].into());
            paths.push((
                rest[start + open..start + open + end].trim().to_string(),
                raw,
            ));
            rest = &rest[start + open + end + close.len()..];
        }
        statics.push(rest.into());
        Ok(Template {
            statics: Arc::from(statics),
            paths,
        })
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            c => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------- tree json / diff

pub fn full_json(node: &Node) -> String {
    let mut out = String::from("{\"s\":");
    out.push_str(
        &Value::Array(
            node.statics
                .iter()
                .map(|s| Value::String(s.to_string()))
                .collect(),
        )
        .to_string(),
    );
    for (i, slot) in node.slots.iter().enumerate() {
        out.push_str(&format!(",\"{i}\":"));
        match slot {
            Slot::Node(n) => out.push_str(&full_json(n)),
            other => out.push_str(&slot_value(other).to_string()),
        }
    }
    out.push('}');
    out
}

fn node_value(node: &Node) -> Value {
    let mut m = Map::new();
    m.insert(
        "s".into(),
        Value::Array(
            node.statics
                .iter()
                .map(|s| Value::String(s.to_string()))
                .collect(),
        ),
    );
    for (i, slot) in node.slots.iter().enumerate() {
        m.insert(i.to_string(), slot_value(slot));
    }
    Value::Object(m)
}

fn slot_value(slot: &Slot) -> Value {
    match slot {
        Slot::Text(t) => Value::String(t.clone()),
        Slot::Node(n) => node_value(n),
        Slot::Range(r) => {
            let mut m = Map::new();
            m.insert(
                "s".into(),
                Value::Array(
                    r.statics
                        .iter()
                        .map(|s| Value::String(s.to_string()))
                        .collect(),
                ),
            );
            let d = r
                .items
                .iter()
                .map(|it| {
                    let mut im = Map::new();
                    for (i, s) in it.slots.iter().enumerate() {
                        im.insert(i.to_string(), slot_value(s));
                    }
                    im.insert("_k".into(), Value::String(it.key.clone()));
                    Value::Object(im)
                })
                .collect();
            m.insert("d".into(), Value::Array(d));
            Value::Object(m)
        }
    }
}

pub fn diff(old: &Node, new: &Node) -> String {
    diff_node(old, new).to_string()
}

fn diff_node(old: &Node, new: &Node) -> Value {
    if !crate::tree::same_statics(&old.statics, &new.statics) {
        return node_value(new);
    }
    let mut m = Map::new();
    for (i, (a, b)) in old.slots.iter().zip(&new.slots).enumerate() {
        if a == b {
            continue;
        }
        let v = match (a, b) {
            (Slot::Node(x), Slot::Node(y)) => diff_node(x, y),
            (_, b) => slot_value(b),
        };
        m.insert(i.to_string(), v);
    }
    Value::Object(m)
}
