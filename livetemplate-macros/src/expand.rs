//! Code generation: from the model to tokens.
//!
//! Every function here returns tokens even on error: the user's item as written (minus
//! our marker attributes), a stub impl where other code depends on ours (so one mistake
//! does not cascade into "not a controller" errors elsewhere), and the
//! `compile_error!`s.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;

use crate::attr::{self, MarkerKind};
use crate::ctxt::Ctxt;
use crate::model::{self, Controller, Kind, LiveStateInput, Method, ParamKind};
use crate::names;
use crate::paths::Paths;
use crate::validate;

/// Lints silenced on everything we generate: the door is `#[deprecated]` to warn
/// humans, not our expansions.
fn allow_attrs() -> TokenStream {
    quote! {
        #[allow(deprecated, non_camel_case_types, non_snake_case, unused_qualifications)]
        #[allow(clippy::all, clippy::pedantic, clippy::nursery)]
    }
}

/// `#[controller(args)] item`.
pub(crate) fn controller(args: TokenStream, item: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let args = attr::controller_args(&cx, args);
    let item_impl = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Impl(item_impl)) => item_impl,
        Ok(other) => {
            cx.error_at(
                item_head_span(&other),
                "`#[controller]` goes on an `impl` block: \
                 `#[controller(state = MyState)] impl MyController { … }`",
            );
            return with_errors(cx, item);
        }
        Err(err) => {
            cx.syn_error(err);
            return with_errors(cx, item);
        }
    };

    let stripped = model::strip(&cx, item_impl, args.crate_path.as_ref());
    let shape_ok = validate::impl_shape(&cx, &stripped.item);
    if args.state.is_none() {
        cx.error_at(
            Span::call_site(),
            "`#[controller]` needs the state type: `#[controller(state = MyState)]`",
        );
    }
    let model = Controller::from_stripped(&cx, &stripped, args.state.as_ref());
    let any_marker = stripped.had_look_alike || stripped.markers.iter().any(|m| !m.is_empty());
    validate::controller(&cx, &model, any_marker);

    let paths = Paths::new(args.crate_path.as_ref());
    let generated = match (cx.has_errors(), &args.state) {
        (false, Some(_)) => controller_impl(&paths, &model),
        (true, Some(state)) if shape_ok => controller_stub(&paths, &stripped.item, state),
        _ => TokenStream::new(),
    };
    // The action constants also come with a stub, so that code naming them does not
    // report more errors than the controller's own.
    let consts = if shape_ok {
        action_consts(&paths, &model)
    } else {
        TokenStream::new()
    };
    let user = &stripped.item;
    let user_and_generated = quote!(#user #consts #generated);
    with_errors(cx, user_and_generated)
}

/// `tokens` followed by the `compile_error!`s collected in `cx`.
fn with_errors(cx: Ctxt, tokens: TokenStream) -> TokenStream {
    match cx.check() {
        Ok(()) => tokens,
        Err(err) => {
            let errors = err.to_compile_error();
            quote!(#tokens #errors)
        }
    }
}

/// Where to point "this is not an impl block": the item's leading keyword.
fn item_head_span(item: &syn::Item) -> Span {
    match item {
        syn::Item::Struct(s) => s.struct_token.span,
        syn::Item::Enum(e) => e.enum_token.span,
        syn::Item::Fn(f) => f.sig.fn_token.span,
        syn::Item::Trait(t) => t.trait_token.span,
        syn::Item::Mod(m) => m.mod_token.span,
        other => other.span(),
    }
}

/// `impl C { pub const REFRESH_COUNTER: Action = …; … }`: one typed name per action,
/// spanned at the action's name. Names that collide (reported by validation) are left
/// out.
fn action_consts(p: &Paths, model: &Controller) -> TokenStream {
    let item = model.original;
    let self_ty = &item.self_ty;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let action = p.action();
    let taken: Vec<String> = item
        .items
        .iter()
        .filter_map(|i| match i {
            syn::ImplItem::Const(c) => Some(c.ident.to_string()),
            _ => None,
        })
        .collect();
    let mut seen: Vec<String> = Vec::new();
    let mut consts = Vec::new();
    for a in &model.actions {
        let name = names::const_name(&a.primary);
        if taken.contains(&name) || seen.contains(&name) {
            continue;
        }
        let span = a.names.first().map_or_else(Span::call_site, |n| n.span);
        let ident = syn::Ident::new(&name, span);
        let primary = &a.primary;
        let who = match a.kind {
            Kind::Client => "also callable from the browser",
            Kind::Internal => "internal: never callable from the browser",
        };
        let doc = format!(
            "The action `{primary}` as a typed name for `ctx.publish`, `Session::trigger` \
             and `Publisher::publish` ({who})."
        );
        consts.push(quote_spanned! {span=>
            #[doc = #doc]
            pub const #ident: #action = #action::unchecked(#primary);
        });
        seen.push(name);
    }
    if consts.is_empty() {
        return TokenStream::new();
    }
    let allow = allow_attrs();
    quote! {
        #allow
        #[allow(dead_code)]
        impl #impl_generics #self_ty #where_clause {
            #(#consts)*
        }
    }
}

/// The `Controller` impl of a valid model.
fn controller_impl(p: &Paths, model: &Controller) -> TokenStream {
    let Some(state) = model.state else {
        return TokenStream::new();
    };
    let item = model.original;
    let self_ty = &item.self_ty;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let (controller, action_spec, action_kind, box_future, context, error) = (
        p.controller(),
        p.action_spec(),
        p.action_kind(),
        p.box_future(),
        p.context(),
        p.error(),
    );

    let specs = model.actions.iter().map(|action| {
        let name = &action.primary;
        let aliases = action.names.iter().map(|n| &n.value);
        let kind = match action.kind {
            Kind::Client => quote!(Client),
            Kind::Internal => quote!(Internal),
        };
        quote! {
            #action_spec { name: #name, aliases: &[#(#aliases),*], kind: #action_kind::#kind }
        }
    });
    let has_change = model
        .actions
        .iter()
        .any(|a| a.kind == Kind::Client && a.names.iter().any(|n| n.value == "change"));

    // A plain `fn` action runs in `dispatch_now`; `dispatch` wraps that call in a future.
    let arms = model.actions.iter().enumerate().map(|(index, action)| {
        if action.method.is_async() {
            let future = boxed_call(p, &action.method);
            quote!(#index => #future,)
        } else {
            quote! {
                #index => ::std::boxed::Box::pin(async move {
                    <Self as #controller>::dispatch_now(self, #index, __lt_state, __lt_ctx)
                        .unwrap_or_else(|| ::core::result::Result::Err(#error::msg("action did not run")))
                }),
            }
        }
    });
    let now_arms: Vec<TokenStream> = model
        .actions
        .iter()
        .enumerate()
        .filter(|(_, action)| !action.method.is_async())
        .map(|(index, action)| {
            let body = call_body(p, &action.method);
            quote!(#index => ::core::option::Option::Some((|| { #body })()),)
        })
        .collect();
    let dispatch_now = (!now_arms.is_empty()).then(|| {
        quote! {
            fn dispatch_now(
                &self,
                __lt_index: usize,
                __lt_state: &mut Self::State,
                __lt_ctx: &mut #context,
            ) -> ::core::option::Option<::core::result::Result<(), #error>> {
                match __lt_index {
                    #(#now_arms)*
                    _ => ::core::option::Option::None,
                }
            }
        }
    });
    let fallback = quote! {
        ::std::boxed::Box::pin(::core::future::ready(::core::result::Result::Err(
            #error::msg(::std::format!("no action at index {}", __lt_index)),
        )))
    };
    let dispatch_body = if model.actions.is_empty() {
        fallback
    } else {
        quote!(match __lt_index { #(#arms)* _ => #fallback, })
    };

    // `mount` and `on_connect` share one signature; only the trait method name differs.
    let state_hook = |kind: MarkerKind, name: &str| {
        model.hook(kind).map(|hook| {
            let future = boxed_call(p, &hook.method);
            let name = quote::format_ident!("{}", name);
            quote! {
                fn #name<'__lt_a>(
                    &'__lt_a self,
                    __lt_state: &'__lt_a mut Self::State,
                    __lt_ctx: &'__lt_a mut #context,
                ) -> #box_future<'__lt_a, ::core::result::Result<(), #error>> {
                    #future
                }
            }
        })
    };
    let mount = state_hook(MarkerKind::Mount, "mount");
    let on_connect = state_hook(MarkerKind::OnConnect, "on_connect");
    let on_disconnect = model.hook(MarkerKind::OnDisconnect).map(|hook| {
        let disconnect = p.disconnect();
        let method = &hook.method;
        let ident = method.ident();
        let args = method.params.iter().map(|param| {
            let span = param.ty.span();
            match param.kind {
                ParamKind::Disconnect => quote_spanned!(span=> __lt_info),
                _ => quote_spanned!(span=> __lt_state),
            }
        });
        let call = quote_spanned!(ident.span()=> Self::#ident(self, #(#args),*));
        let call = if method.is_async() {
            quote!(#call.await)
        } else {
            call
        };
        let boxed = quote_spanned!(ident.span()=> ::std::boxed::Box::pin(async move { #call; }));
        quote! {
            fn on_disconnect<'__lt_a>(
                &'__lt_a self,
                __lt_state: &'__lt_a Self::State,
                __lt_info: &'__lt_a #disconnect,
            ) -> #box_future<'__lt_a, ()> {
                #boxed
            }
        }
    });

    let state_assoc = quote_spanned!(state.span()=> type State = #state;);
    let allow = allow_attrs();
    quote! {
        #allow
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #controller for #self_ty #where_clause {
                #state_assoc
                const ACTIONS: &'static [#action_spec] = &[#(#specs),*];
                const HAS_CHANGE: bool = #has_change;

                fn dispatch<'__lt_a>(
                    &'__lt_a self,
                    __lt_index: usize,
                    __lt_state: &'__lt_a mut Self::State,
                    __lt_ctx: &'__lt_a mut #context,
                ) -> #box_future<'__lt_a, ::core::result::Result<(), #error>> {
                    #dispatch_body
                }
                #dispatch_now
                #mount
                #on_connect
                #on_disconnect
            }
        };
    }
}

/// `Box::pin(async move { extract…; call; convert })` for an action, `#[mount]` or
/// `#[on_connect]` method, in a scope with `self`, `__lt_state` and `__lt_ctx`. The
/// boxing (where "future is not `Send`" is reported) is spanned at the method name.
fn boxed_call(p: &Paths, method: &Method) -> TokenStream {
    let body = call_body(p, method);
    let ident = method.ident();
    quote_spanned! {ident.span()=>
        ::std::boxed::Box::pin(async move { #body })
    }
}

/// `extract…; call; convert` for a method, in a scope with `self`, `__lt_state` and
/// `__lt_ctx`, evaluating to `Result<(), Error>` (an extraction error returns early).
///
/// Spans: extraction at each parameter's type (so "cannot be an action parameter" lands
/// on it), the conversion at the return type, the call at the method name.
fn call_body(p: &Paths, method: &Method) -> TokenStream {
    let from_context = p.extract();
    let mut extracts = Vec::new();
    let mut args = Vec::new();
    for (index, param) in method.params.iter().enumerate() {
        let span = param.ty.span();
        let ty = &param.ty;
        match param.kind {
            ParamKind::State { mutable: true } => {
                args.push(quote_spanned!(span=> &mut *__lt_state))
            }
            ParamKind::State { mutable: false } => args.push(quote_spanned!(span=> &*__lt_state)),
            ParamKind::Context { mutable: true } => {
                args.push(quote_spanned!(span=> &mut *__lt_ctx))
            }
            ParamKind::Context { mutable: false } => args.push(quote_spanned!(span=> &*__lt_ctx)),
            ParamKind::Extract | ParamKind::Disconnect => {
                let var = format_ident!("__lt_arg{}", index);
                let from_context = respan(from_context.clone(), span);
                extracts.push(quote_spanned! {span=>
                    let #var = match <#ty as #from_context>::from_context(&*__lt_ctx) {
                        ::core::result::Result::Ok(value) => value,
                        ::core::result::Result::Err(error) => return ::core::result::Result::Err(error),
                    };
                });
                args.push(quote!(#var));
            }
        }
    }
    let ident = method.ident();
    let call = quote_spanned!(ident.span()=> Self::#ident(self, #(#args),*));
    let call = if method.is_async() {
        quote!(#call.await)
    } else {
        call
    };
    let output_span = method.output.map_or(ident.span(), |ty| ty.span());
    let into_result = respan(p.action_result(), output_span);
    let convert = quote_spanned!(output_span=> #into_result::into_action_result(__lt_out));
    quote_spanned! {ident.span()=>
        #(#extracts)*
        let __lt_out = #call;
        #convert
    }
}

/// `tokens` with every span set to `span`: interpolated paths keep their own
/// (call-site) spans inside `quote_spanned!`, which would move an error about the call
/// off the user's code.
fn respan(tokens: TokenStream, span: Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut tree| {
            if let proc_macro2::TokenTree::Group(group) = &tree {
                let mut inner =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                inner.set_span(span);
                tree = proc_macro2::TokenTree::Group(inner);
            } else {
                tree.set_span(span);
            }
            tree
        })
        .collect()
}

/// A `Controller` impl with an empty table, emitted when the controller has errors, so
/// code using the controller elsewhere does not report more errors.
fn controller_stub(p: &Paths, item: &syn::ItemImpl, state: &syn::Type) -> TokenStream {
    let self_ty = &item.self_ty;
    let (impl_generics, _, where_clause) = item.generics.split_for_impl();
    let (controller, action_spec, box_future, context, error) = (
        p.controller(),
        p.action_spec(),
        p.box_future(),
        p.context(),
        p.error(),
    );
    let allow = allow_attrs();
    quote! {
        #allow
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #controller for #self_ty #where_clause {
                type State = #state;
                const ACTIONS: &'static [#action_spec] = &[];
                fn dispatch<'__lt_a>(
                    &'__lt_a self,
                    _: usize,
                    _: &'__lt_a mut Self::State,
                    _: &'__lt_a mut #context,
                ) -> #box_future<'__lt_a, ::core::result::Result<(), #error>> {
                    ::core::unreachable!("this controller did not compile")
                }
            }
        };
    }
}

/// `#[derive(LiveState)]`.
pub(crate) fn live_state(input: TokenStream) -> TokenStream {
    let cx = Ctxt::new();
    let derive = match syn::parse2::<syn::DeriveInput>(input) {
        Ok(derive) => derive,
        Err(err) => {
            cx.syn_error(err);
            return with_errors(cx, TokenStream::new());
        }
    };
    let crate_path = attr::live_state_crate(&cx, &derive.attrs);
    let paths = Paths::new(crate_path.as_ref());
    let model = LiveStateInput::from_derive(&cx, &derive);
    let generated = if !cx.has_errors() {
        live_state_impl(&paths, &model)
    } else if matches!(derive.data, syn::Data::Union(_)) {
        TokenStream::new()
    } else {
        live_state_stub(&paths, &derive)
    };
    with_errors(cx, generated)
}

/// The input's generics with every type parameter bounded like a live state
/// (`T: Clone + Serialize + DeserializeOwned + Send + Sync + 'static`), as serde's
/// derives bound theirs.
fn bounded_generics(p: &Paths, generics: &syn::Generics) -> syn::Generics {
    let mut generics = generics.clone();
    let type_params: Vec<syn::Ident> = generics.type_params().map(|t| t.ident.clone()).collect();
    if type_params.is_empty() {
        return generics;
    }
    let serde = p.serde();
    let where_clause = generics.make_where_clause();
    for ident in type_params {
        where_clause.predicates.push(syn::parse_quote! {
            #ident: ::core::clone::Clone
                + #serde::Serialize
                + #serde::de::DeserializeOwned
                + ::core::marker::Send
                + ::core::marker::Sync
                + 'static
        });
    }
    generics
}

fn live_state_impl(p: &Paths, model: &LiveStateInput) -> TokenStream {
    let input = model.original;
    let ident = &input.ident;
    let generics = bounded_generics(p, &input.generics);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let (live_state, serde_json, persist) = (p.live_state(), p.serde_json(), p.persist());
    let keys: Vec<&String> = model.persisted.iter().map(|f| &f.key).collect();

    let (save_body, restore_body) = if model.persisted.is_empty() {
        (
            quote!(::core::result::Result::Ok(::core::option::Option::None)),
            quote! {
                let _ = __lt_bytes;
                ::core::result::Result::Ok(())
            },
        )
    } else {
        let saves = model.persisted.iter().map(|field| {
            let (ty, name, key) = (&field.original.ty, field.ident, &field.key);
            quote_spanned! {ty.span()=>
                #persist::save::<#ty>(&mut __lt_object, #key, &self.#name)?;
            }
        });
        let locals: Vec<_> = (0..model.persisted.len())
            .map(|i| format_ident!("__lt_field{}", i))
            .collect();
        let takes = model.persisted.iter().zip(&locals).map(|(field, local)| {
            let (ty, key) = (&field.original.ty, &field.key);
            quote_spanned! {ty.span()=>
                let #local = #persist::take::<#ty>(&mut __lt_object, #key)?;
            }
        });
        let assigns = model.persisted.iter().zip(&locals).map(|(field, local)| {
            let name = field.ident;
            quote! {
                if let ::core::option::Option::Some(value) = #local {
                    self.#name = value;
                }
            }
        });
        (
            quote! {
                let mut __lt_object = #persist::Object::new();
                #(#saves)*
                #persist::finish(&__lt_object)
            },
            quote! {
                let mut __lt_object = #persist::parse(__lt_bytes)?;
                #(#takes)*
                #(#assigns)*
                ::core::result::Result::Ok(())
            },
        )
    };

    let allow = allow_attrs();
    quote! {
        #allow
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #live_state for #ident #ty_generics #where_clause {
                const PERSISTED: &'static [&'static str] = &[#(#keys),*];

                fn save_persisted(
                    &self,
                ) -> ::core::result::Result<::core::option::Option<::std::vec::Vec<u8>>, #serde_json::Error> {
                    #save_body
                }

                fn restore_persisted(
                    &mut self,
                    __lt_bytes: &[u8],
                ) -> ::core::result::Result<(), #serde_json::Error> {
                    #restore_body
                }
            }
        };
    }
}

fn live_state_stub(p: &Paths, input: &syn::DeriveInput) -> TokenStream {
    let ident = &input.ident;
    let generics = bounded_generics(p, &input.generics);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let (live_state, serde_json) = (p.live_state(), p.serde_json());
    let allow = allow_attrs();
    quote! {
        #allow
        const _: () = {
            #[automatically_derived]
            impl #impl_generics #live_state for #ident #ty_generics #where_clause {
                const PERSISTED: &'static [&'static str] = &[];
                fn save_persisted(
                    &self,
                ) -> ::core::result::Result<::core::option::Option<::std::vec::Vec<u8>>, #serde_json::Error> {
                    ::core::unreachable!("this state did not compile")
                }
                fn restore_persisted(
                    &mut self,
                    _: &[u8],
                ) -> ::core::result::Result<(), #serde_json::Error> {
                    ::core::unreachable!("this state did not compile")
                }
            }
        };
    }
}

/// A marker attribute (`#[action]`, …) that expanded by itself: it was not inside a
/// `#[controller]` impl (which would have consumed it). Emit the item unchanged plus an
/// error at its name.
pub(crate) fn stray(kind: MarkerKind, item: TokenStream) -> TokenStream {
    let name = kind.name();
    let span = match syn::parse2::<syn::ImplItemFn>(item.clone()) {
        Ok(method) => method.sig.ident.span(),
        Err(_) => match syn::parse2::<syn::Item>(item.clone()) {
            Ok(syn::Item::Fn(f)) => f.sig.ident.span(),
            Ok(other) => item_head_span(&other),
            Err(_) => Span::call_site(),
        },
    };
    let message = format!(
        "`#[{name}]` only works on a method of an `impl` block marked \
         `#[controller(state = …)]`; add `#[controller(state = YourState)]` to the impl block"
    );
    let error = syn::Error::new(span, message).to_compile_error();
    quote!(#item #error)
}

#[cfg(test)]
mod tests;
