//! The rules: what a method of a `#[controller]` impl may look like, and what a whole
//! controller must satisfy (unique names, at most one hook of each kind, …). Every
//! violation is reported at the offending token with a message that says the fix.

use std::collections::HashMap;

use proc_macro2::Span;
use syn::{FnArg, ImplItemFn, ItemImpl, Type};

use crate::attr::MarkerKind;
use crate::ctxt::Ctxt;
use crate::model::{display_type, is_named, is_state, peel, Controller, Param, ParamKind};
use crate::names::RESERVED;

/// Method-level modifiers we cannot call: type/const generics, `unsafe`, `extern`.
/// Returns whether the signature is usable.
pub(crate) fn signature(cx: &Ctxt, method: &ImplItemFn, kind: MarkerKind) -> bool {
    let sig = &method.sig;
    let attr = kind.name();
    let mut ok = true;
    let non_lifetime = sig
        .generics
        .params
        .iter()
        .find(|p| !matches!(p, syn::GenericParam::Lifetime(_)));
    if let Some(param) = non_lifetime {
        cx.error_spanned_by(
            param,
            format!(
                "`#[{attr}]` methods cannot have type or const parameters: the dispatcher must \
                 know every parameter type; use a concrete type"
            ),
        );
        ok = false;
    }
    if let Some(unsafety) = &sig.unsafety {
        cx.error_spanned_by(
            unsafety,
            format!(
                "`#[{attr}]` methods cannot be `unsafe fn`: the dispatcher cannot uphold their \
                 safety contract; make the method safe and use an `unsafe` block inside"
            ),
        );
        ok = false;
    }
    if let Some(abi) = &sig.abi {
        cx.error_spanned_by(
            abi,
            format!("`#[{attr}]` methods cannot be `extern`; remove the ABI"),
        );
        ok = false;
    }
    if let Some(variadic) = &sig.variadic {
        cx.error_spanned_by(variadic, format!("`#[{attr}]` methods cannot be variadic"));
        ok = false;
    }
    ok
}

/// The first parameter must be `&self`. Returns whether it is.
pub(crate) fn receiver(
    cx: &Ctxt,
    method: &ImplItemFn,
    first: Option<&FnArg>,
    kind: MarkerKind,
) -> bool {
    let attr = kind.name();
    let name = &method.sig.ident;
    let Some(FnArg::Receiver(receiver)) = first else {
        cx.error_spanned_by(
            name,
            format!(
                "`#[{attr}]` methods take `&self` first: `fn {name}(&self, …)`; the dispatcher \
                 calls them on the controller shared by every connection"
            ),
        );
        return false;
    };
    if receiver.colon_token.is_some() {
        let is_ref_self = matches!(
            peel(&receiver.ty),
            Type::Reference(r) if r.mutability.is_none() && is_named(&r.elem, "Self")
        );
        if !is_ref_self {
            cx.error_spanned_by(
                receiver,
                format!(
                    "`#[{attr}]` methods take `&self`; a `self: {}` receiver is not supported",
                    display_type(&receiver.ty)
                ),
            );
            return false;
        }
        return true;
    }
    match (&receiver.reference, &receiver.mutability) {
        (Some(_), None) => true,
        (Some(_), Some(_)) => {
            cx.error_spanned_by(
                receiver,
                format!(
                    "`#[{attr}]` methods take `&self`, not `&mut self`: the controller is shared by \
                     every connection; keep per-connection data in the state, and shared mutable \
                     data behind a `Mutex` or an atomic"
                ),
            );
            false
        }
        (None, _) => {
            cx.error_spanned_by(
                receiver,
                format!(
                    "`#[{attr}]` methods take `&self`, not `self`: the controller is shared by \
                     every connection and cannot be moved into a call"
                ),
            );
            false
        }
    }
}

/// Classify one parameter after `&self`, given the ones before it. `None` (error
/// reported) when the dispatcher cannot supply it.
///
/// Without a known state type (`state =` missing, already reported) every reference
/// that is not the context or `&Disconnect` counts as the state.
pub(crate) fn param(
    cx: &Ctxt,
    ty: &Type,
    state: Option<&Type>,
    kind: MarkerKind,
    before: &[Param],
) -> Option<ParamKind> {
    let attr = kind.name();
    let s = state.map_or_else(|| "YourState".to_string(), display_type);
    let state_ref = |inner: &Type| {
        state.map_or(
            !is_named(inner, "Context") && !is_named(inner, "Disconnect"),
            |st| is_state(inner, st),
        )
    };
    let state_value = |t: &Type| state.is_some_and(|st| is_state(t, st));
    let seen = |pred: fn(ParamKind) -> bool| before.iter().any(|p| pred(p.kind));
    let report = |message: String| {
        cx.error_spanned_by(ty, message);
        None
    };

    if let Type::ImplTrait(_) = peel(ty) {
        return report(format!(
            "the dispatcher cannot supply `{}`: name a concrete type implementing `FromContext`",
            display_type(ty)
        ));
    }

    let Type::Reference(reference) = peel(ty) else {
        // By value.
        if state_value(ty) {
            return report(format!(
                "take the state by reference: `&mut {s}` (or `&{s}` to only read it)"
            ));
        }
        if is_named(ty, "Context") {
            return report(
                "take the context by reference: `&mut Context` (or `&Context` to only read it)"
                    .to_string(),
            );
        }
        if is_named(ty, "Disconnect") {
            return report("take the disconnect details by reference: `&Disconnect`".to_string());
        }
        if kind == MarkerKind::OnDisconnect {
            return report(format!(
                "`#[on_disconnect]` takes `&self`, then optionally `&{s}` and `&Disconnect`; the \
                 dispatcher cannot supply `{}` here",
                display_type(ty)
            ));
        }
        return Some(ParamKind::Extract);
    };

    let mutable = reference.mutability.is_some();
    let inner = &*reference.elem;
    let is_state_param = |k: ParamKind| matches!(k, ParamKind::State { .. });
    let is_context_param = |k: ParamKind| matches!(k, ParamKind::Context { .. });
    let is_disconnect_param = |k: ParamKind| matches!(k, ParamKind::Disconnect);

    if kind == MarkerKind::OnDisconnect {
        if state_ref(inner) {
            if mutable {
                return report(format!(
                    "`#[on_disconnect]` sees the state read-only: take `&{s}`"
                ));
            }
            if seen(is_state_param) {
                return report(format!(
                    "the state is already a parameter; take `&{s}` once"
                ));
            }
            return Some(ParamKind::State { mutable: false });
        }
        if is_named(inner, "Disconnect") {
            if mutable {
                return report("take the disconnect details read-only: `&Disconnect`".to_string());
            }
            if seen(is_disconnect_param) {
                return report("`&Disconnect` is already a parameter; take it once".to_string());
            }
            return Some(ParamKind::Disconnect);
        }
        if is_named(inner, "Context") {
            return report(
                "`#[on_disconnect]` has no `Context` (the connection is gone); take `&Disconnect` \
                 for the connection's identity"
                    .to_string(),
            );
        }
        return report(format!(
            "`#[on_disconnect]` takes `&self`, then optionally `&{s}` and `&Disconnect`; the \
             dispatcher cannot supply `{}` here",
            display_type(ty)
        ));
    }

    if state_ref(inner) {
        if seen(is_state_param) {
            return report(format!(
                "the state is already a parameter of this method; take it once, as `&mut {s}` or `&{s}`"
            ));
        }
        return Some(ParamKind::State { mutable });
    }
    if is_named(inner, "Context") {
        if seen(is_context_param) {
            return report(
                "the context is already a parameter of this method; take it once, as \
                 `&mut Context` or `&Context`"
                    .to_string(),
            );
        }
        return Some(ParamKind::Context { mutable });
    }
    if is_named(inner, "Disconnect") {
        return report(format!(
            "`&Disconnect` is only available to `#[on_disconnect]`; `#[{attr}]` methods see the \
             connection through `&Context`"
        ));
    }
    let (amp, which) = if mutable {
        ("&mut ", "a `&mut`")
    } else {
        ("&", "a `&`")
    };
    report(format!(
        "the dispatcher cannot supply `{}`: {which} parameter must be the state (`{amp}{s}`) or \
         the context (`{amp}Context`); take other inputs by value through a `FromContext` type \
         such as `Form<T>`",
        display_type(ty)
    ))
}

/// `#[on_disconnect]` returns nothing. Returns whether the output is acceptable.
pub(crate) fn disconnect_output(cx: &Ctxt, output: Option<&Type>) -> bool {
    match output {
        None => true,
        Some(Type::Tuple(t)) if t.elems.is_empty() => true,
        Some(ty) => {
            cx.error_spanned_by(
                ty,
                format!(
                    "`#[on_disconnect]` returns nothing (nobody could see its result); remove `-> {}`",
                    display_type(ty)
                ),
            );
            false
        }
    }
}

/// Impl-level rules that do not need the model: an inherent impl without borrowed
/// lifetimes.
pub(crate) fn impl_shape(cx: &Ctxt, item: &ItemImpl) -> bool {
    let mut ok = true;
    if let Some((_, path, _)) = &item.trait_ {
        cx.error_spanned_by(
            path,
            "`#[controller]` goes on an inherent impl (`impl MyController { … }`), not on a trait \
             impl; it implements `Controller` for you",
        );
        ok = false;
    }
    for param in &item.generics.params {
        if let syn::GenericParam::Lifetime(lt) = param {
            cx.error_spanned_by(
                &lt.lifetime,
                format!(
                    "a controller cannot borrow: it lives as long as the server (`'static`); \
                     remove the lifetime parameter `{}`",
                    lt.lifetime
                ),
            );
            ok = false;
        }
    }
    ok
}

/// Rules across methods: hooks at most once each, names unique and not reserved, and
/// at least one action or hook. `any_marker` tells whether the impl had any marker at
/// all (a method whose signature was rejected is not in the model).
pub(crate) fn controller(cx: &Ctxt, controller: &Controller, any_marker: bool) {
    if !any_marker {
        cx.error_at(
            Span::call_site(),
            "this `#[controller]` impl has no `#[action]` methods and no lifecycle hooks; mark \
             the methods the browser may call with `#[action]`",
        );
    }

    for kind in [
        MarkerKind::Mount,
        MarkerKind::OnConnect,
        MarkerKind::OnDisconnect,
    ] {
        let mut hooks = controller.hooks.iter().filter(|h| h.kind == kind);
        let Some(first) = hooks.next() else { continue };
        for again in hooks {
            cx.error_spanned_by(
                again.method.marker,
                format!(
                    "a controller has at most one `#[{}]` hook, and `{}` already is one",
                    kind.name(),
                    first.method.ident()
                ),
            );
        }
    }

    let mut owners: HashMap<&str, usize> = HashMap::new();
    for (index, action) in controller.actions.iter().enumerate() {
        // The method-derived spellings share one span: report one collision for them.
        let mut derived_reported = false;
        for name in &action.names {
            if RESERVED.contains(&name.value.as_str()) {
                let how = if name.explicit {
                    "choose another name"
                } else {
                    "rename the method or set `#[action(name = \"…\")]`"
                };
                cx.error_at(
                    name.span,
                    format!(
                        "`{}` is reserved by the livetemplate protocol and never reaches an \
                         action; {how}",
                        name.value
                    ),
                );
                continue;
            }
            match owners.get(name.value.as_str()) {
                Some(&owner) if owner != index && (name.explicit || !derived_reported) => {
                    derived_reported |= !name.explicit;
                    let other = &controller.actions[owner];
                    let how = if name.explicit {
                        "remove or change this name"
                    } else {
                        "rename one of the methods or give one `#[action(name = \"…\")]`"
                    };
                    cx.error_at(
                        name.span,
                        format!(
                            "the action name `{}` already resolves to `{}` (method `{}`); every \
                             name and alias must resolve to one action: {how}",
                            name.value,
                            other.primary,
                            other.method.ident()
                        ),
                    );
                }
                Some(_) => {}
                None => {
                    owners.insert(&name.value, index);
                }
            }
        }
    }
}
