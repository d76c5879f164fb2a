//! Handlebars templates rendered into a static/dynamic [`tree::Node`](crate::tree::Node).
//!
//! A [`Template`] is compiled once ([`Template::new`], [`Template::builder`]) and rendered
//! many times. [`Template::render`] produces a tree whose HTML ([`Node::to_html`]) is byte
//! for byte what the `handlebars` crate renders for the same template, partials, helpers
//! and data; [`Template::render_html`] produces the same bytes as a plain string.
//!
//! # How the tree is found
//!
//! Each template is parsed by `handlebars` and then instrumented: every dynamic element,
//! and every sub-template (block bodies, `{{else}}` branches, `{{#each}}` bodies,
//! partials), is wrapped in a private block helper that writes markers (reserved code
//! points) before and after it. The markers are written straight to the output without
//! touching handlebars' state (indentation, whitespace control, current template), so the
//! output minus the markers is exactly what handlebars renders. One pass over the output
//! then builds the tree; statics are the output text between markers, and a node's
//! structure is identified by its statics (shared between renders when unchanged).
//!
//! | Template construct | Slot |
//! |---|---|
//! | `{{expr}}`, `{{{expr}}}`, `{{helper …}}` | [`Slot::Text`] |
//! | `{{#if}}`/`{{#unless}}`/`{{#with}}` (with `{{else}}`, `{{else if}}` chains) | [`Slot::Node`] of the branch taken, or `Slot::Text("")` when nothing renders |
//! | `{{#each}}` | [`Slot::Range`]; [`Slot::Node`] of the `{{else}}` branch when the list is empty |
//! | `{{> partial}}`, `{{#> layout}}…{{/layout}}`, `{{> @partial-block}}`, inline partials | [`Slot::Node`] of the partial's content |
//! | any other block helper (`{{#raw}}`, custom helpers) | one [`Slot::Text`] for the whole block |
//!
//! Range items that consist of one node with the same statics in every item (typically
//! `{{#each rows}}{{> row}}{{/each}}`) are flattened: the item statics are that node's
//! statics (with the item's leading and trailing text merged in) and its slots are the
//! item's slots. Keyed lists: when an item static ends with `data-key="` or
//! `data-lvt-key="` and the slot after it holds a unique, non-empty text in every item,
//! that slot is the key ([`Range::key_slot`](crate::tree::Range::key_slot)); otherwise
//! items are keyed by position. An empty `{{#each}}` without `{{else}}` is a range with no
//! items and empty statics. Items that come out with different statics (possible with
//! unusual indentation) make the whole list one text slot.
//!
//! # Reusing unchanged items
//!
//! [`Template::render_cached`] returns the same tree as `render`, but keeps, in a
//! [`RenderCache`] owned by the caller (one per connection), the data of the last render
//! and every rendered `{{#each}}` item (shared with the returned tree) together with the
//! item's data. On the next render an item whose data is unchanged at the same position
//! is neither rendered by handlebars nor parsed again: the new tree holds the same
//! `Arc`, which the diff skips without comparing.
//!
//! The data is kept up to date in place ([`RenderCache::update_data`] writes a
//! `Serialize` value into it without building a new `Value`), which also records which
//! array elements changed: items of an unchanged element are then reused without
//! comparing their data. For the lists at the top of the data (not inside other lists)
//! it also keeps a compact code of each element's serialization (about 17 bytes per
//! field, plus the text of its strings): an element that serializes to its code is
//! skipped without looking at its fields in the data. Lists are coded from their second
//! update on.
//!
//! Items are reused for `{{#each}}` bodies, in the template itself (not in partials),
//! that read only their item (no `../`, `@root`, `@index`, `@first`, `@last`, `@key`,
//! block parameters), call only built-in helpers, and include only partials that obey
//! the same rules (by name, without hash arguments, at most one parameter read from the
//! item, not recursively). Templates with partial blocks, decorators, or partials
//! included by a computed name do not reuse items; other constructs render as usual.
//!
//! # Flat templates
//!
//! A template whose root holds only text, comments and plain `{{path}}` / `{{{path}}}`
//! values renders without handlebars, into the same tree ([`Template::renders_directly`]).
//! When its values are all top-level keys, a live connection renders it straight from
//! the state's fields (strings, integers, booleans, unit variants) into the tree it sent
//! before, reusing that tree's strings; any other value takes the general path.
//!
//! # Client quirks handled here
//!
//! The browser client renders a text slot that starts with `{{` and ends with `}}` as
//! nothing; such text is sent as a node `{"s": ["{", "}"], "0": <inner>}` instead (same
//! HTML). The client also deletes the literal strings `<root>` and `</root>` from rebuilt
//! nodes: templates must not output them as content.
//!
//! # Limits
//!
//! - The code points U+FDD0..=U+FDEF (Unicode noncharacters) are reserved: a template
//!   source containing one is rejected; in escaped data they are kept; in unescaped
//!   output (`{{{ }}}`, raw-writing helpers) they are not supported (render error, or
//!   dropped).
//! - Partials may nest [`TemplateBuilder::max_depth`] levels (default 128); deeper
//!   nesting (a partial including itself without end) is a [`RenderError::DepthExceeded`].
//!
//! # Examples
//!
//! ```
//! use livetemplate_runtime::template::Template;
//! use serde_json::json;
//!
//! let t = Template::new("counter", "<p>Count: {{count}}</p>").unwrap();
//! let node = t.render(&json!({"count": 3})).unwrap();
//! assert_eq!(&*node.statics, &["<p>Count: ".into(), "</p>".into()] as &[Box<str>]);
//! assert_eq!(node.to_html(), "<p>Count: 3</p>");
//! ```

mod code;
mod compile;
mod data;
mod error;
mod fields;
mod flat;
mod marker;
mod parse;
mod range;

use std::collections::HashSet;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use handlebars::{Handlebars, HelperDef};
use serde_json::Value;

use crate::tree::Node;
#[cfg(doc)]
use crate::tree::Slot;

pub use error::{Location, RenderError, TemplateError};
pub(crate) use fields::FieldTexts;

use data::{Changes, Codes};
use marker::{Mode, Scratch, StateGuard};
use parse::StaticsCache;
use range::Site;

/// Default partial nesting limit.
pub const DEFAULT_MAX_DEPTH: usize = 128;

/// A compiled template with its partials and helpers. Cheap to clone, shareable
/// between threads.
#[derive(Clone)]
pub struct Template {
    inner: Arc<Inner>,
}

struct Inner {
    name: String,
    registry: Handlebars<'static>,
    cache: Arc<StaticsCache>,
    max_depth: usize,
    /// Unique per compiled template (a [`RenderCache`] belongs to one template).
    id: u64,
    /// Number of sub-template ids.
    ids: u32,
    /// Whether some `{{#each}}` items may be reused by [`Template::render_cached`].
    cacheable: bool,
    /// The plan of a flat template (rendered without handlebars, see `flat`).
    flat: Option<flat::Flat>,
}

static NEXT_TEMPLATE_ID: AtomicU64 = AtomicU64::new(1);

/// What [`Template::render_cached`] remembers between renders of one client: the data of
/// the last render and the rendered `{{#each}}` items, by position, with the data they
/// were rendered from.
///
/// Keep one per connection (it is tied to the last template it was used with; using it
/// with another template starts it afresh). It holds nothing for templates without
/// reusable items (see [`Template::reuses_items`]).
#[derive(Default)]
pub struct RenderCache {
    template: u64,
    sites: Vec<Site>,
    /// The data to render, updated in place (reusing its allocations).
    ctx: Option<handlebars::Context>,
    /// Where the data changed since the last render.
    changes: Changes,
    /// Codes of the top-level lists' elements (see `data`).
    codes: Codes,
    /// Number of renders so far.
    renders: u64,
}

impl RenderCache {
    /// An empty cache.
    pub fn new() -> RenderCache {
        RenderCache::default()
    }

    /// Number of rendered items held for reuse.
    pub fn cached_items(&self) -> usize {
        self.sites.iter().map(Site::cached_items).sum()
    }

    /// The data [`Template::render_held`] renders (`null` at first): the data of the last
    /// [`Template::render_cached`], or what was written here.
    pub fn data(&self) -> &Value {
        static NULL: Value = Value::Null;
        self.ctx.as_ref().map_or(&NULL, handlebars::Context::data)
    }

    /// The data [`Template::render_held`] renders, to change at will. The next render
    /// then compares the data of every `{{#each}}` item with the data it was rendered
    /// from; [`RenderCache::update_data`] also records where the data changed, so that
    /// unchanged items are reused without comparing their data.
    pub fn data_mut(&mut self) -> &mut Value {
        self.changes.forget();
        self.codes.clear();
        self.ctx
            .get_or_insert_with(handlebars::Context::null)
            .data_mut()
    }

    /// Make the held data ([`RenderCache::data`]) equal to
    /// `serde_json::to_value(value)`, changing it in place: what did not change keeps its
    /// allocations (nothing is allocated when nothing changed), and where it changed is
    /// recorded for the next render.
    ///
    /// # Errors
    ///
    /// When `serde_json::to_value(value)` fails; the held data is then partly updated
    /// (render it only after a successful update).
    pub fn update_data<T: serde::Serialize + ?Sized>(
        &mut self,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        let ctx = self.ctx.get_or_insert_with(handlebars::Context::null);
        data::update(ctx.data_mut(), value, &mut self.changes, &mut self.codes).map(|_| ())
    }
}

impl fmt::Debug for RenderCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RenderCache")
            .field("template", &self.template)
            .field("items", &self.cached_items())
            .finish()
    }
}

impl fmt::Debug for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Template")
            .field("name", &self.inner.name)
            .field("max_depth", &self.inner.max_depth)
            .finish_non_exhaustive()
    }
}

/// Collects the partials and helpers of a [`Template`]; see [`Template::builder`].
pub struct TemplateBuilder {
    name: String,
    source: String,
    partials: Vec<(String, String)>,
    helpers: Vec<(String, Box<dyn HelperDef + Send + Sync + 'static>)>,
    max_depth: usize,
}

impl fmt::Debug for TemplateBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TemplateBuilder")
            .field("name", &self.name)
            .field(
                "partials",
                &self.partials.iter().map(|p| &p.0).collect::<Vec<_>>(),
            )
            .field(
                "helpers",
                &self.helpers.iter().map(|h| &h.0).collect::<Vec<_>>(),
            )
            .field("max_depth", &self.max_depth)
            .finish_non_exhaustive()
    }
}

impl Template {
    /// Compile a template without partials or custom helpers.
    ///
    /// # Errors
    ///
    /// [`TemplateError`] for a syntax error, a partial reference, an unknown helper.
    pub fn new(name: &str, source: &str) -> Result<Template, TemplateError> {
        Template::builder(name, source).build()
    }

    /// Start compiling a template that uses partials or helpers.
    ///
    /// ```
    /// use livetemplate_runtime::template::Template;
    /// use serde_json::json;
    ///
    /// let t = Template::builder("page", "<ul>{{#each items}}{{> row}}{{/each}}</ul>")
    ///     .partial("row", r#"<li data-key="{{id}}">{{name}}</li>"#)
    ///     .build()
    ///     .unwrap();
    /// let html = t.render_html(&json!({"items": [{"id": "a", "name": "Alpha"}]})).unwrap();
    /// assert_eq!(html, r#"<ul><li data-key="a">Alpha</li></ul>"#);
    /// ```
    pub fn builder(name: &str, source: &str) -> TemplateBuilder {
        TemplateBuilder {
            name: name.to_owned(),
            source: source.to_owned(),
            partials: Vec::new(),
            helpers: Vec::new(),
            max_depth: DEFAULT_MAX_DEPTH,
        }
    }

    /// The template's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Render `data` into a tree whose HTML equals what handlebars renders.
    ///
    /// # Errors
    ///
    /// [`RenderError`] when handlebars fails (a helper error, a dynamic partial that does
    /// not exist, …), when partials nest too deep, or when unescaped output contains
    /// reserved code points.
    pub fn render(&self, data: &Value) -> Result<Node, RenderError> {
        if let Some(node) = self
            .inner
            .flat
            .as_ref()
            .and_then(|f| f.render(data, &self.inner.cache))
        {
            return Ok(node);
        }
        self.render_instrumented(data)
    }

    /// Whether this is a flat template whose values are all top-level keys other than
    /// `lvt` (it may render with [`Template::render_fields`]).
    pub(crate) fn reads_fields(&self) -> bool {
        self.inner
            .flat
            .as_ref()
            .is_some_and(flat::Flat::fields_only)
    }

    /// For a template that [reads only fields](Template::reads_fields): renders the
    /// template data of `state` (its fields plus `lvt`) into `spare`, reusing its
    /// strings, and returns true; the node equals what [`Template::render`] makes of the
    /// data. False (and `spare` not to be used) when the state's fields cannot be read
    /// directly: the caller renders the data instead.
    pub(crate) fn render_fields<S: serde::Serialize + ?Sized>(
        &self,
        state: &S,
        texts: &mut FieldTexts,
        spare: &mut Option<Node>,
    ) -> bool {
        self.inner
            .flat
            .as_ref()
            .is_some_and(|f| f.render_fields(state, texts, spare))
    }

    /// Whether this template renders without handlebars: its root holds only text,
    /// comments and `{{path}}`/`{{{path}}}` values of plain paths (no helpers, blocks or
    /// partials). Such a template renders straight from the data into the same tree.
    pub fn renders_directly(&self) -> bool {
        self.inner.flat.is_some()
    }

    /// For a template that renders without handlebars ([`Template::renders_directly`]),
    /// the top-level keys of the data it reads: data holding only these keys renders the
    /// same tree as the full data.
    pub fn direct_keys(&self) -> Option<&[String]> {
        self.inner.flat.as_ref().map(flat::Flat::keys)
    }

    /// [`Template::render`] through handlebars and the instrumented output, even for a
    /// template that renders without (the tests compare the two).
    #[doc(hidden)]
    pub fn render_instrumented(&self, data: &Value) -> Result<Node, RenderError> {
        let out = self.render_mode(data, Mode::Tree)?;
        parse::parse(&out, &self.inner.cache, &self.inner.name)
    }

    /// Render `data` as [`Template::render`] does (the same tree), reusing the `{{#each}}`
    /// items of earlier renders with this `cache` whose data did not change.
    ///
    /// The data is copied into the cache (only what changed since the last render, as
    /// [`RenderCache::update_data`] does); [`Template::render_held`] renders data already
    /// there.
    /// Items are reused when the `{{#each}}` body reads only the item (no `../`,
    /// `@root`, `@index`/`@first`/`@last`/`@key`, block parameters), calls only built-in
    /// helpers and includes only such partials (see the [module](self) documentation);
    /// when no `{{#each}}` qualifies this is `render` (and the cache stays empty).
    ///
    /// # Errors
    ///
    /// As [`Template::render`].
    pub fn render_cached(
        &self,
        data: &Value,
        cache: &mut RenderCache,
    ) -> Result<Node, RenderError> {
        if !self.inner.cacheable {
            return self.render(data);
        }
        match cache.ctx.as_mut() {
            Some(ctx) => {
                data::assign(ctx.data_mut(), data, &mut cache.changes);
                cache.codes.clear();
            }
            None => {
                cache.changes.forget();
                cache.codes.clear();
                cache.ctx = Some(handlebars::Context::from(data.clone()));
            }
        }
        self.render_held(cache)
    }

    /// Render the data held by `cache` ([`RenderCache::data`]) as
    /// [`Template::render_cached`] does. Write the data with [`RenderCache::update_data`]
    /// (or [`RenderCache::data_mut`]): nothing is copied.
    ///
    /// # Errors
    ///
    /// As [`Template::render`].
    pub fn render_held(&self, cache: &mut RenderCache) -> Result<Node, RenderError> {
        if !self.inner.cacheable {
            cache.changes = Changes::default();
            return self.render(cache.data());
        }
        if cache.template != self.inner.id {
            cache.template = self.inner.id;
            cache.sites = Vec::new();
        }
        let mut sites = std::mem::take(&mut cache.sites);
        sites.resize_with(self.inner.ids as usize, Site::default);
        cache.renders += 1;
        let scratch = Scratch {
            sites,
            slots: Vec::new(),
            changes: std::mem::take(&mut cache.changes),
            render: cache.renders,
        };
        let ctx = cache.ctx.get_or_insert_with(handlebars::Context::null);
        let guard = StateGuard::enter(Mode::Tree, Some(scratch));
        let result = self
            .inner
            .registry
            .render_with_context(&self.inner.name, ctx);
        let state = guard.current();
        let parsed = result.map(|out| parse::parse(&out, &self.inner.cache, &self.inner.name));
        if let Some(scratch) = guard.take_scratch() {
            cache.sites = scratch.sites;
        }
        drop(guard);
        match parsed {
            Ok(node) => node,
            Err(e) => Err(self.render_error(e, state)),
        }
    }

    /// Whether [`Template::render_cached`] can reuse items of this template (it has an
    /// `{{#each}}` whose items may be reused); when not, it renders as `render` does and
    /// keeps nothing in the cache.
    pub fn reuses_items(&self) -> bool {
        self.inner.cacheable
    }

    /// Render `data` to a plain HTML string (the same bytes as `render(data)?.to_html()`).
    ///
    /// # Errors
    ///
    /// As [`Template::render`].
    pub fn render_html(&self, data: &Value) -> Result<String, RenderError> {
        self.render_mode(data, Mode::Plain)
    }

    fn render_mode(&self, data: &Value, mode: Mode) -> Result<String, RenderError> {
        let ctx = handlebars::Context::from(data.clone());
        let guard = StateGuard::enter(mode, None);
        let result = self
            .inner
            .registry
            .render_with_context(&self.inner.name, &ctx);
        let state = guard.current();
        drop(guard);
        result.map_err(|e| self.render_error(e, state))
    }

    fn render_error(&self, e: handlebars::RenderError, state: marker::State) -> RenderError {
        if state.depth_exceeded {
            RenderError::DepthExceeded {
                template: self.inner.name.clone(),
                max_depth: self.inner.max_depth,
            }
        } else {
            RenderError::Handlebars {
                template: self.inner.name.clone(),
                source: Box::new(e),
            }
        }
    }
}

impl TemplateBuilder {
    /// Register a partial (`{{> name}}`); a later partial with the same name replaces
    /// an earlier one.
    pub fn partial(mut self, name: &str, source: &str) -> Self {
        self.partials.retain(|(n, _)| n != name);
        self.partials.push((name.to_owned(), source.to_owned()));
        self
    }

    /// Register a helper (as `Handlebars::register_helper` does). Registering `if`,
    /// `unless`, `with` or `each` replaces the built-in; such blocks then render as one
    /// text slot.
    pub fn helper(mut self, name: &str, helper: impl HelperDef + Send + Sync + 'static) -> Self {
        self.helpers.retain(|(n, _)| n != name);
        self.helpers.push((name.to_owned(), Box::new(helper)));
        self
    }

    /// Maximum partial nesting (default [`DEFAULT_MAX_DEPTH`]).
    pub fn max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }

    /// Parse, check and instrument the template and its partials.
    ///
    /// # Errors
    ///
    /// [`TemplateError`] naming the template (or partial), line and column of the first
    /// problem: a syntax error, `{{> name}}` naming a partial that is neither registered
    /// nor defined inline, a helper that is neither built in nor registered, a decorator
    /// other than `*inline`, a reserved character, or a name clash.
    pub fn build(self) -> Result<Template, TemplateError> {
        if let Some((n, _)) = self.partials.iter().find(|(n, _)| *n == self.name) {
            return Err(TemplateError::Name(format!(
                "partial `{n}` has the same name as the template"
            )));
        }
        if let Some((n, _)) = self.helpers.iter().find(|(n, _)| n == marker::HELPER_NAME) {
            return Err(TemplateError::Name(format!(
                "helper name `{n}` is reserved"
            )));
        }

        let mut root = compile::parse(&self.name, &self.source)?;
        let mut partials = Vec::with_capacity(self.partials.len());
        for (name, source) in &self.partials {
            partials.push((name.as_str(), compile::parse(name, source)?));
        }

        let helper_names: HashSet<String> = self.helpers.iter().map(|(n, _)| n.clone()).collect();
        let mut partial_names: HashSet<String> =
            self.partials.iter().map(|(n, _)| n.clone()).collect();
        compile::collect_inline_partials(&root, &mut partial_names);
        for (_, t) in &partials {
            compile::collect_inline_partials(t, &mut partial_names);
        }
        let mut checker = compile::Checker::new(&partial_names, &helper_names);
        checker.check(&self.name, &root)?;
        for (name, t) in &partials {
            checker.check(name, t)?;
        }

        let cacheable = compile::caching_allowed(&root, &partials, &helper_names);
        let mut inst = compile::Instrumenter::new(
            compile::Structural::new(&helper_names),
            cacheable.then(|| compile::Purity::new(&helper_names, &partials)),
        );
        let mut known_helpers: HashSet<&str> = compile::BUILTIN_HELPERS.iter().copied().collect();
        known_helpers.extend(helper_names.iter().map(String::as_str));
        known_helpers.insert(marker::HELPER_NAME);
        let flat = flat::Flat::plan(&root, &known_helpers);
        let root_id = inst.instrument(&mut root);
        inst.disable_caching();
        let cacheable = inst.cached_sites() > 0;
        for (_, t) in &mut partials {
            inst.instrument(t);
        }

        let statics = Arc::new(StaticsCache::new(inst.ids()));
        let flat = flat.map(|plan| plan.intern(&statics, root_id));
        let mut registry = Handlebars::new();
        registry.register_escape_fn(marker::escape);
        registry.register_helper(
            marker::HELPER_NAME,
            Box::new(marker::WrapHelper {
                max_depth: u32::try_from(self.max_depth).unwrap_or(u32::MAX),
                statics: statics.clone(),
            }),
        );
        for (name, h) in self.helpers {
            registry.register_helper(&name, h);
        }
        for (name, t) in partials {
            registry.register_template(name, t);
        }
        registry.register_template(&self.name, root);
        tracing::debug!(template = %self.name, ids = inst.ids(), "template compiled");

        Ok(Template {
            inner: Arc::new(Inner {
                name: self.name,
                registry,
                cache: statics,
                max_depth: self.max_depth,
                id: NEXT_TEMPLATE_ID.fetch_add(1, Ordering::Relaxed),
                ids: inst.ids(),
                cacheable,
                flat,
            }),
        })
    }
}

#[cfg(test)]
mod tests;
