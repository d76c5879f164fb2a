//! Temporary stand-ins for the template engine, the tree JSON/diff and input parsing,
//! with the signatures of the real modules. Removed once those modules exist.
#![allow(missing_docs, dead_code)]

use std::sync::Arc;

use serde_json::Value;

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
