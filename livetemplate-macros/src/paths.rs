//! The one table of paths generated code may name.
//!
//! Everything goes through `<crate>::__private` (by default `::livetemplate::__private`),
//! the facade's single hidden door; `crate = path` moves the door for re-exporters. Std
//! items are named by absolute `::core`/`::std` paths.

use proc_macro2::TokenStream;
use quote::quote;

/// Where generated code finds the runtime.
pub(crate) struct Paths {
    private: TokenStream,
}

macro_rules! exported {
    ($($(#[$doc:meta])* $method:ident => $name:ident,)*) => {
        impl Paths {
            $(
                $(#[$doc])*
                pub(crate) fn $method(&self) -> TokenStream {
                    let private = &self.private;
                    quote!(#private::$name)
                }
            )*
        }
    };
}

exported! {
    /// The `Controller` trait.
    controller => Controller,
    /// The `LiveState` trait.
    live_state => LiveState,
    /// One dispatch-table entry.
    action_spec => ActionSpec,
    /// `Client` / `Internal`.
    action_kind => ActionKind,
    /// The boxed `Send` future returned by dispatch and hooks.
    box_future => BoxFuture,
    /// What actions see.
    context => Context,
    /// What the disconnect hook sees.
    disconnect => Disconnect,
    /// The runtime error.
    error => Error,
    /// Extraction of action parameters.
    extract => FromContext,
    /// Conversion of action return values.
    action_result => IntoActionResult,
    /// serde (bounds on generic states).
    serde => serde,
    /// serde_json (its `Error` is the persistence error type).
    serde_json => serde_json,
    /// Helpers for `#[derive(LiveState)]`'s persistence code.
    persist => persist,
}

impl Paths {
    /// `crate_path` is the `crate = …` argument, if any.
    pub(crate) fn new(crate_path: Option<&syn::Path>) -> Paths {
        let private = match crate_path {
            Some(path) => quote!(#path::__private),
            None => quote!(::livetemplate::__private),
        };
        Paths { private }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_and_custom_crate() {
        assert_eq!(
            Paths::new(None).controller().to_string(),
            quote!(::livetemplate::__private::Controller).to_string()
        );
        let custom: syn::Path = syn::parse_quote!(::my_app::lt);
        assert_eq!(
            Paths::new(Some(&custom)).context().to_string(),
            quote!(::my_app::lt::__private::Context).to_string()
        );
    }
}
