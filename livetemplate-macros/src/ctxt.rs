//! The error collector: every stage reports into one [`Ctxt`] so the user sees all
//! mistakes of one macro invocation at once, not one per compile.

use std::cell::RefCell;
use std::fmt::Display;

use quote::ToTokens;

/// Collects `syn::Error`s during one expansion.
///
/// It must be consumed with [`Ctxt::check`]: dropping it unchecked is a bug in this
/// crate and panics (outside of an unwinding panic), so no error is ever lost.
pub(crate) struct Ctxt {
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    pub(crate) fn new() -> Ctxt {
        Ctxt {
            errors: RefCell::new(Some(Vec::new())),
        }
    }

    /// Report `message` at the tokens of `node`.
    pub(crate) fn error_spanned_by<T: ToTokens, M: Display>(&self, node: T, message: M) {
        self.syn_error(syn::Error::new_spanned(node.into_token_stream(), message));
    }

    /// Report `message` at `span`.
    pub(crate) fn error_at<M: Display>(&self, span: proc_macro2::Span, message: M) {
        self.syn_error(syn::Error::new(span, message));
    }

    /// Report an error produced by syn (a parse error).
    pub(crate) fn syn_error(&self, error: syn::Error) {
        self.errors
            .borrow_mut()
            .as_mut()
            .expect("Ctxt used after check()")
            .push(error);
    }

    /// Whether anything was reported so far.
    pub(crate) fn has_errors(&self) -> bool {
        self.errors
            .borrow()
            .as_ref()
            .is_some_and(|errors| !errors.is_empty())
    }

    /// Consume the collector: `Err` with every reported error combined, in report order.
    pub(crate) fn check(self) -> Result<(), syn::Error> {
        let errors = self.errors.borrow_mut().take().expect("Ctxt checked twice");
        let mut iter = errors.into_iter();
        match iter.next() {
            None => Ok(()),
            Some(mut first) => {
                for rest in iter {
                    first.combine(rest);
                }
                Err(first)
            }
        }
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.borrow().is_some() {
            panic!("livetemplate-macros: Ctxt dropped without check()");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn combines_errors_in_order() {
        let cx = Ctxt::new();
        cx.error_at(proc_macro2::Span::call_site(), "first");
        cx.error_at(proc_macro2::Span::call_site(), "second");
        assert!(cx.has_errors());
        let err = cx.check().unwrap_err();
        let messages: Vec<String> = err.into_iter().map(|e| e.to_string()).collect();
        assert_eq!(messages, ["first", "second"]);
    }

    #[test]
    fn empty_is_ok() {
        let cx = Ctxt::new();
        assert!(!cx.has_errors());
        assert!(cx.check().is_ok());
    }

    #[test]
    #[should_panic(expected = "dropped without check")]
    fn unchecked_drop_panics() {
        let cx = Ctxt::new();
        drop(cx);
    }
}
