//! Procedural macros of [livetemplate](https://docs.rs/livetemplate): `#[controller]`,
//! its method markers `#[action]`, `#[mount]`, `#[on_connect]`, `#[on_disconnect]`, and
//! `#[derive(LiveState)]` with its `#[persist]` field attribute.
//!
//! Use them through the `livetemplate` crate (`use livetemplate::prelude::*;`), never
//! directly: the generated code names `::livetemplate::__private`, and the two crates
//! are released together.
//!
//! Inside: each entry point only converts token streams; the work happens in stages —
//! `attr` (our attribute grammar), `model` (what the user wrote, typed), `validate`
//! (the rules), `expand` (code generation) — reporting every error through one
//! collector (`ctxt`). Set `LIVETEMPLATE_MACROS_DEBUG=1` while building
//! to print every expansion to stderr.

mod attr;
mod ctxt;
mod debug;
mod expand;
mod model;
mod names;
mod paths;
mod validate;

use proc_macro::TokenStream;

/// Implements `livetemplate::Controller` for an impl block: the dispatch table of its
/// `#[action]` methods and its lifecycle hooks.
///
/// ```text
/// #[controller(state = MyState)]              // required: the per-connection state type
/// #[controller(state = MyState, crate = ::my_reexport::livetemplate)]   // re-exporters
/// ```
///
/// The impl must be inherent (`impl MyController { … }`) and contain at least one
/// `#[action]` or lifecycle hook. Other methods, constants and types are left alone.
///
/// # Actions and their names
///
/// An `#[action]` method runs when the browser names it: a button's `name`, a form's
/// `name`, `lvt-form:action`, an `lvt-on:<event>` value, or `change` for live input
/// binding (see [`macro@action`]). A method is reachable by **exactly** these strings
/// (case-sensitive, no other normalization):
///
/// | method | reachable as |
/// | --- | --- |
/// | `clear_done` | `clear_done`, `clear-done`, `clearDone`, `ClearDone` |
/// | `increment` | `increment`, `Increment` |
///
/// that is the name as written, kebab-case, camelCase and PascalCase of its
/// `_`-separated words. `#[action(name = "x")]` makes `x` the primary name and keeps
/// the four method-derived spellings; `#[action(alias = "y")]` adds `y`. Two actions
/// resolving the same string is a compile error at the second. The names the protocol
/// reserves (`__navigate__`, `__ping__`, `upload_start`, `upload_chunk`,
/// `upload_complete`, `cancel_upload`) are rejected.
///
/// A client action reachable as `change` makes the controller advertise the `change`
/// capability (the client then sends debounced input events as `change`).
///
/// # Parameters
///
/// `&self` first (the controller is one shared value: no `self`, no `&mut self`), then
/// in any order:
///
/// - the state: `&mut MyState` or `&MyState` (at most once);
/// - the context: `&mut Context` or `&Context` (at most once);
/// - any type implementing `FromContext` (`Form<T>`, `Data<T>`, your own), extracted
///   before the call; an extraction error fails the action and the method never runs.
///
/// Methods may be `fn` or `async fn` (the future must be `Send`), and return `()` or
/// `Result<(), E>` with `E: Into<livetemplate::Error>` (`livetemplate::Result<()>`).
/// Type or const generic parameters, `unsafe fn` and `extern fn` are rejected.
///
/// # Lifecycle hooks
///
/// [`macro@mount`] and [`macro@on_connect`] take the same parameters as actions;
/// [`macro@on_disconnect`] takes `&self`, optionally `&MyState` and optionally
/// `&Disconnect`, and returns nothing. At most one of each; hooks are never reachable
/// as actions.
///
/// # Examples
///
/// ```
/// use livetemplate::prelude::*;
///
/// #[derive(Clone, Default, Serialize, Deserialize, LiveState)]
/// struct CounterState {
///     #[persist]
///     count: i64,
/// }
///
/// struct Counter;
///
/// #[controller(state = CounterState)]
/// impl Counter {
///     #[action]
///     fn increment(&self, state: &mut CounterState) {
///         state.count += 1;
///     }
///
///     #[action(name = "reset", alias = "clear")]
///     async fn reset_to(&self, state: &mut CounterState, ctx: &mut Context) -> Result<()> {
///         state.count = ctx.get_i64("to").unwrap_or(0);
///         Ok(())
///     }
/// }
///
/// # fn main() {
/// use livetemplate::Controller;
/// assert_eq!(Counter::ACTIONS[0].aliases, ["increment", "Increment"]);
/// assert_eq!(Counter::ACTIONS[1].name, "reset");
/// assert_eq!(Counter::ACTIONS[1].aliases, ["reset", "reset_to", "reset-to", "resetTo", "ResetTo", "clear"]);
/// # }
/// ```
///
/// # Errors
///
/// Every mistake is reported at once, at the token to fix, and the impl block is kept
/// as written. For example a mutable receiver:
///
/// ```compile_fail
/// use livetemplate::prelude::*;
/// # #[derive(Clone, Default, Serialize, Deserialize, LiveState)]
/// # struct CounterState { count: i64 }
/// struct Counter;
///
/// #[controller(state = CounterState)]
/// impl Counter {
///     #[action]
///     fn increment(&mut self, state: &mut CounterState) {
///         state.count += 1;
///     }
/// }
/// # fn main() {}
/// ```
///
/// ```text
/// error: `#[action]` methods take `&self`, not `&mut self`: the controller is shared by every
///        connection; keep per-connection data in the state, and shared mutable data behind a
///        `Mutex` or an atomic
///   |
/// 9 |     fn increment(&mut self, state: &mut CounterState) {
///   |                  ^^^^^^^^^
/// ```
#[proc_macro_attribute]
pub fn controller(args: TokenStream, item: TokenStream) -> TokenStream {
    let fallback = item.clone();
    entry("#[controller]", fallback, || {
        expand::controller(args.into(), item.into())
    })
}

/// Marks a method of a [`macro@controller`] impl as an action the browser (or a peer,
/// or the server) can run.
///
/// ```text
/// #[action]                                  // reachable by the method's four spellings
/// #[action(name = "clear-done")]             // primary name; method spellings still work
/// #[action(alias = "wipe", alias = "purge")] // extra names
/// #[action(internal)]                        // only peers (publish) and the server may run it
/// ```
///
/// See [`macro@controller`] for the alias rule and the parameters. An `internal` action
/// is `ActionKind::Internal`: a browser naming it gets "unknown action".
///
/// `#[action]` is consumed by the `#[controller]` on the surrounding impl; on its own it
/// is an error.
///
/// # Examples
///
/// ```
/// use livetemplate::prelude::*;
///
/// #[derive(Clone, Default, Serialize, Deserialize, LiveState)]
/// struct Todos { items: Vec<String> }
///
/// struct TodoController;
///
/// #[controller(state = Todos)]
/// impl TodoController {
///     #[action(name = "clear-done", alias = "purge")]
///     fn clear_done(&self, state: &mut Todos) {
///         state.items.clear();
///     }
///
///     #[action(internal)]
///     fn refresh(&self, state: &mut Todos) {}
/// }
/// # fn main() {
/// use livetemplate::{ActionKind, Controller};
/// assert_eq!(TodoController::ACTIONS[0].name, "clear-done");
/// assert_eq!(TodoController::ACTIONS[1].kind, ActionKind::Internal);
/// # }
/// ```
///
/// # Errors
///
/// Outside a `#[controller]` impl:
///
/// ```compile_fail
/// use livetemplate::prelude::*;
/// struct Counter;
///
/// impl Counter {
///     #[action]
///     fn increment(&self) {}
/// }
/// # fn main() {}
/// ```
///
/// ```text
/// error: `#[action]` only works on a method of an `impl` block marked `#[controller(state = …)]`;
///        add `#[controller(state = YourState)]` to the impl block
/// ```
#[proc_macro_attribute]
pub fn action(_args: TokenStream, item: TokenStream) -> TokenStream {
    stray(attr::MarkerKind::Action, item)
}

/// Marks the mount hook of a [`macro@controller`]: runs on every HTTP GET and POST and
/// on every WebSocket connect and reconnect, before anything else touches the state.
///
/// Same parameters and return types as an [`macro@action`]. Load what is not
/// persisted here (`ctx.connect_kind()` tells how the page was reached).
///
/// # Examples
///
/// ```
/// use livetemplate::prelude::*;
///
/// #[derive(Clone, Default, Serialize, Deserialize, LiveState)]
/// struct Page { greeting: String }
///
/// struct Home;
///
/// #[controller(state = Page)]
/// impl Home {
///     #[mount]
///     async fn mount(&self, state: &mut Page, ctx: &mut Context) -> Result<()> {
///         state.greeting = format!("hello {}", ctx.query().get("name").map_or("you", |n| n));
///         Ok(())
///     }
/// }
/// # fn main() {}
/// ```
///
/// # Errors
///
/// A controller has at most one mount hook:
///
/// ```compile_fail
/// # use livetemplate::prelude::*;
/// # #[derive(Clone, Default, Serialize, Deserialize, LiveState)]
/// # struct Page {}
/// # struct Home;
/// #[controller(state = Page)]
/// impl Home {
///     #[mount]
///     fn load(&self) {}
///     #[mount]
///     fn load_again(&self) {}
/// }
/// # fn main() {}
/// ```
///
/// ```text
/// error: a controller has at most one `#[mount]` hook, and `load` already is one
/// ```
#[proc_macro_attribute]
pub fn mount(_args: TokenStream, item: TokenStream) -> TokenStream {
    stray(attr::MarkerKind::Mount, item)
}

/// Marks the connect hook of a [`macro@controller`]: WebSocket connections only, after
/// [`macro@mount`]. Its errors are logged, not shown.
///
/// Same parameters and return types as an [`macro@action`].
///
/// # Examples
///
/// ```
/// use livetemplate::prelude::*;
///
/// #[derive(Clone, Default, Serialize, Deserialize, LiveState)]
/// struct Chat { online: bool }
///
/// struct ChatController;
///
/// #[controller(state = Chat)]
/// impl ChatController {
///     #[on_connect]
///     fn connected(&self, state: &mut Chat) {
///         state.online = true;
///     }
/// }
/// # fn main() {}
/// ```
///
/// # Errors
///
/// ```compile_fail
/// # use livetemplate::prelude::*;
/// # #[derive(Clone, Default, Serialize, Deserialize, LiveState)]
/// # struct Chat {}
/// # struct ChatController;
/// #[controller(state = Chat)]
/// impl ChatController {
///     #[on_connect(name = "hello")]
///     fn connected(&self) {}
/// }
/// # fn main() {}
/// ```
///
/// ```text
/// error: `#[on_connect]` takes no arguments; write `#[on_connect]`
/// ```
#[proc_macro_attribute]
pub fn on_connect(_args: TokenStream, item: TokenStream) -> TokenStream {
    stray(attr::MarkerKind::OnConnect, item)
}

/// Marks the disconnect hook of a [`macro@controller`]: a WebSocket connection closed.
///
/// Parameters: `&self`, then optionally the state read-only (`&MyState`) and optionally
/// `&Disconnect` (connection, group and user ids), in any order. Returns nothing; may
/// be `async`.
///
/// # Examples
///
/// ```
/// use livetemplate::prelude::*;
/// use livetemplate::Disconnect;
///
/// #[derive(Clone, Default, Serialize, Deserialize, LiveState)]
/// struct Room { name: String }
///
/// struct RoomController;
///
/// #[controller(state = Room)]
/// impl RoomController {
///     #[on_disconnect]
///     async fn left(&self, state: &Room, info: &Disconnect) {
///         println!("connection {} left {}", info.connection_id, state.name);
///     }
/// }
/// # fn main() {}
/// ```
///
/// # Errors
///
/// ```compile_fail
/// # use livetemplate::prelude::*;
/// # #[derive(Clone, Default, Serialize, Deserialize, LiveState)]
/// # struct Room {}
/// # struct RoomController;
/// #[controller(state = Room)]
/// impl RoomController {
///     #[on_disconnect]
///     fn left(&self, state: &mut Room) {}
/// }
/// # fn main() {}
/// ```
///
/// ```text
/// error: `#[on_disconnect]` sees the state read-only: take `&Room`
/// ```
#[proc_macro_attribute]
pub fn on_disconnect(_args: TokenStream, item: TokenStream) -> TokenStream {
    stray(attr::MarkerKind::OnDisconnect, item)
}

/// Implements `livetemplate::LiveState` for a state type; `#[persist]` marks the fields
/// saved to the session store.
///
/// The type must be `Clone + Serialize + DeserializeOwned + Send + Sync + 'static`
/// (derive `Clone`, `Serialize`, `Deserialize`; `Default` is what a restored state
/// starts from).
///
/// `#[persist]` fields (named fields of a struct; the key is the Rust field name) are
/// saved as one JSON object after every successful action and restored on refresh and
/// reconnect. Restoring overwrites only the fields present in the stored object;
/// unknown keys are ignored, and a `null` the field's type cannot take leaves that field
/// as it is. A state without `#[persist]` fields never touches the session store.
///
/// Re-exporters pass their path with `#[livetemplate(crate = ::my_reexport::livetemplate)]`.
///
/// # Examples
///
/// ```
/// use livetemplate::prelude::*;
///
/// #[derive(Clone, Default, Serialize, Deserialize, LiveState)]
/// struct TodoState {
///     #[persist]
///     filter: String,       // survives refresh and reconnect
///     items: Vec<String>,   // reloaded by mount
/// }
///
/// # fn main() {
/// assert_eq!(<TodoState as LiveState>::PERSISTED, ["filter"]);
/// let state = TodoState { filter: "done".into(), items: vec!["x".into()] };
/// let saved = state.save_persisted().unwrap().unwrap();
/// assert_eq!(saved, br#"{"filter":"done"}"#);
/// # }
/// ```
///
/// # Errors
///
/// `#[persist]` needs a named field of a struct:
///
/// ```compile_fail
/// use livetemplate::prelude::*;
///
/// #[derive(Clone, Serialize, Deserialize, LiveState)]
/// struct Position(#[persist] u32);
/// # fn main() {}
/// ```
///
/// ```text
/// error: `#[persist]` needs a named field: the field name is its key in the session store; use a
///        struct with named fields
/// ```
#[proc_macro_derive(LiveState, attributes(persist, livetemplate))]
pub fn derive_live_state(input: TokenStream) -> TokenStream {
    entry("#[derive(LiveState)]", TokenStream::new(), || {
        expand::live_state(input.into())
    })
}

fn stray(kind: attr::MarkerKind, item: TokenStream) -> TokenStream {
    let fallback = item.clone();
    let name = format!("#[{}]", kind.name());
    entry(&name, fallback, || expand::stray(kind, item.into()))
}

/// Run one expansion: print it when debugging, and turn a panic (a bug here) into a
/// compile error placed after `fallback` (the item as written, or nothing for derives).
fn entry(
    macro_name: &str,
    fallback: TokenStream,
    run: impl FnOnce() -> proc_macro2::TokenStream,
) -> TokenStream {
    let output = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(run)) {
        Ok(tokens) => tokens,
        Err(panic) => {
            let detail = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_string());
            let message = format!(
                "internal error in {macro_name}: {detail}; this is a bug in livetemplate-macros, \
                 please report it"
            );
            let error = syn::Error::new(proc_macro2::Span::call_site(), message).to_compile_error();
            let fallback = proc_macro2::TokenStream::from(fallback);
            quote::quote!(#fallback #error)
        }
    };
    debug::print(macro_name, &output);
    output.into()
}
