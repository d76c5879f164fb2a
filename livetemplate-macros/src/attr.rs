//! Our attribute grammar: `#[controller(…)]`, the method markers (`#[action(…)]`,
//! `#[mount]`, `#[on_connect]`, `#[on_disconnect]`), `#[persist]` and
//! `#[livetemplate(crate = …)]`.
//!
//! Parsing reports into the [`Ctxt`] and keeps going, so one compile shows every
//! misspelled key.

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{Attribute, LitStr, Meta, Token};

use crate::ctxt::Ctxt;

/// Keywords of our attribute arguments.
pub(crate) mod kw {
    syn::custom_keyword!(state);
    syn::custom_keyword!(name);
    syn::custom_keyword!(alias);
    syn::custom_keyword!(internal);
}

/// Arguments of `#[controller(state = S, crate = path)]`.
#[derive(Default)]
pub(crate) struct ControllerArgs {
    pub(crate) state: Option<syn::Type>,
    pub(crate) crate_path: Option<syn::Path>,
}

/// Arguments of `#[action(name = "…", alias = "…", internal)]`.
#[derive(Default)]
pub(crate) struct ActionArgs {
    pub(crate) name: Option<LitStr>,
    pub(crate) aliases: Vec<LitStr>,
    pub(crate) internal: Option<kw::internal>,
}

/// Parse a comma-separated argument list, calling `arg` once per argument. `arg`
/// returns `Ok(false)` when it does not know the key; the key is then reported with
/// `unknown` and skipped up to the next comma.
fn parse_list(
    cx: &Ctxt,
    tokens: TokenStream,
    mut arg: impl FnMut(ParseStream) -> syn::Result<bool>,
    unknown: impl Fn(&str) -> String,
) {
    let parser = |input: ParseStream| -> syn::Result<()> {
        while !input.is_empty() {
            if !arg(input)? {
                let key = input.call(syn::Ident::parse_any)?;
                cx.error_spanned_by(&key, unknown(&key.unraw().to_string()));
                while !input.is_empty() && !input.peek(Token![,]) {
                    input.parse::<TokenTree>()?;
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(())
    };
    if let Err(err) = parser.parse2(tokens) {
        cx.syn_error(err);
    }
}

/// `= "string"`, with a message naming the key when the value is not a string.
fn string_value(input: ParseStream, attr: &str, key: &str, example: &str) -> syn::Result<LitStr> {
    input.parse::<Token![=]>()?;
    if input.peek(LitStr) {
        input.parse()
    } else {
        Err(input.error(format!(
            "`{key}` in `#[{attr}]` takes a string: `{key} = \"{example}\"`"
        )))
    }
}

/// Parse `#[controller(…)]`'s arguments.
pub(crate) fn controller_args(cx: &Ctxt, tokens: TokenStream) -> ControllerArgs {
    let mut args = ControllerArgs::default();
    parse_list(
        cx,
        tokens,
        |input| {
            if input.peek(kw::state) {
                let key: kw::state = input.parse()?;
                input.parse::<Token![=]>()?;
                let ty: syn::Type = input.parse()?;
                if args.state.is_some() {
                    cx.error_spanned_by(
                        key,
                        "`state` is specified more than once in `#[controller]`",
                    );
                } else {
                    args.state = Some(ty);
                }
                Ok(true)
            } else if input.peek(Token![crate]) {
                let key: Token![crate] = input.parse()?;
                input.parse::<Token![=]>()?;
                let path = if input.peek(LitStr) {
                    input.parse::<LitStr>()?.parse::<syn::Path>()?
                } else {
                    input.call(syn::Path::parse_mod_style)?
                };
                if args.crate_path.is_some() {
                    cx.error_spanned_by(
                        key,
                        "`crate` is specified more than once in `#[controller]`",
                    );
                } else {
                    args.crate_path = Some(path);
                }
                Ok(true)
            } else {
                Ok(false)
            }
        },
        |key| {
            format!(
                "unknown `#[controller]` argument `{key}`; expected `state = YourState` \
                 or `crate = path::to::livetemplate`"
            )
        },
    );
    args
}

/// Parse `#[action(…)]`'s arguments (the tokens inside the parentheses).
pub(crate) fn action_args(cx: &Ctxt, tokens: TokenStream) -> ActionArgs {
    let mut args = ActionArgs::default();
    parse_list(
        cx,
        tokens,
        |input| {
            if input.peek(kw::name) {
                let key: kw::name = input.parse()?;
                let value = string_value(input, "action", "name", "clear-done")?;
                if args.name.is_some() {
                    cx.error_spanned_by(key, "`name` is specified more than once in `#[action]`");
                } else {
                    args.name = Some(value);
                }
                Ok(true)
            } else if input.peek(kw::alias) {
                input.parse::<kw::alias>()?;
                args.aliases
                    .push(string_value(input, "action", "alias", "remove")?);
                Ok(true)
            } else if input.peek(kw::internal) {
                let key: kw::internal = input.parse()?;
                if args.internal.is_some() {
                    cx.error_spanned_by(
                        key,
                        "`internal` is specified more than once in `#[action]`",
                    );
                } else {
                    args.internal = Some(key);
                }
                Ok(true)
            } else {
                Ok(false)
            }
        },
        |key| {
            format!(
                "unknown `#[action]` argument `{key}`; expected `name = \"…\"`, \
                 `alias = \"…\"` or `internal`"
            )
        },
    );
    args
}

/// The method markers a `#[controller]` consumes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MarkerKind {
    Action,
    Mount,
    OnConnect,
    OnDisconnect,
}

impl MarkerKind {
    pub(crate) const ALL: [MarkerKind; 4] = [
        MarkerKind::Action,
        MarkerKind::Mount,
        MarkerKind::OnConnect,
        MarkerKind::OnDisconnect,
    ];

    /// The attribute's name as written.
    pub(crate) fn name(self) -> &'static str {
        match self {
            MarkerKind::Action => "action",
            MarkerKind::Mount => "mount",
            MarkerKind::OnConnect => "on_connect",
            MarkerKind::OnDisconnect => "on_disconnect",
        }
    }

    fn from_name(name: &str) -> Option<MarkerKind> {
        MarkerKind::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// A marker attribute found on a method.
pub(crate) struct Marker<'a> {
    pub(crate) kind: MarkerKind,
    pub(crate) attr: &'a Attribute,
}

/// What an attribute on a method of a `#[controller]` impl is to us.
pub(crate) enum Recognized {
    /// Not ours.
    Foreign,
    /// One of our markers.
    Marker(MarkerKind),
    /// A path ending in one of our marker names under an unknown prefix
    /// (`#[lt::action]`): probably ours, reached through a name we cannot verify.
    LookAlike(MarkerKind),
}

/// Classify `attr`. Accepted spellings: `#[action]`, `#[livetemplate::action]`,
/// `#[livetemplate::prelude::action]`, and under `crate = a::lt` also `#[lt::action]`
/// and `#[a::lt::action]` (with or without `::prelude`).
pub(crate) fn recognize(attr: &Attribute, crate_path: Option<&syn::Path>) -> Recognized {
    let path = attr.path();
    let Some(last) = path.segments.last() else {
        return Recognized::Foreign;
    };
    let Some(kind) = MarkerKind::from_name(&last.ident.to_string()) else {
        return Recognized::Foreign;
    };
    if !last.arguments.is_none() {
        return Recognized::Foreign;
    }
    let prefix: Vec<String> = path
        .segments
        .iter()
        .take(path.segments.len() - 1)
        .map(|s| s.ident.to_string())
        .collect();
    if prefix.is_empty() {
        return Recognized::Marker(kind);
    }
    // `livetemplate::prelude::action` counts as `livetemplate::action`.
    let prefix = match prefix.split_last() {
        Some((last, rest)) if last == "prelude" && !rest.is_empty() => rest.to_vec(),
        _ => prefix,
    };
    if prefix == ["livetemplate"] {
        return Recognized::Marker(kind);
    }
    // Under `crate = a::b::lt`, accept `lt::action`, `b::lt::action`, … (the path as
    // imported at the use site is usually a suffix of the absolute one).
    if let Some(custom) = crate_path {
        let root: Vec<String> = custom
            .segments
            .iter()
            .map(|s| s.ident.to_string())
            .collect();
        if root.ends_with(&prefix) {
            return Recognized::Marker(kind);
        }
    }
    Recognized::LookAlike(kind)
}

/// Check that a hook marker (`#[mount]`, …) has no arguments.
pub(crate) fn hook_args(cx: &Ctxt, marker: &Marker) {
    let name = marker.kind.name();
    match &marker.attr.meta {
        Meta::Path(_) => {}
        Meta::List(list) => cx.error_spanned_by(
            &list.tokens,
            format!("`#[{name}]` takes no arguments; write `#[{name}]`"),
        ),
        Meta::NameValue(nv) => cx.error_spanned_by(
            &nv.value,
            format!("`#[{name}]` takes no value; write `#[{name}]`"),
        ),
    }
}

/// Parse the arguments of an `#[action]` marker.
pub(crate) fn action_marker_args(cx: &Ctxt, marker: &Marker) -> ActionArgs {
    match &marker.attr.meta {
        Meta::Path(_) => ActionArgs::default(),
        Meta::List(list) => action_args(cx, list.tokens.clone()),
        Meta::NameValue(nv) => {
            cx.error_spanned_by(
                &nv.value,
                "`#[action = …]` is not a valid form; write `#[action(name = \"…\")]`",
            );
            ActionArgs::default()
        }
    }
}

/// Whether `attr` is `#[persist]` (in any form), as a derive helper attribute.
pub(crate) fn is_persist(attr: &Attribute) -> bool {
    attr.path().is_ident("persist")
}

/// Check that a `#[persist]` attribute is bare.
pub(crate) fn persist_args(cx: &Ctxt, attr: &Attribute) {
    match &attr.meta {
        Meta::Path(_) => {}
        Meta::List(list) => cx.error_spanned_by(
            &list.tokens,
            "`#[persist]` takes no arguments; the stored key is the field name",
        ),
        Meta::NameValue(nv) => cx.error_spanned_by(
            &nv.value,
            "`#[persist]` takes no value; the stored key is the field name",
        ),
    }
}

/// Parse the derive's container attributes `#[livetemplate(crate = path)]`.
pub(crate) fn live_state_crate(cx: &Ctxt, attrs: &[Attribute]) -> Option<syn::Path> {
    let mut crate_path: Option<syn::Path> = None;
    for attr in attrs.iter().filter(|a| a.path().is_ident("livetemplate")) {
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("crate") {
                let value = meta.value()?;
                let path = if value.peek(LitStr) {
                    value.parse::<LitStr>()?.parse::<syn::Path>()?
                } else {
                    value.call(syn::Path::parse_mod_style)?
                };
                if crate_path.is_some() {
                    return Err(meta.error("`crate` is specified more than once"));
                }
                crate_path = Some(path);
                Ok(())
            } else {
                let key = meta.path.get_ident().map(|i| i.to_string()).unwrap_or_default();
                Err(meta.error(format!(
                    "unknown `#[livetemplate]` argument `{key}`; expected `crate = path::to::livetemplate`"
                )))
            }
        });
        if let Err(err) = result {
            cx.syn_error(err);
        }
    }
    crate_path
}

/// The span of an attribute's path (`action` in `#[action(…)]`).
pub(crate) fn attr_span(attr: &Attribute) -> Span {
    attr.path().span()
}

#[cfg(test)]
mod tests {
    use super::*;
    use quote::quote;

    fn errors(cx: Ctxt) -> Vec<String> {
        match cx.check() {
            Ok(()) => vec![],
            Err(e) => e.into_iter().map(|e| e.to_string()).collect(),
        }
    }

    #[test]
    fn controller_args_all_keys() {
        let cx = Ctxt::new();
        let args = controller_args(&cx, quote!(state = S, crate = ::x::y));
        assert!(errors(cx).is_empty());
        assert!(args.state.is_some());
        assert_eq!(
            args.crate_path.map(|p| quote!(#p).to_string()),
            Some(quote!(::x::y).to_string())
        );
    }

    #[test]
    fn controller_args_report_every_unknown_key() {
        let cx = Ctxt::new();
        let args = controller_args(&cx, quote!(stat = S, state = T, foo(1, 2)));
        let errs = errors(cx);
        assert_eq!(errs.len(), 2, "{errs:?}");
        assert!(errs[0].contains("unknown `#[controller]` argument `stat`"));
        assert!(errs[1].contains("`foo`"));
        assert!(args.state.is_some());
    }

    #[test]
    fn action_args_keys() {
        let cx = Ctxt::new();
        let args = action_args(&cx, quote!(name = "x", alias = "y", alias = "z", internal));
        assert!(errors(cx).is_empty());
        assert_eq!(args.name.map(|n| n.value()), Some("x".to_string()));
        assert_eq!(args.aliases.len(), 2);
        assert!(args.internal.is_some());
    }

    #[test]
    fn action_args_duplicates_and_non_strings() {
        let cx = Ctxt::new();
        action_args(&cx, quote!(internal, internal, name = "a", name = "b"));
        assert_eq!(errors(cx).len(), 2);
        let cx = Ctxt::new();
        action_args(&cx, quote!(name = x));
        let errs = errors(cx);
        assert!(errs[0].contains("takes a string"), "{errs:?}");
    }

    #[test]
    fn recognizes_markers() {
        let custom: syn::Path = syn::parse_quote!(my::lt);
        let cases: &[(Attribute, &str)] = &[
            (syn::parse_quote!(#[action]), "marker"),
            (syn::parse_quote!(#[livetemplate::mount]), "marker"),
            (
                syn::parse_quote!(#[::livetemplate::prelude::on_connect]),
                "marker",
            ),
            (syn::parse_quote!(#[my::lt::action(name = "x")]), "marker"),
            (syn::parse_quote!(#[lt::prelude::action]), "marker"),
            (syn::parse_quote!(#[my::action]), "lookalike"),
            (syn::parse_quote!(#[other::action]), "lookalike"),
            (syn::parse_quote!(#[doc = "x"]), "foreign"),
            (syn::parse_quote!(#[actions]), "foreign"),
        ];
        for (attr, want) in cases {
            let got = match recognize(attr, Some(&custom)) {
                Recognized::Foreign => "foreign",
                Recognized::Marker(_) => "marker",
                Recognized::LookAlike(_) => "lookalike",
            };
            assert_eq!(got, *want, "{}", quote!(#attr));
        }
    }
}
