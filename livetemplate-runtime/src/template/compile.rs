//! Build-time work on parsed handlebars templates: static checks (unknown partials,
//! helpers, decorators) and instrumentation (marker-writing wrappers around every dynamic part).

use std::collections::{HashMap, HashSet};

use handlebars::template::{
    HelperTemplate, Parameter, Subexpression, Template as HbTemplate, TemplateElement,
    TemplateMapping,
};
use handlebars::Handlebars;
use serde_json::Value;

use super::error::{Location, TemplateError};
use super::marker::{self, find_reserved};

/// Helpers registered by `Handlebars::new()` (without optional crate features).
pub(crate) const BUILTIN_HELPERS: &[&str] = &[
    "if", "unless", "each", "with", "lookup", "raw", "log", "eq", "ne", "gt", "gte", "lt", "lte",
    "and", "or", "not", "len",
];

/// Parse one source the way `Handlebars::register_template_string` does.
pub(crate) fn parse(name: &str, source: &str) -> Result<HbTemplate, TemplateError> {
    if let Some(at) = find_reserved(source.as_bytes(), 0) {
        let before = &source[..at];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        let code = source[at..].chars().next().map_or(0, |c| c as u32);
        return Err(TemplateError::ReservedCharacter {
            location: Location {
                template: name.to_owned(),
                line: Some(line),
                column: Some(column),
            },
            code,
        });
    }
    HbTemplate::compile_with_name(source, name.to_owned()).map_err(|e| {
        let pos = e.pos();
        TemplateError::Syntax {
            location: Location {
                template: e.name().cloned().unwrap_or_else(|| name.to_owned()),
                line: pos.map(|p| p.0),
                column: pos.map(|p| p.1),
            },
            message: e.reason().to_string(),
        }
    })
}

fn element_name(p: &Parameter) -> Option<&str> {
    match p {
        Parameter::Name(_) | Parameter::Path(_) => p.as_name(),
        _ => None,
    }
}

fn is_name_only(ht: &HelperTemplate) -> bool {
    !ht.block && ht.params.is_empty() && ht.hash.is_empty()
}

/// Names of inline partials (`{{#*inline "name"}}`) defined anywhere in `t`.
pub(crate) fn collect_inline_partials(t: &HbTemplate, out: &mut HashSet<String>) {
    for el in &t.elements {
        match el {
            TemplateElement::DecoratorBlock(dt) => {
                if element_name(&dt.name) == Some("inline") {
                    if let Some(Parameter::Literal(Value::String(n))) = dt.params.first() {
                        out.insert(n.clone());
                    }
                }
                if let Some(inner) = &dt.template {
                    collect_inline_partials(inner, out);
                }
            }
            TemplateElement::HelperBlock(ht) => {
                for inner in [&ht.template, &ht.inverse].into_iter().flatten() {
                    collect_inline_partials(inner, out);
                }
            }
            TemplateElement::PartialBlock(dt) => {
                if let Some(inner) = &dt.template {
                    collect_inline_partials(inner, out);
                }
            }
            _ => {}
        }
    }
}

/// What is known to exist when checking templates.
pub(crate) struct Checker<'a> {
    pub(crate) partials: &'a HashSet<String>,
    pub(crate) helpers: &'a HashSet<String>,
    probe: Option<Handlebars<'static>>,
}

type Pos = Option<(usize, usize)>;

impl<'a> Checker<'a> {
    pub(crate) fn new(partials: &'a HashSet<String>, helpers: &'a HashSet<String>) -> Self {
        Checker {
            partials,
            helpers,
            probe: None,
        }
    }

    /// Check every partial, helper and decorator reference of template `name`.
    pub(crate) fn check(&mut self, name: &str, t: &HbTemplate) -> Result<(), TemplateError> {
        self.template(name, t, None)
    }

    fn template(
        &mut self,
        tname: &str,
        t: &HbTemplate,
        inherited: Pos,
    ) -> Result<(), TemplateError> {
        for (i, el) in t.elements.iter().enumerate() {
            let pos = t.mapping.get(i).map(|m| (m.0, m.1)).or(inherited);
            self.element(tname, el, pos)?;
        }
        Ok(())
    }

    fn element(
        &mut self,
        tname: &str,
        el: &TemplateElement,
        pos: Pos,
    ) -> Result<(), TemplateError> {
        match el {
            TemplateElement::Expression(ht) | TemplateElement::HtmlExpression(ht) => {
                if !is_name_only(ht) {
                    if let Some(n) = element_name(&ht.name) {
                        self.helper(tname, n, false, pos)?;
                    }
                }
                self.helper_template_params(tname, ht, pos)?;
            }
            TemplateElement::HelperBlock(ht) => {
                if let Some(n) = element_name(&ht.name) {
                    self.helper(tname, n, true, pos)?;
                }
                self.helper_template_params(tname, ht, pos)?;
                for inner in [&ht.template, &ht.inverse].into_iter().flatten() {
                    self.template(tname, inner, pos)?;
                }
            }
            TemplateElement::PartialExpression(dt) | TemplateElement::PartialBlock(dt) => {
                let is_block = matches!(el, TemplateElement::PartialBlock(_));
                match &dt.name {
                    Parameter::Subexpression(s) => self.subexpression(tname, s, pos)?,
                    p => {
                        if let Some(n) = element_name(p) {
                            // A partial block renders its own body when the partial is missing.
                            if !is_block && n != "@partial-block" && !self.partials.contains(n) {
                                return Err(TemplateError::UnknownPartial {
                                    location: location(tname, pos),
                                    name: n.to_owned(),
                                });
                            }
                        }
                    }
                }
                self.params(tname, dt.params.iter().chain(dt.hash.values()), pos)?;
                if let Some(inner) = &dt.template {
                    self.template(tname, inner, pos)?;
                }
            }
            TemplateElement::DecoratorExpression(dt) | TemplateElement::DecoratorBlock(dt) => {
                let name = dt.name.as_name().unwrap_or_default();
                if name != "inline" {
                    return Err(TemplateError::UnknownDecorator {
                        location: location(tname, pos),
                        name: name.to_owned(),
                    });
                }
                self.params(tname, dt.params.iter().chain(dt.hash.values()), pos)?;
                if let Some(inner) = &dt.template {
                    self.template(tname, inner, pos)?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn helper_template_params(
        &mut self,
        tname: &str,
        ht: &HelperTemplate,
        pos: Pos,
    ) -> Result<(), TemplateError> {
        if let Parameter::Subexpression(s) = &ht.name {
            self.subexpression(tname, s, pos)?;
        }
        self.params(tname, ht.params.iter().chain(ht.hash.values()), pos)
    }

    fn params<'p>(
        &mut self,
        tname: &str,
        params: impl Iterator<Item = &'p Parameter>,
        pos: Pos,
    ) -> Result<(), TemplateError> {
        for p in params {
            if let Parameter::Subexpression(s) = p {
                self.subexpression(tname, s, pos)?;
            }
        }
        Ok(())
    }

    fn subexpression(
        &mut self,
        tname: &str,
        s: &Subexpression,
        pos: Pos,
    ) -> Result<(), TemplateError> {
        // A subexpression is always a helper call, even without parameters.
        if let TemplateElement::Expression(ht) = s.as_element() {
            if let Some(n) = element_name(&ht.name) {
                self.helper(tname, n, false, pos)?;
            }
            self.helper_template_params(tname, ht, pos)?;
        }
        Ok(())
    }

    fn helper(
        &mut self,
        tname: &str,
        name: &str,
        block: bool,
        pos: Pos,
    ) -> Result<(), TemplateError> {
        let missing_hook = if block {
            "blockHelperMissing"
        } else {
            "helperMissing"
        };
        if self.helpers.contains(name)
            || BUILTIN_HELPERS.contains(&name)
            || self.helpers.contains(missing_hook)
            || self.builtin_by_probe(name)
        {
            return Ok(());
        }
        Err(TemplateError::UnknownHelper {
            location: location(tname, pos),
            name: name.to_owned(),
        })
    }

    /// Whether a fresh registry knows `name` (helpers added by optional crate features).
    fn builtin_by_probe(&mut self, name: &str) -> bool {
        let probe = self.probe.get_or_insert_with(Handlebars::new);
        let source = format!("{{{{#if ({name})}}}}{{{{/if}}}}");
        match probe.render_template(&source, &Value::Null) {
            Ok(_) => true,
            Err(e) => !matches!(
                e.reason(),
                handlebars::RenderErrorReason::HelperNotFound(_)
                    | handlebars::RenderErrorReason::TemplateError(_)
            ),
        }
    }
}

fn location(tname: &str, pos: Pos) -> Location {
    Location {
        template: tname.to_owned(),
        line: pos.map(|p| p.0),
        column: pos.map(|p| p.1),
    }
}

/// Which block helpers get a tree structure (unless the user replaced them).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Structural {
    pub(crate) conditional: [bool; 3],
    pub(crate) each: bool,
}

impl Structural {
    pub(crate) fn new(user_helpers: &HashSet<String>) -> Self {
        Structural {
            conditional: [
                !user_helpers.contains("if"),
                !user_helpers.contains("unless"),
                !user_helpers.contains("with"),
            ],
            each: !user_helpers.contains("each"),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Conditional,
    Each,
    Opaque,
}

/// Wraps the dynamic parts of parsed templates in marker-writing helpers and numbers their
/// sub-templates.
pub(crate) struct Instrumenter {
    next_id: u32,
    /// Number of `{{#each}}` sites whose items may be reused.
    cached_sites: u32,
    structural: Structural,
    /// `Some` when `{{#each}}` items may be reused between renders (see
    /// [`item_cacheable`]); `None` disables item caching.
    cacheable: Option<Purity>,
}

/// Pure built-in helpers: their output depends only on their parameters.
const PURE_HELPERS: &[&str] = &[
    "if", "unless", "each", "with", "lookup", "eq", "ne", "gt", "gte", "lt", "lte", "and", "or",
    "not", "len",
];

/// Whether item caching may be used at all: no missing-helper hook is registered, the
/// root template has no partial blocks and no decorators, and every partial is included
/// by a static name (so the root template, where the cached `{{#each}}` sites are, is
/// never rendered as a partial, at another indentation).
pub(crate) fn caching_allowed(
    root: &HbTemplate,
    partials: &[(&str, HbTemplate)],
    user_helpers: &HashSet<String>,
) -> bool {
    fn no_blocks_or_decorators(t: &HbTemplate) -> bool {
        t.elements.iter().all(|el| match el {
            TemplateElement::PartialBlock(_)
            | TemplateElement::DecoratorExpression(_)
            | TemplateElement::DecoratorBlock(_) => false,
            TemplateElement::HelperBlock(ht) => [&ht.template, &ht.inverse]
                .into_iter()
                .flatten()
                .all(no_blocks_or_decorators),
            _ => true,
        })
    }
    fn static_partials(t: &HbTemplate) -> bool {
        t.elements.iter().all(|el| match el {
            TemplateElement::PartialExpression(dt) | TemplateElement::PartialBlock(dt) => {
                matches!(dt.name, Parameter::Name(_) | Parameter::Path(_))
                    && dt.template.as_ref().is_none_or(static_partials)
            }
            TemplateElement::DecoratorBlock(dt) => dt.template.as_ref().is_none_or(static_partials),
            TemplateElement::HelperBlock(ht) => [&ht.template, &ht.inverse]
                .into_iter()
                .flatten()
                .all(static_partials),
            _ => true,
        })
    }
    !user_helpers.contains("helperMissing")
        && !user_helpers.contains("blockHelperMissing")
        && no_blocks_or_decorators(root)
        && static_partials(root)
        && partials.iter().all(|(_, t)| static_partials(t))
}

/// What an `{{#each}}` body may call and still depend only on its item.
#[derive(Clone, Debug, Default)]
pub(crate) struct Purity {
    /// Helpers registered by the user (never pure).
    user: HashSet<String>,
    /// Registered partials whose output depends only on their context (see
    /// [`Purity::new`]).
    partials: HashSet<String>,
}

impl Purity {
    /// The pure partials among `partials`: bodies that are cacheable (see
    /// [`body_cacheable`]), including only pure partials, not recursively.
    pub(crate) fn new(user: &HashSet<String>, partials: &[(&str, HbTemplate)]) -> Purity {
        #[derive(Clone, Copy, PartialEq)]
        enum Mark {
            Visiting,
            Pure,
            Impure,
        }
        fn visit<'p>(
            name: &str,
            by_name: &HashMap<&'p str, &'p HbTemplate>,
            marks: &mut HashMap<&'p str, Mark>,
            user: &HashSet<String>,
        ) -> bool {
            let Some((&key, &t)) = by_name.get_key_value(name) else {
                return false;
            };
            match marks.get(key) {
                Some(m) => return *m == Mark::Pure,
                None => {
                    marks.insert(key, Mark::Visiting);
                }
            }
            let pure = body_cacheable(t, user, &mut |callee| visit(callee, by_name, marks, user));
            marks.insert(key, if pure { Mark::Pure } else { Mark::Impure });
            pure
        }
        let by_name: HashMap<&str, &HbTemplate> = partials.iter().map(|(n, t)| (*n, t)).collect();
        let mut marks = HashMap::new();
        let pure = partials
            .iter()
            .filter(|(n, _)| visit(n, &by_name, &mut marks, user))
            .map(|(n, _)| (*n).to_owned())
            .collect();
        Purity {
            user: user.clone(),
            partials: pure,
        }
    }
}

/// Whether a path refers only to the current context (`this`, `a.b`), not to a parent,
/// the root or a `@` variable.
fn local_path(raw: &str) -> bool {
    !raw.contains("..") && !raw.contains('@')
}

fn param_cacheable(p: &Parameter, user: &HashSet<String>) -> bool {
    match p {
        Parameter::Literal(_) => true,
        Parameter::Name(n) => local_path(n) && !user.contains(n.as_str()),
        Parameter::Path(handlebars::Path::Relative((_, raw))) => local_path(raw),
        Parameter::Path(_) => false,
        Parameter::Subexpression(s) => match s.as_element() {
            TemplateElement::Expression(ht) => call_cacheable(ht, user),
            _ => false,
        },
        _ => false,
    }
}

/// A helper call (or a plain value lookup) whose output depends only on the current
/// context.
fn call_cacheable(ht: &HelperTemplate, user: &HashSet<String>) -> bool {
    let name_ok = match element_name(&ht.name) {
        Some(n) if is_name_only(ht) && !PURE_HELPERS.contains(&n) => {
            local_path(n) && !user.contains(n)
        }
        Some(n) => PURE_HELPERS.contains(&n) && !user.contains(n),
        None => false,
    };
    name_ok
        && ht.block_param.is_none()
        && ht
            .params
            .iter()
            .chain(ht.hash.values())
            .all(|p| param_cacheable(p, user))
}

/// Whether an `{{#each}}` body renders the same output for the same item value wherever
/// it appears: it reads only the item (no `../`, `@root`, `@index`, block parameters),
/// calls only pure built-in helpers, and includes only partials `partial_ok` accepts, by
/// name, without hash arguments and with at most a context read from the item.
fn body_cacheable(
    t: &HbTemplate,
    user: &HashSet<String>,
    partial_ok: &mut dyn FnMut(&str) -> bool,
) -> bool {
    t.elements.iter().all(|el| match el {
        TemplateElement::RawString(_) | TemplateElement::Comment(_) => true,
        TemplateElement::Expression(ht) | TemplateElement::HtmlExpression(ht) => {
            call_cacheable(ht, user)
        }
        TemplateElement::HelperBlock(ht) => {
            matches!(
                element_name(&ht.name),
                Some("if" | "unless" | "with" | "each")
            ) && call_cacheable(ht, user)
                && [&ht.template, &ht.inverse]
                    .into_iter()
                    .flatten()
                    .all(|t| body_cacheable(t, user, partial_ok))
        }
        TemplateElement::PartialExpression(dt) => {
            dt.hash.is_empty()
                && dt.template.is_none()
                && dt.params.len() <= 1
                && dt.params.iter().all(|p| param_cacheable(p, user))
                && matches!(dt.name, Parameter::Name(_) | Parameter::Path(_))
                && element_name(&dt.name).is_some_and(|n| !n.starts_with('@') && partial_ok(n))
        }
        _ => false,
    })
}

/// The list parameter of an `{{#each}}` whose items may be cached, if it is one.
fn item_cacheable(ht: &HelperTemplate, purity: &Purity) -> Option<Parameter> {
    let list = match ht.params.as_slice() {
        [p @ Parameter::Path(handlebars::Path::Relative((_, raw)))] if !raw.contains('@') => p,
        _ => return None,
    };
    let ok = ht.hash.is_empty()
        && ht.block_param.is_none()
        && ht
            .template
            .as_ref()
            .is_some_and(|t| body_cacheable(t, &purity.user, &mut |n| purity.partials.contains(n)));
    ok.then(|| list.clone())
}

/// A `WrapHelper` block body: the wrapped elements, named by the opening marker.
fn wrapper_body(
    open: String,
    elements: Vec<TemplateElement>,
    mapping: Vec<TemplateMapping>,
) -> HbTemplate {
    let mut body = HbTemplate::new();
    body.name = Some(open);
    body.elements = elements;
    body.mapping = mapping;
    body
}

/// Wrap `elements` in a `WrapHelper` block whose template carries the opening marker as its
/// name (see `marker::WrapHelper`).
fn wrap(
    open: String,
    elements: Vec<TemplateElement>,
    mapping: Vec<TemplateMapping>,
) -> TemplateElement {
    let body = wrapper_body(open, elements, mapping);
    let sub = Subexpression::new(
        Parameter::Name(marker::HELPER_NAME.to_owned()),
        Vec::new(),
        HashMap::new(),
    );
    match *sub.element {
        TemplateElement::Expression(mut ht) => {
            ht.block = true;
            ht.template = Some(body);
            TemplateElement::HelperBlock(ht)
        }
        other => other,
    }
}

fn wrap_one(
    kind: char,
    id: Option<u32>,
    el: TemplateElement,
    at: Option<&TemplateMapping>,
) -> TemplateElement {
    wrap_one_encoded(marker::encode(kind, id), el, at)
}

fn wrap_one_encoded(
    open: String,
    el: TemplateElement,
    at: Option<&TemplateMapping>,
) -> TemplateElement {
    wrap(open, vec![el], at.cloned().into_iter().collect())
}

/// The wrapper of an `{{#each}}` whose items may be reused: a `WrapHelper` block taking the
/// list as its parameter and holding the `{{#each}}` itself.
///
/// The wrapper is made from the `{{#each}}`'s own helper template (renamed, its
/// parameters, body and inverse replaced), so it keeps the `{{#each}}`'s standalone-line
/// flag: handlebars then puts the render state exactly where it would be when calling
/// `each`, and the wrapper can render the items itself (calling the inner `{{#each}}`
/// again applies the same flag a second time, which changes nothing).
fn each_site(
    open: String,
    mut ht: Box<HelperTemplate>,
    list: Parameter,
    at: Option<&TemplateMapping>,
) -> TemplateElement {
    let template = ht.template.take();
    let inverse = ht.inverse.take();
    let mut each = ht.clone();
    each.template = template;
    each.inverse = inverse;
    ht.name = Parameter::Name(marker::HELPER_NAME.to_owned());
    ht.params = vec![list];
    ht.hash = HashMap::new();
    ht.block_param = None;
    ht.block = true;
    ht.chain = false;
    ht.template = Some(wrapper_body(
        open,
        vec![TemplateElement::HelperBlock(each)],
        at.cloned().into_iter().collect(),
    ));
    TemplateElement::HelperBlock(ht)
}

/// Inside a block rendered as one text slot, only partials are wrapped (for the depth
/// limit and stack growth; their markers are suppressed at run time): the block's helper
/// sees its templates as written, apart from partial elements.
fn opaque(t: &mut HbTemplate) {
    for el in &mut t.elements {
        let taken = std::mem::replace(el, TemplateElement::Comment(String::new()));
        *el = match taken {
            TemplateElement::HelperBlock(mut ht) => {
                for inner in [ht.template.as_mut(), ht.inverse.as_mut()]
                    .into_iter()
                    .flatten()
                {
                    opaque(inner);
                }
                TemplateElement::HelperBlock(ht)
            }
            TemplateElement::DecoratorBlock(mut dt) => {
                if let Some(inner) = dt.template.as_mut() {
                    opaque(inner);
                }
                TemplateElement::DecoratorBlock(dt)
            }
            TemplateElement::PartialExpression(dt) => wrap(
                marker::encode(marker::PARTIAL, None),
                vec![TemplateElement::PartialExpression(dt)],
                Vec::new(),
            ),
            TemplateElement::PartialBlock(mut dt) => {
                if let Some(inner) = dt.template.as_mut() {
                    opaque(inner);
                }
                wrap(
                    marker::encode(marker::PARTIAL, None),
                    vec![TemplateElement::PartialBlock(dt)],
                    Vec::new(),
                )
            }
            other => other,
        };
    }
}

impl Instrumenter {
    pub(crate) fn new(structural: Structural, cacheable: Option<Purity>) -> Self {
        Instrumenter {
            next_id: 0,
            cached_sites: 0,
            structural,
            cacheable,
        }
    }

    /// Stop marking `{{#each}}` sites for item caching (for templates that are only
    /// reachable as partials).
    pub(crate) fn disable_caching(&mut self) {
        self.cacheable = None;
    }

    /// Number of `{{#each}}` sites whose items may be reused.
    pub(crate) fn cached_sites(&self) -> u32 {
        self.cached_sites
    }

    /// Number of sub-template ids handed out so far.
    pub(crate) fn ids(&self) -> u32 {
        self.next_id
    }

    fn alloc(&mut self) -> u32 {
        let id = self.next_id;
        self.next_id += 1;
        id
    }

    /// Instrument a top-level template (the root or a registered partial).
    pub(crate) fn instrument(&mut self, t: &mut HbTemplate) -> u32 {
        let id = self.alloc();
        self.template(t, id);
        id
    }

    fn kind(&self, ht: &HelperTemplate) -> BlockKind {
        let s = self.structural;
        match element_name(&ht.name) {
            Some("if") if s.conditional[0] => BlockKind::Conditional,
            Some("unless") if s.conditional[1] => BlockKind::Conditional,
            Some("with") if s.conditional[2] => BlockKind::Conditional,
            Some("each") if s.each => BlockKind::Each,
            _ => BlockKind::Opaque,
        }
    }

    /// Wrap the body of `t` in `BEGIN(id) … END` and every dynamic element in a slot.
    ///
    /// Elements are replaced one for one, so the source positions stay aligned.
    fn template(&mut self, t: &mut HbTemplate, id: u32) {
        let elements = std::mem::take(&mut t.elements);
        let mapping = std::mem::take(&mut t.mapping);
        let mut out = Vec::with_capacity(elements.len());
        for (i, el) in elements.into_iter().enumerate() {
            let at = mapping.get(i);
            let el = match el {
                TemplateElement::Expression(_) | TemplateElement::HtmlExpression(_) => {
                    wrap_one(marker::RAW_OPEN, None, el, at)
                }
                TemplateElement::HelperBlock(mut ht) => match self.kind(&ht) {
                    BlockKind::Conditional => {
                        self.branches(&mut ht);
                        wrap_one(marker::BLOCK, None, TemplateElement::HelperBlock(ht), at)
                    }
                    BlockKind::Each => {
                        let list = self
                            .cacheable
                            .as_ref()
                            .and_then(|purity| item_cacheable(&ht, purity));
                        let body = self.alloc();
                        if let Some(inner) = ht.template.as_mut() {
                            self.template(inner, body);
                        }
                        if let Some(inner) = ht.inverse.as_mut() {
                            let else_id = self.alloc();
                            self.template(inner, else_id);
                        }
                        let open = marker::encode(marker::EACH, Some(body));
                        match list {
                            Some(list) => {
                                self.cached_sites += 1;
                                each_site(open, ht, list, at)
                            }
                            None => wrap_one_encoded(open, TemplateElement::HelperBlock(ht), at),
                        }
                    }
                    BlockKind::Opaque => {
                        // Not split: one text slot. Partials inside still count depth.
                        for inner in [ht.template.as_mut(), ht.inverse.as_mut()]
                            .into_iter()
                            .flatten()
                        {
                            opaque(inner);
                        }
                        wrap_one(marker::RAW_OPEN, None, TemplateElement::HelperBlock(ht), at)
                    }
                },
                TemplateElement::PartialExpression(_) => wrap_one(marker::PARTIAL, None, el, at),
                TemplateElement::PartialBlock(mut dt) => {
                    if let Some(inner) = dt.template.as_mut() {
                        let sub = self.alloc();
                        self.template(inner, sub);
                    }
                    wrap_one(marker::PARTIAL, None, TemplateElement::PartialBlock(dt), at)
                }
                TemplateElement::DecoratorBlock(mut dt) => {
                    if let Some(inner) = dt.template.as_mut() {
                        let sub = self.alloc();
                        self.template(inner, sub);
                    }
                    TemplateElement::DecoratorBlock(dt)
                }
                other => other,
            };
            out.push(el);
        }
        let first = mapping.first().cloned();
        t.elements = vec![wrap(marker::encode(marker::BEGIN, Some(id)), out, mapping)];
        t.mapping = first.into_iter().collect();
    }

    /// Instrument the branches of a conditional block; an `{{else if}}` chain is
    /// flattened so that the taken branch is the slot's node whatever its depth.
    fn branches(&mut self, ht: &mut HelperTemplate) {
        if let Some(inner) = ht.template.as_mut() {
            let id = self.alloc();
            self.template(inner, id);
        }
        if let Some(inv) = ht.inverse.as_mut() {
            if inv.elements.len() == 1 {
                if let Some(TemplateElement::HelperBlock(chained)) = inv.elements.first_mut() {
                    if self.kind(chained) == BlockKind::Conditional {
                        self.branches(chained);
                        return;
                    }
                }
            }
            let id = self.alloc();
            self.template(inv, id);
        }
    }
}
