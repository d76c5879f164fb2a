//! Shared test support for the template engine: the corpus stand-in helpers, the helpers
//! of our own templates, loading of `tests/templates/`, an oracle (plain `handlebars`)
//! and tree invariant checks.
//!
//! Include it with `#[path = "templates/support.rs"] mod support;` from a test crate.
//!
//! Layout of `tests/templates/`:
//! - `NAME.hbs`: a template, registered under `NAME`;
//! - `NAME.json`: a JSON array of states to render `NAME` with, in order (the first state
//!   is also the shape from which the property tests generate more states);
//! - `partials/P.hbs`: partials available to every template, registered under `P`;
//! - helpers: every helper of [`own_helpers`] is registered for every template.
#![allow(dead_code)]

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use handlebars::{
    Context, Handlebars, Helper, HelperDef, HelperResult, JsonRender, Output, PathAndJson,
    RenderContext, RenderError, Renderable, ScopedJson,
};
use livetemplate_runtime::template::{Template, TemplateBuilder};
use livetemplate_runtime::tree::{Node, Slot};
use serde_json::Value;

/// A helper shared by the oracle registry and our template.
#[derive(Clone)]
pub struct Shared(pub Arc<dyn HelperDef + Send + Sync>);

impl HelperDef for Shared {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        self.0.call_inner(h, r, ctx, rc)
    }

    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        self.0.call(h, r, ctx, rc, out)
    }
}

/// A value helper: computes a string that handlebars escapes (or not, with `{{{ }}}`).
struct ValueHelper(fn(&Helper<'_>) -> String);

impl HelperDef for ValueHelper {
    fn call_inner<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        _: &'reg Handlebars<'reg>,
        _: &'rc Context,
        _: &mut RenderContext<'reg, 'rc>,
    ) -> Result<ScopedJson<'rc>, RenderError> {
        Ok(ScopedJson::Derived(Value::String((self.0)(h))))
    }
}

/// A conditional block helper: renders its block when the test holds, else its inverse.
struct CondHelper(fn(&Helper<'_>) -> bool);

impl HelperDef for CondHelper {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        let t = if (self.0)(h) {
            h.template()
        } else {
            h.inverse()
        };
        match t {
            Some(t) => t.render(r, ctx, rc, out),
            None => Ok(()),
        }
    }
}

fn param<'a>(h: &'a Helper<'_>, i: usize) -> &'a Value {
    static NULL: Value = Value::Null;
    h.param(i).map_or(&NULL, PathAndJson::value)
}

/// `str(v)` of the corpus MANIFEST.
pub fn str_of(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn format(h: &Helper<'_>) -> String {
    format!("{} pts", param(h, 0).render())
}

fn ranking_label(h: &Helper<'_>) -> String {
    let rank = param(h, 0).as_u64().unwrap_or(0);
    let n = param(h, 1).as_array().map_or(0, Vec::len) as u64;
    if rank == 0 {
        "champion"
    } else if rank + 2 >= n {
        "relegation"
    } else if rank <= 2 {
        "acl"
    } else {
        ""
    }
    .to_owned()
}

fn month_name(h: &Helper<'_>) -> String {
    const NAMES: [&str; 12] = [
        "Jan.", "Feb.", "Mar.", "Apr.", "May", "June", "July", "Aug.", "Sept.", "Oct.", "Nov.",
        "Dec.",
    ];
    match param(h, 0).as_u64() {
        Some(m @ 1..=12) => NAMES[m as usize - 1].to_owned(),
        _ => "Error!".to_owned(),
    }
}

fn team_text(h: &Helper<'_>) -> String {
    if h.params().len() >= 3 {
        str_of(param(h, 2))
    } else {
        param(h, 0).get("name").map(str_of).unwrap_or_default()
    }
}

fn encode_zulip_stream(h: &Helper<'_>) -> String {
    let mut out = String::new();
    for b in str_of(param(h, 0)).bytes() {
        if b.is_ascii_alphanumeric() || b == b'-' || b == b'_' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn yell(h: &Helper<'_>) -> String {
    str_of(param(h, 0)).to_uppercase()
}

fn relative_url(h: &Helper<'_>) -> String {
    let s = str_of(param(h, 0));
    if s.is_empty() {
        s
    } else {
        format!("../{s}")
    }
}

fn wbr(h: &Helper<'_>) -> String {
    let mut out = String::new();
    for (i, c) in str_of(param(h, 0)).chars().enumerate() {
        if i > 0 && c.is_ascii_uppercase() {
            out.push_str("<wbr>");
        }
        out.push(c);
    }
    out
}

fn concat(h: &Helper<'_>) -> String {
    h.params().iter().map(|p| str_of(p.value())).collect()
}

fn wow(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    if let Some(p) = h.param(0) {
        out.write("<b><i>")?;
        out.write(&p.value().render())?;
        out.write("</b></i>")?;
    }
    Ok(())
}

/// A helper that renders its block (raw writer), given as a plain function.
struct BlockHelper(
    for<'a, 'reg, 'rc> fn(
        &'a Helper<'rc>,
        &'reg Handlebars<'reg>,
        &'rc Context,
        &mut RenderContext<'reg, 'rc>,
        &mut dyn Output,
    ) -> HelperResult,
);

impl HelperDef for BlockHelper {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc Context,
        rc: &mut RenderContext<'reg, 'rc>,
        out: &mut dyn Output,
    ) -> HelperResult {
        (self.0)(h, r, ctx, rc, out)
    }
}

fn fluent<'reg, 'rc>(
    h: &Helper<'rc>,
    r: &'reg Handlebars<'reg>,
    ctx: &'rc Context,
    rc: &mut RenderContext<'reg, 'rc>,
    out: &mut dyn Output,
) -> HelperResult {
    out.write(&str_of(param(h, 0)))?;
    if let Some(t) = h.template() {
        out.write("{")?;
        t.render(r, ctx, rc, out)?;
        out.write("}")?;
    }
    Ok(())
}

fn fluentparam<'reg, 'rc>(
    h: &Helper<'rc>,
    r: &'reg Handlebars<'reg>,
    ctx: &'rc Context,
    rc: &mut RenderContext<'reg, 'rc>,
    out: &mut dyn Output,
) -> HelperResult {
    out.write(&str_of(param(h, 0)))?;
    out.write("=")?;
    if let Some(t) = h.template() {
        t.render(r, ctx, rc, out)?;
    }
    Ok(())
}

fn equals(h: &Helper<'_>) -> bool {
    param(h, 0) == param(h, 1)
}

fn startswith(h: &Helper<'_>) -> bool {
    match (param(h, 0), param(h, 1)) {
        (Value::String(a), Value::String(b)) => a.starts_with(b.as_str()),
        _ => false,
    }
}

/// The corpus stand-in helper `name` (MANIFEST.md, section "Stand-in helpers").
pub fn standin(name: &str) -> Option<Shared> {
    let h: Arc<dyn HelperDef + Send + Sync> = match name {
        "format" => Arc::new(ValueHelper(format)),
        "ranking_label" => Arc::new(ValueHelper(ranking_label)),
        "month_name" => Arc::new(ValueHelper(month_name)),
        "team-text" => Arc::new(ValueHelper(team_text)),
        "encode-zulip-stream" => Arc::new(ValueHelper(encode_zulip_stream)),
        "yell" => Arc::new(ValueHelper(yell)),
        "relativeURL" => Arc::new(ValueHelper(relative_url)),
        "wbr" => Arc::new(ValueHelper(wbr)),
        "concat" => Arc::new(ValueHelper(concat)),
        "wow" => Arc::new(wow),
        "fluent" => Arc::new(BlockHelper(fluent)),
        "fluentparam" => Arc::new(BlockHelper(fluentparam)),
        "equals" => Arc::new(CondHelper(equals)),
        "startswith" => Arc::new(CondHelper(startswith)),
        _ => return None,
    };
    Some(Shared(h))
}

fn upper(h: &Helper<'_>) -> String {
    str_of(param(h, 0)).to_uppercase()
}

fn price(h: &Helper<'_>) -> String {
    let cents = param(h, 0).as_i64().unwrap_or(0);
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02} €", cents.abs() / 100, cents.abs() % 100)
}

fn join(h: &Helper<'_>) -> String {
    let sep = h
        .hash_get("sep")
        .map_or_else(|| ", ".to_owned(), |v| str_of(v.value()));
    match param(h, 0) {
        Value::Array(items) => items.iter().map(str_of).collect::<Vec<_>>().join(&sep),
        other => str_of(other),
    }
}

fn badge(
    h: &Helper<'_>,
    _: &Handlebars<'_>,
    _: &Context,
    _: &mut RenderContext<'_, '_>,
    out: &mut dyn Output,
) -> HelperResult {
    // Raw writer: trusted markup around an escaped label.
    out.write("<span class=\"badge\">")?;
    out.write(&handlebars::html_escape(&str_of(param(h, 0))))?;
    out.write("</span>")?;
    Ok(())
}

fn repeat<'reg, 'rc>(
    h: &Helper<'rc>,
    r: &'reg Handlebars<'reg>,
    ctx: &'rc Context,
    rc: &mut RenderContext<'reg, 'rc>,
    out: &mut dyn Output,
) -> HelperResult {
    let n = param(h, 0).as_u64().unwrap_or(0).min(5);
    if let Some(t) = h.template() {
        for _ in 0..n {
            t.render(r, ctx, rc, out)?;
        }
    }
    Ok(())
}

fn is_even(h: &Helper<'_>) -> bool {
    param(h, 0).as_u64().is_some_and(|n| n % 2 == 0)
}

/// Helpers registered for every template of `tests/templates/`.
pub fn own_helpers() -> Vec<(&'static str, Shared)> {
    let list: Vec<(&'static str, Arc<dyn HelperDef + Send + Sync>)> = vec![
        ("upper", Arc::new(ValueHelper(upper))),
        ("price", Arc::new(ValueHelper(price))),
        ("join", Arc::new(ValueHelper(join))),
        ("badge", Arc::new(badge)),
        ("repeat", Arc::new(BlockHelper(repeat))),
        ("ifEven", Arc::new(CondHelper(is_even))),
    ];
    list.into_iter().map(|(n, h)| (n, Shared(h))).collect()
}

/// A template with its partials and helpers, ready to build twice (oracle and ours).
pub struct Case {
    pub name: String,
    pub source: String,
    pub partials: Vec<(String, String)>,
    pub helpers: Vec<(String, Shared)>,
}

impl Case {
    /// The oracle: a plain `Handlebars::new()` with the same partials and helpers.
    pub fn oracle(&self) -> Handlebars<'static> {
        let mut hb = Handlebars::new();
        for (n, s) in &self.partials {
            hb.register_partial(n, s).expect("oracle partial parses");
        }
        for (n, h) in &self.helpers {
            hb.register_helper(n, Box::new(h.clone()));
        }
        hb.register_template_string(&self.name, &self.source)
            .expect("oracle template parses");
        hb
    }

    /// Our template builder with the same partials and helpers.
    pub fn builder(&self) -> TemplateBuilder {
        let mut b = Template::builder(&self.name, &self.source);
        for (n, s) in &self.partials {
            b = b.partial(n, s);
        }
        for (n, h) in &self.helpers {
            b = b.helper(n, h.clone());
        }
        b
    }
}

/// Directory of our own templates.
pub fn templates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/templates")
}

/// Our own templates, sorted by name, each with its list of states.
pub fn own_cases() -> Vec<(Case, Vec<Value>)> {
    let dir = templates_dir();
    let mut partials = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir.join("partials"))
        .expect("tests/templates/partials exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "hbs"))
        .collect();
    entries.sort();
    for p in entries {
        let name = p
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("utf-8 name")
            .to_owned();
        partials.push((name, std::fs::read_to_string(&p).expect("partial readable")));
    }
    let helpers: Vec<(String, Shared)> = own_helpers()
        .into_iter()
        .map(|(n, h)| (n.to_owned(), h))
        .collect();

    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/templates exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "hbs"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("utf-8 name")
                .to_owned();
            let source = std::fs::read_to_string(&p).expect("template readable");
            let data_path = p.with_extension("json");
            let data: Value = serde_json::from_str(
                &std::fs::read_to_string(&data_path)
                    .unwrap_or_else(|e| panic!("{}: {e}", data_path.display())),
            )
            .unwrap_or_else(|e| panic!("{}: {e}", data_path.display()));
            let states = match data {
                Value::Array(states) => states,
                other => panic!(
                    "{}: expected an array of states, got {other}",
                    data_path.display()
                ),
            };
            (
                Case {
                    name,
                    source,
                    partials: partials.clone(),
                    helpers: helpers.clone(),
                },
                states,
            )
        })
        .collect()
}

/// Check the structural invariants of a tree (slot counts, range keys, no blanked text).
pub fn check_invariants(node: &Node) -> Result<(), String> {
    if node.statics.len() != node.slots.len() + 1 {
        return Err(format!(
            "node with {} statics and {} slots",
            node.statics.len(),
            node.slots.len()
        ));
    }
    node.slots.iter().try_for_each(check_slot)
}

fn check_slot(slot: &Slot) -> Result<(), String> {
    match slot {
        Slot::Text(t) => {
            if t.starts_with("{{") && t.ends_with("}}") {
                return Err(format!("text slot the client would blank: {t:?}"));
            }
            Ok(())
        }
        Slot::Node(n) => check_invariants(n),
        Slot::Range(r) => {
            let mut keys = BTreeMap::new();
            for (i, item) in r.items.iter().enumerate() {
                if item.slots.len() + 1 != r.statics.len() {
                    return Err(format!(
                        "range item with {} slots for {} statics",
                        item.slots.len(),
                        r.statics.len()
                    ));
                }
                if keys.insert(item.key.clone(), i).is_some() {
                    return Err(format!("duplicate range key {:?}", item.key));
                }
                match r.key_slot {
                    Some(k) => match item.slots.get(k) {
                        Some(Slot::Text(t)) if *t == item.key => {}
                        other => {
                            return Err(format!("key slot {k} is {other:?}, key {:?}", item.key))
                        }
                    },
                    None => {
                        if item.key != i.to_string() {
                            return Err(format!("positional key {:?} at {i}", item.key));
                        }
                    }
                }
                item.slots.iter().try_for_each(check_slot)?;
            }
            Ok(())
        }
    }
}

/// Render `data` with the oracle and with `template`; `Err` describes any difference.
/// Both failing counts as agreement (the error is returned as `Ok(None)`).
pub fn compare(
    oracle: &Handlebars<'static>,
    template: &Template,
    data: &Value,
) -> Result<Option<String>, String> {
    let name = template.name();
    let expected = oracle.render(name, data);
    let tree = template.render(data);
    let html = template.render_html(data);
    // Templates rendered without handlebars (flat ones) make the tree the instrumented
    // render makes: the same statics (by pointer) and slots.
    match (&tree, template.render_instrumented(data)) {
        (Ok(t), Ok(i)) => {
            if *t != i || !std::sync::Arc::ptr_eq(&t.statics, &i.statics) {
                return Err(format!(
                    "{name}: render differs from the instrumented render\n{t:?}\n{i:?}"
                ));
            }
        }
        (Err(_), Err(_)) => {}
        (t, i) => {
            return Err(format!(
                "{name}: render {:?}, instrumented render {:?}",
                t.as_ref().map(|_| "ok"),
                i.map(|_| "ok")
            ))
        }
    }
    match (expected, tree, html) {
        (Ok(expected), Ok(tree), Ok(html)) => {
            check_invariants(&tree).map_err(|e| format!("{name}: {e}"))?;
            let got = tree.to_html();
            if got != expected {
                return Err(format!(
                    "{name}: tree HTML differs from handlebars\n{}",
                    first_difference(&expected, &got)
                ));
            }
            if html != expected {
                return Err(format!(
                    "{name}: render_html differs from handlebars\n{}",
                    first_difference(&expected, &html)
                ));
            }
            Ok(Some(expected))
        }
        (Err(_), Err(_), Err(_)) => Ok(None),
        (e, t, h) => Err(format!(
            "{name}: outcomes differ: handlebars {:?}, tree {:?}, html {:?}",
            e.map(|_| "ok"),
            t.map(|_| "ok"),
            h.map(|_| "ok")
        )),
    }
}

/// `render_cached` with `cache` must return exactly what `render` returns (both failing
/// counts as agreement).
#[allow(dead_code)]
pub fn compare_cached(
    template: &Template,
    data: &Value,
    cache: &mut livetemplate_runtime::template::RenderCache,
) -> Result<(), String> {
    let name = template.name();
    match (template.render(data), template.render_cached(data, cache)) {
        (Ok(plain), Ok(cached)) if plain == cached => Ok(()),
        (Ok(plain), Ok(cached)) => Err(format!(
            "{name}: render_cached differs from render\n{}\nplain: {plain:?}\ncached: {cached:?}",
            first_difference(&plain.to_html(), &cached.to_html())
        )),
        (Err(_), Err(_)) => Ok(()),
        (p, c) => Err(format!(
            "{name}: outcomes differ: render {:?}, render_cached {:?}",
            p.map(|_| "ok"),
            c.map(|_| "ok")
        )),
    }
}

/// A short report of where two strings first differ.
pub fn first_difference(expected: &str, got: &str) -> String {
    let at = expected
        .char_indices()
        .zip(got.chars())
        .find(|((_, a), b)| a != b)
        .map_or(expected.len().min(got.len()), |((i, _), _)| i);
    let lo = expected[..at]
        .char_indices()
        .rev()
        .nth(60)
        .map_or(0, |(i, _)| i);
    let tail = |s: &str| {
        s.get(lo..)
            .unwrap_or("")
            .chars()
            .take(160)
            .collect::<String>()
    };
    format!(
        "at byte {at} (lengths {} vs {}):\n  expected: {:?}\n  got:      {:?}",
        expected.len(),
        got.len(),
        tail(expected),
        tail(got)
    )
}

/// The third-party corpus (outside the repository).
pub fn corpus_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/corpus/handlebars"
    ))
}

/// Stand-in helpers per template file, from the MANIFEST table ("Stand-in helpers" column).
fn manifest_helpers(dir: &Path) -> HashMap<String, Vec<String>> {
    let manifest = std::fs::read_to_string(dir.join("MANIFEST.md")).expect("MANIFEST.md readable");
    let mut out = HashMap::new();
    for line in manifest.lines().filter(|l| l.starts_with("| `")) {
        let line = line.replace("\\|", "\u{0}");
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        // "", file, repository, path, license, partials, constructs, helpers, description, ""
        if cells.len() < 9 {
            continue;
        }
        let file = cells[1].trim_matches('`').to_owned();
        let helpers = cells[7]
            .split('`')
            .skip(1)
            .step_by(2)
            .map(str::to_owned)
            .collect();
        out.insert(file, helpers);
    }
    out
}

/// Every corpus entry with its partials, stand-in helpers and data.
pub fn corpus_cases(dir: &Path) -> Vec<(Case, Value)> {
    let helpers = manifest_helpers(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("corpus readable")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|json| {
            let name = json
                .file_stem()
                .and_then(|s| s.to_str())
                .expect("utf-8")
                .to_owned();
            let source =
                std::fs::read_to_string(dir.join(format!("{name}.hbs"))).expect("template");
            let data: Value =
                serde_json::from_str(&std::fs::read_to_string(&json).expect("data")).expect("json");
            let prefix = format!("{name}.partial-");
            let mut partials: Vec<(String, String)> = std::fs::read_dir(dir)
                .expect("corpus readable")
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let f = e.file_name().into_string().ok()?;
                    let p = f
                        .strip_prefix(&prefix)?
                        .strip_suffix(".hbs")?
                        .replace("__", "/");
                    Some((p, std::fs::read_to_string(e.path()).expect("partial")))
                })
                .collect();
            partials.sort();
            let helper_names = helpers
                .get(&format!("{name}.hbs"))
                .unwrap_or_else(|| panic!("{name}.hbs has no MANIFEST row"));
            let helpers = helper_names
                .iter()
                .map(|h| {
                    let shared = standin(h).unwrap_or_else(|| panic!("no stand-in helper `{h}`"));
                    (h.clone(), shared)
                })
                .collect();
            (
                Case {
                    name,
                    source,
                    partials,
                    helpers,
                },
                data,
            )
        })
        .collect()
}
