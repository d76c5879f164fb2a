//! The typed model of what the user wrote: a [`Controller`] with its [`Action`]s and
//! [`Hook`]s, and a [`LiveStateInput`] with its [`PersistField`]s. Every node keeps a
//! reference to the syntax it came from, for spans.
//!
//! Building the model checks each method's shape (receiver, parameters, return type)
//! through [`crate::validate`]; checks across methods run on the finished model.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::{Attribute, FnArg, ImplItem, ImplItemFn, ItemImpl, Type};

use crate::attr::{self, Marker, MarkerKind, Recognized};
use crate::ctxt::Ctxt;
use crate::names;
use crate::validate;

/// An impl block with our marker attributes taken off its methods.
pub(crate) struct Stripped {
    /// The impl as the user wrote it, minus our attributes.
    pub(crate) item: ItemImpl,
    /// For each item of `item.items` (same index), the markers it carried.
    pub(crate) markers: Vec<Vec<(MarkerKind, Attribute)>>,
    /// Whether a look-alike (`#[lt::action]`) was removed (already reported).
    pub(crate) had_look_alike: bool,
}

/// Remove every marker attribute (and look-alike) from `item`, reporting misplaced ones.
pub(crate) fn strip(cx: &Ctxt, mut item: ItemImpl, crate_path: Option<&syn::Path>) -> Stripped {
    let mut markers = Vec::with_capacity(item.items.len());
    let mut had_look_alike = false;
    for impl_item in &mut item.items {
        let is_fn = matches!(impl_item, ImplItem::Fn(_));
        let mut found = Vec::new();
        if let Some(attrs) = impl_item_attrs(impl_item) {
            attrs.retain(|attr| match attr::recognize(attr, crate_path) {
                Recognized::Foreign => true,
                Recognized::Marker(kind) => {
                    if is_fn {
                        found.push((kind, attr.clone()));
                    } else {
                        cx.error_spanned_by(
                            attr,
                            format!(
                                "`#[{}]` goes on a method of the `#[controller]` impl",
                                kind.name()
                            ),
                        );
                    }
                    false
                }
                Recognized::LookAlike(kind) => {
                    had_look_alike = true;
                    let path = attr.path();
                    let prefix: Vec<String> = path
                        .segments
                        .iter()
                        .take(path.segments.len() - 1)
                        .map(|s| s.ident.to_string())
                        .collect();
                    let prefix = prefix.join("::");
                    cx.error_spanned_by(
                        path,
                        format!(
                            "`#[{prefix}::{name}]` is not recognized by `#[controller]`; write \
                             `#[{name}]` or `#[livetemplate::{name}]`, or pass `crate = {prefix}` \
                             to `#[controller]` if `{prefix}` is a re-export of livetemplate",
                            name = kind.name()
                        ),
                    );
                    false
                }
            });
        }
        if !found.is_empty() {
            // `&self` is required by the dispatcher even when the method does not use it.
            if let ImplItem::Fn(method) = impl_item {
                method
                    .attrs
                    .push(syn::parse_quote!(#[allow(clippy::unused_self)]));
            }
        }
        markers.push(found);
    }
    Stripped {
        item,
        markers,
        had_look_alike,
    }
}

fn impl_item_attrs(item: &mut ImplItem) -> Option<&mut Vec<Attribute>> {
    match item {
        ImplItem::Const(c) => Some(&mut c.attrs),
        ImplItem::Fn(f) => Some(&mut f.attrs),
        ImplItem::Type(t) => Some(&mut t.attrs),
        ImplItem::Macro(m) => Some(&mut m.attrs),
        _ => None,
    }
}

/// A `#[controller(state = S)]` impl.
pub(crate) struct Controller<'a> {
    pub(crate) original: &'a ItemImpl,
    pub(crate) state: Option<&'a Type>,
    pub(crate) actions: Vec<Action<'a>>,
    pub(crate) hooks: Vec<Hook<'a>>,
}

/// A method with a marker.
pub(crate) struct Method<'a> {
    pub(crate) original: &'a ImplItemFn,
    /// The marker attribute (for spans of "duplicate" errors).
    pub(crate) marker: &'a Attribute,
    pub(crate) params: Vec<Param<'a>>,
    /// The declared return type; `None` for `()`.
    pub(crate) output: Option<&'a Type>,
}

impl Method<'_> {
    pub(crate) fn ident(&self) -> &syn::Ident {
        &self.original.sig.ident
    }

    pub(crate) fn is_async(&self) -> bool {
        self.original.sig.asyncness.is_some()
    }
}

/// What the dispatcher passes for one parameter.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ParamKind {
    /// `&mut S` (`mutable`) or `&S`.
    State { mutable: bool },
    /// `&mut Context` or `&Context`.
    Context { mutable: bool },
    /// `&Disconnect` (disconnect hook only).
    Disconnect,
    /// Anything else: `<T as FromContext>::from_context(&ctx)`.
    Extract,
}

/// One parameter after `&self`.
pub(crate) struct Param<'a> {
    pub(crate) kind: ParamKind,
    /// The declared type (`&mut TodoState`, `Form<SaveForm>`, …).
    pub(crate) ty: &'a Type,
}

/// Who may call an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Client,
    Internal,
}

/// A string an action is reachable by, with the token that introduced it.
pub(crate) struct Name {
    pub(crate) value: String,
    pub(crate) span: Span,
    /// Written in `name = "…"`/`alias = "…"` (as opposed to derived from the method).
    pub(crate) explicit: bool,
}

/// An `#[action]` method.
pub(crate) struct Action<'a> {
    pub(crate) method: Method<'a>,
    /// The primary name (`ActionSpec::name`).
    pub(crate) primary: String,
    /// Every name, primary first, without duplicates.
    pub(crate) names: Vec<Name>,
    pub(crate) kind: Kind,
}

/// A lifecycle hook method.
pub(crate) struct Hook<'a> {
    pub(crate) kind: MarkerKind,
    pub(crate) method: Method<'a>,
}

impl<'a> Controller<'a> {
    /// Build the model from a stripped impl; method-level problems go to `cx`, and the
    /// methods with problems are left out of the model.
    pub(crate) fn from_stripped(
        cx: &Ctxt,
        stripped: &'a Stripped,
        state: Option<&'a Type>,
    ) -> Controller<'a> {
        let mut controller = Controller {
            original: &stripped.item,
            state,
            actions: Vec::new(),
            hooks: Vec::new(),
        };
        for (impl_item, markers) in stripped.item.items.iter().zip(&stripped.markers) {
            let ImplItem::Fn(method) = impl_item else {
                continue;
            };
            let Some((first, rest)) = markers.split_first() else {
                continue;
            };
            for (kind, attr) in rest {
                let message = if *kind == first.0 {
                    format!(
                        "`#[{}]` is specified more than once on `{}`",
                        kind.name(),
                        method.sig.ident
                    )
                } else {
                    format!(
                        "a method carries only one of `#[action]`, `#[mount]`, `#[on_connect]` and \
                         `#[on_disconnect]`; `{}` already has `#[{}]`",
                        method.sig.ident,
                        first.0.name()
                    )
                };
                cx.error_at(attr::attr_span(attr), message);
            }
            let marker = Marker {
                kind: first.0,
                attr: &first.1,
            };
            let Some(built) = build_method(cx, method, &marker, state) else {
                continue;
            };
            match marker.kind {
                MarkerKind::Action => {
                    let args = attr::action_marker_args(cx, &marker);
                    controller.actions.push(build_action(cx, built, args));
                }
                kind => {
                    attr::hook_args(cx, &marker);
                    controller.hooks.push(Hook {
                        kind,
                        method: built,
                    });
                }
            }
        }
        controller
    }

    /// The hook of `kind`, if any.
    pub(crate) fn hook(&self, kind: MarkerKind) -> Option<&Hook<'a>> {
        self.hooks.iter().find(|h| h.kind == kind)
    }
}

fn build_action<'a>(cx: &Ctxt, method: Method<'a>, args: attr::ActionArgs) -> Action<'a> {
    let ident = method.ident().unraw();
    let ident_span = method.ident().span();
    let mut names: Vec<Name> = Vec::new();
    let push = |names: &mut Vec<Name>, value: String, span: Span, explicit: bool| {
        if !names.iter().any(|n| n.value == value) {
            names.push(Name {
                value,
                span,
                explicit,
            });
        }
    };
    let primary = match &args.name {
        Some(lit) => {
            if lit.value().is_empty() {
                cx.error_spanned_by(
                    lit,
                    "an action name cannot be empty; write `name = \"my-action\"`",
                );
            }
            lit.value()
        }
        None => ident.to_string(),
    };
    let primary_span = args.name.as_ref().map_or(ident_span, |l| l.span());
    push(
        &mut names,
        primary.clone(),
        primary_span,
        args.name.is_some(),
    );
    for derived in names::method_aliases(&ident.to_string()) {
        push(&mut names, derived, ident_span, false);
    }
    for alias in &args.aliases {
        if alias.value().is_empty() {
            cx.error_spanned_by(alias, "an action alias cannot be empty");
            continue;
        }
        push(&mut names, alias.value(), alias.span(), true);
    }
    let kind = if args.internal.is_some() {
        Kind::Internal
    } else {
        Kind::Client
    };
    Action {
        method,
        primary,
        names,
        kind,
    }
}

/// Check the method's signature and classify its parameters. `None` when the
/// signature is unusable (errors reported).
fn build_method<'a>(
    cx: &Ctxt,
    method: &'a ImplItemFn,
    marker: &Marker<'a>,
    state: Option<&Type>,
) -> Option<Method<'a>> {
    let mut ok = validate::signature(cx, method, marker.kind);
    let mut inputs = method.sig.inputs.iter();
    if !validate::receiver(cx, method, inputs.clone().next(), marker.kind) {
        ok = false;
    } else {
        inputs.next();
    }
    let mut params = Vec::new();
    for input in inputs {
        let FnArg::Typed(pat_type) = input else {
            continue;
        };
        match validate::param(cx, &pat_type.ty, state, marker.kind, &params) {
            Some(kind) => params.push(Param {
                kind,
                ty: &pat_type.ty,
            }),
            None => ok = false,
        }
    }
    let output = match &method.sig.output {
        syn::ReturnType::Default => None,
        syn::ReturnType::Type(_, ty) => Some(&**ty),
    };
    if marker.kind == MarkerKind::OnDisconnect && !validate::disconnect_output(cx, output) {
        ok = false;
    }
    ok.then_some(Method {
        original: method,
        marker: marker.attr,
        params,
        output,
    })
}

/// `(T)` and invisible groups around a type.
pub(crate) fn peel(ty: &Type) -> &Type {
    match ty {
        Type::Paren(p) => peel(&p.elem),
        Type::Group(g) => peel(&g.elem),
        _ => ty,
    }
}

/// Whether `ty` names the state type: same tokens, or both paths with the same last
/// segment (`crate::TodoState` and `TodoState`). A false positive is caught by the
/// compiler as a type mismatch on the user's parameter.
pub(crate) fn is_state(ty: &Type, state: &Type) -> bool {
    let (ty, state) = (peel(ty), peel(state));
    if tokens(ty) == tokens(state) {
        return true;
    }
    match (ty, state) {
        (Type::Path(a), Type::Path(b)) if a.qself.is_none() && b.qself.is_none() => {
            match (a.path.segments.last(), b.path.segments.last()) {
                (Some(x), Some(y)) => tokens(x) == tokens(y),
                _ => false,
            }
        }
        _ => false,
    }
}

/// Whether `ty` is a plain path ending in `name` (`Context`, `livetemplate::Context`).
pub(crate) fn is_named(ty: &Type, name: &str) -> bool {
    match peel(ty) {
        Type::Path(p) if p.qself.is_none() => p
            .path
            .segments
            .last()
            .is_some_and(|s| s.ident == name && s.arguments.is_none()),
        _ => false,
    }
}

fn tokens<T: quote::ToTokens>(node: &T) -> String {
    node.to_token_stream().to_string()
}

/// A type as users write it, for messages (`Vec<u8>`, not `Vec < u8 >`).
pub(crate) fn display_type<T: quote::ToTokens>(node: &T) -> String {
    let raw = tokens(node);
    let mut out = String::with_capacity(raw.len());
    let chars: Vec<char> = raw.chars().collect();
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let prev = if i > 0 { chars[i - 1] } else { ' ' };
            let next = chars.get(i + 1).copied().unwrap_or(' ');
            let glue_prev = matches!(prev, '<' | '&' | ':' | '(' | '[');
            let glue_next = matches!(next, '<' | '>' | ':' | ',' | ')' | ']');
            let mut_ref = prev == 't' && raw[..i].ends_with("&mut");
            if (glue_prev || glue_next) && !mut_ref {
                continue;
            }
        }
        out.push(c);
    }
    out
}

/// A `#[derive(LiveState)]` input.
pub(crate) struct LiveStateInput<'a> {
    pub(crate) original: &'a syn::DeriveInput,
    pub(crate) persisted: Vec<PersistField<'a>>,
}

/// A `#[persist]` field.
pub(crate) struct PersistField<'a> {
    pub(crate) original: &'a syn::Field,
    pub(crate) ident: &'a syn::Ident,
    /// The key in the stored JSON object: the field name (raw identifiers unprefixed).
    pub(crate) key: String,
}

impl<'a> LiveStateInput<'a> {
    /// Build the model, reporting misplaced or malformed `#[persist]` attributes.
    pub(crate) fn from_derive(cx: &Ctxt, input: &'a syn::DeriveInput) -> LiveStateInput<'a> {
        for attr in input.attrs.iter().filter(|a| attr::is_persist(a)) {
            cx.error_spanned_by(
                attr,
                "`#[persist]` goes on a field of the state struct, not on the type",
            );
        }
        let mut persisted = Vec::new();
        match &input.data {
            syn::Data::Struct(data) => {
                for field in &data.fields {
                    let mut persist_attrs = field.attrs.iter().filter(|a| attr::is_persist(a));
                    let Some(first) = persist_attrs.next() else {
                        continue;
                    };
                    attr::persist_args(cx, first);
                    for again in persist_attrs {
                        cx.error_spanned_by(
                            again,
                            "`#[persist]` is specified more than once on this field",
                        );
                    }
                    match &field.ident {
                        Some(ident) => persisted.push(PersistField {
                            original: field,
                            ident,
                            key: ident.unraw().to_string(),
                        }),
                        None => cx.error_spanned_by(
                            first,
                            "`#[persist]` needs a named field: the field name is its key in the \
                             session store; use a struct with named fields",
                        ),
                    }
                }
            }
            syn::Data::Enum(data) => {
                for variant in &data.variants {
                    let on_variant = variant.attrs.iter().filter(|a| attr::is_persist(a));
                    let on_fields = variant
                        .fields
                        .iter()
                        .flat_map(|f| f.attrs.iter().filter(|a| attr::is_persist(a)));
                    for attr in on_variant.chain(on_fields) {
                        cx.error_spanned_by(
                            attr,
                            "`#[persist]` works only on the named fields of a struct; an enum \
                             state cannot persist fields: wrap it in a struct field and mark that \
                             field `#[persist]`",
                        );
                    }
                }
            }
            syn::Data::Union(data) => {
                cx.error_spanned_by(
                    data.union_token,
                    "`LiveState` cannot be derived for a union; use a struct",
                );
            }
        }
        LiveStateInput {
            original: input,
            persisted,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_type_is_readable() {
        let ty: Type = syn::parse_quote!(&mut Vec<Option<u8>>);
        assert_eq!(display_type(&ty), "&mut Vec<Option<u8>>");
        let ty: Type = syn::parse_quote!(&crate::a::B);
        assert_eq!(display_type(&ty), "&crate::a::B");
        let ty: Type = syn::parse_quote!(HashMap<String, u8>);
        assert_eq!(display_type(&ty), "HashMap<String, u8>");
    }

    #[test]
    fn state_matching() {
        let state: Type = syn::parse_quote!(TodoState);
        assert!(is_state(&syn::parse_quote!(crate::TodoState), &state));
        assert!(is_state(&syn::parse_quote!((TodoState)), &state));
        assert!(!is_state(&syn::parse_quote!(OtherState), &state));
        let generic: Type = syn::parse_quote!(S<u8>);
        assert!(is_state(&syn::parse_quote!(S<u8>), &generic));
        assert!(!is_state(&syn::parse_quote!(S<u16>), &generic));
    }

    #[test]
    fn named_types() {
        assert!(is_named(
            &syn::parse_quote!(livetemplate::Context),
            "Context"
        ));
        assert!(!is_named(&syn::parse_quote!(Context<u8>), "Context"));
        assert!(!is_named(&syn::parse_quote!(MyContext), "Context"));
    }
}
