//! Expansion tests: small inputs, asserted as snapshots (laid out by
//! [`crate::debug::pretty`]) and by key fragments.
//!
//! Snapshots live in `src/expand/snapshots/`; after an intended change, regenerate with
//! `LIVETEMPLATE_SNAPSHOTS=overwrite cargo test -p livetemplate-macros` and review the
//! diff.

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

use super::*;
use crate::debug::pretty;

fn assert_snapshot(name: &str, tokens: &TokenStream) {
    let actual = pretty(tokens);
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("src/expand/snapshots")
        .join(format!("{name}.txt"));
    let overwrite = std::env::var_os("LIVETEMPLATE_SNAPSHOTS").is_some_and(|v| v == "overwrite");
    if overwrite {
        std::fs::write(&path, &actual).expect("write snapshot");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "missing snapshot {}; run with LIVETEMPLATE_SNAPSHOTS=overwrite and review it\n{actual}",
            path.display()
        )
    });
    assert_eq!(
        expected, actual,
        "snapshot {name} changed; run with LIVETEMPLATE_SNAPSHOTS=overwrite and review the diff"
    );
}

fn flat(tokens: &TokenStream) -> String {
    tokens.to_string()
}

fn small_controller() -> TokenStream {
    controller(
        quote!(state = TodoState),
        quote! {
            impl TodoController {
                #[mount]
                async fn mount(&self, state: &mut TodoState, ctx: &mut Context) -> Result<()> { Ok(()) }
                #[action]
                fn add(&self, state: &mut TodoState) {}
                #[action(name = "clear-done", alias = "purge")]
                fn clear_done(&self, form: Form<Clear>, state: &TodoState) -> Result<()> { Ok(()) }
                #[action(internal)]
                async fn change(&self, ctx: &Context) {}
                #[on_disconnect]
                fn gone(&self, info: &Disconnect) {}
                fn helper(&self) {}
            }
        },
    )
}

#[test]
fn controller_snapshot() {
    assert_snapshot("controller", &small_controller());
}

#[test]
fn controller_dispatch_table() {
    let out = flat(&small_controller());
    assert!(!out.contains("compile_error"), "{out}");
    let table = flat(&quote! {
        const ACTIONS: &'static [::livetemplate::__private::ActionSpec] = &[
            ::livetemplate::__private::ActionSpec {
                name: "add", aliases: &["add", "Add"],
                kind: ::livetemplate::__private::ActionKind::Client
            },
            ::livetemplate::__private::ActionSpec {
                name: "clear-done",
                aliases: &["clear-done", "clear_done", "clearDone", "ClearDone", "purge"],
                kind: ::livetemplate::__private::ActionKind::Client
            },
            ::livetemplate::__private::ActionSpec {
                name: "change", aliases: &["change", "Change"],
                kind: ::livetemplate::__private::ActionKind::Internal
            }
        ];
    });
    assert!(out.contains(&table), "{out}");
    // `change` is internal: the browser cannot send it, so no capability.
    assert!(
        out.contains(&flat(&quote!(
            const HAS_CHANGE: bool = false;
        ))),
        "{out}"
    );
    // Our markers are gone from the user's impl; other methods stay.
    assert!(!out.contains("# [action"), "{out}");
    assert!(!out.contains("# [mount"), "{out}");
    assert!(
        out.contains(&flat(&quote!(
            fn helper(&self) {}
        ))),
        "{out}"
    );
    // Hooks are overridden; on_connect keeps the trait default.
    assert!(out.contains("fn mount <"), "{out}");
    assert!(out.contains("fn on_disconnect <"), "{out}");
    assert!(!out.contains("fn on_connect <"), "{out}");
    // Extraction through FromContext, before the call.
    assert!(
        out.contains(&flat(&quote!(
            <Form<Clear> as ::livetemplate::__private::FromContext>::from_context(&*__lt_ctx)
        ))),
        "{out}"
    );
    assert!(
        out.contains(&flat(&quote!(Self::clear_done(
            self,
            __lt_arg0,
            &*__lt_state
        )))),
        "{out}"
    );
}

#[test]
fn client_change_action_sets_capability() {
    let out = flat(&controller(
        quote!(state = S),
        quote!(impl C { #[action] fn change(&self, s: &mut S) {} }),
    ));
    assert!(
        out.contains(&flat(&quote!(
            const HAS_CHANGE: bool = true;
        ))),
        "{out}"
    );
}

#[test]
fn crate_path_moves_the_door() {
    let out = flat(&controller(
        quote!(state = S, crate = ::my_app::lt),
        quote!(impl C { #[my_app::lt::action] fn go(&self) {} }),
    ));
    assert!(!out.contains("compile_error"), "{out}");
    assert!(
        out.contains(":: my_app :: lt :: __private :: Controller"),
        "{out}"
    );
    assert!(!out.contains(":: livetemplate ::"), "{out}");
}

fn errors_of(tokens: &TokenStream) -> Vec<String> {
    // `compile_error! { "message" }` occurrences, in order.
    let text = flat(tokens);
    text.split(":: core :: compile_error ! {")
        .skip(1)
        .map(|rest| {
            rest.split('}')
                .next()
                .unwrap_or_default()
                .trim()
                .to_string()
        })
        .collect()
}

#[test]
fn errors_are_all_reported_and_the_impl_is_kept() {
    let out = controller(
        quote!(stat = S),
        quote! {
            impl C {
                #[action] fn a(self) {}
                #[action] fn b(&mut self) {}
                #[action] fn c() {}
                #[action(nme = "x")] fn d(&self) {}
            }
        },
    );
    let errors = errors_of(&out);
    assert_eq!(errors.len(), 6, "{errors:#?}");
    assert!(
        errors[0].contains("unknown `#[controller]` argument `stat`"),
        "{errors:#?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("needs the state type")),
        "{errors:#?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("not `self`")),
        "{errors:#?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("not `&mut self`")),
        "{errors:#?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("take `&self` first")),
        "{errors:#?}"
    );
    assert!(
        errors
            .iter()
            .any(|e| e.contains("unknown `#[action]` argument `nme`")),
        "{errors:#?}"
    );
    let text = flat(&out);
    assert!(text.starts_with("impl C {"), "{text}");
    assert!(
        text.contains(&flat(&quote!(
            fn a(self) {}
        ))),
        "{text}"
    );
    assert!(
        text.contains(&flat(&quote!(
            fn d(&self) {}
        ))),
        "{text}"
    );
    // Without a state type there is no stub impl.
    assert!(!text.contains("Controller for"), "{text}");
}

#[test]
fn errors_keep_a_stub_when_the_state_is_known() {
    let out = flat(&controller(
        quote!(state = S),
        quote!(impl C { #[action] fn a(&mut self) {} }),
    ));
    assert!(out.contains("compile_error"), "{out}");
    assert!(
        out.contains("impl :: livetemplate :: __private :: Controller for C"),
        "{out}"
    );
    assert!(
        out.contains(
            "const ACTIONS : & 'static [:: livetemplate :: __private :: ActionSpec] = & [] ;"
        ),
        "{out}"
    );
}

#[test]
fn alias_collision_points_at_the_second() {
    let out = controller(
        quote!(state = S),
        quote! {
            impl C {
                #[action] fn clear_done(&self) {}
                #[action(alias = "clearDone")] fn wipe(&self) {}
            }
        },
    );
    let errors = errors_of(&out);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        errors[0].contains("`clearDone` already resolves to `clear_done`"),
        "{errors:#?}"
    );
}

#[test]
fn not_an_impl() {
    let out = controller(
        quote!(state = S),
        quote!(
            struct C;
        ),
    );
    let errors = errors_of(&out);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(errors[0].contains("goes on an `impl` block"), "{errors:#?}");
    assert!(flat(&out).starts_with("struct C ;"));
}

#[test]
fn stray_marker_keeps_the_item() {
    let out = stray(
        MarkerKind::Action,
        quote!(
            fn go(&self) {}
        ),
    );
    let errors = errors_of(&out);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("only works on a method"), "{errors:#?}");
    assert!(flat(&out).starts_with(&flat(&quote!(
        fn go(&self) {}
    ))));
}

fn small_state() -> TokenStream {
    live_state(quote! {
        #[derive(Clone)]
        struct TodoState {
            #[persist]
            filter: String,
            items: Vec<Todo>,
            #[persist]
            r#type: u8,
        }
    })
}

#[test]
fn live_state_snapshot() {
    assert_snapshot("live_state", &small_state());
}

#[test]
fn live_state_keys_are_field_names() {
    let out = flat(&small_state());
    assert!(!out.contains("compile_error"), "{out}");
    assert!(
        out.contains(&flat(&quote!(
            const PERSISTED: &'static [&'static str] = &["filter", "type"];
        ))),
        "{out}"
    );
    assert!(out.contains(&flat(&quote!(::livetemplate::__private::persist::save::<String>(&mut __lt_object, "filter", &self.filter)?;))), "{out}");
}

#[test]
fn live_state_without_persist_fields() {
    let out = flat(&live_state(quote!(
        struct S {
            a: u8,
        }
    )));
    assert!(
        out.contains(&flat(&quote!(
            const PERSISTED: &'static [&'static str] = &[];
        ))),
        "{out}"
    );
    assert!(
        out.contains(&flat(&quote!(::core::result::Result::Ok(
            ::core::option::Option::None
        )))),
        "{out}"
    );
}

#[test]
fn live_state_errors() {
    let out = live_state(quote! {
        #[persist]
        struct S {
            #[persist] #[persist] a: u8,
            #[persist(key = "x")] b: u8,
        }
    });
    let errors = errors_of(&out);
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert!(errors[0].contains("not on the type"), "{errors:#?}");
    assert!(errors[1].contains("more than once"), "{errors:#?}");
    assert!(errors[2].contains("takes no arguments"), "{errors:#?}");
    // A stub keeps `S: LiveState` for the rest of the crate.
    assert!(flat(&out).contains("LiveState for S"));
}

#[test]
fn debug_switch_reads_the_environment() {
    // Only the parsing of the switch; printing goes to stderr.
    std::env::remove_var("LIVETEMPLATE_MACROS_DEBUG");
    assert!(!crate::debug::enabled());
}
