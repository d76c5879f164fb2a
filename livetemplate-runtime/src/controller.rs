//! The contract between user code and the runtime.
//!
//! `#[derive(LiveState)]` implements [`LiveState`] and `#[controller]` implements
//! [`Controller`]; the runtime (transport, sessions, pub/sub) only ever talks to these
//! traits. Nothing here knows about sockets or templates.

use std::future::Future;
use std::pin::Pin;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::context::{Context, Disconnect};
use crate::error::Error;

/// A boxed, `Send` future: what generated dispatch code returns.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Per-connection state of a live page: plain, cloneable, serializable data.
///
/// Implement it with `#[derive(LiveState)]`; fields marked `#[persist]` are saved to the
/// session store after every successful action and restored on refresh and reconnect.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a live state",
    label = "add `#[derive(LiveState)]` to `{Self}`",
    note = "a live state is `Clone + Serialize + DeserializeOwned + Send + Sync + 'static` and derives `LiveState`"
)]
pub trait LiveState: Clone + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Names of the `#[persist]` fields, in declaration order. Empty: the state never
    /// touches the session store.
    const PERSISTED: &'static [&'static str];

    /// Serialize the persisted fields as one JSON object; `None` when there are none.
    fn save_persisted(&self) -> Result<Option<Vec<u8>>, serde_json::Error>;

    /// Overwrite the persisted fields present in `bytes` (a JSON object written by
    /// [`LiveState::save_persisted`]); fields absent from `bytes` are left as they are.
    fn restore_persisted(&mut self, bytes: &[u8]) -> Result<(), serde_json::Error>;
}

/// Who may invoke an action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ActionKind {
    /// A browser may call it (button, form, `lvt-on:*`), and so may peers and the server.
    Client,
    /// Only the server may run it: a publish target (`ctx.publish`) or a server push
    /// (`Session::trigger`). A browser naming it gets an "unknown action" error.
    Internal,
}

/// The name of an action, for code that asks for an action to run elsewhere
/// (`ctx.publish`, `Session::trigger`, `Publisher::publish`, `ctx.broadcast_action`).
///
/// `#[controller]` generates one associated constant per action on the controller type,
/// named after the action's primary name in SCREAMING_SNAKE_CASE (`refresh_counter` →
/// `Self::REFRESH_COUNTER`, `#[action(name = "clear-done")]` → `Self::CLEAR_DONE`), so a
/// misspelt name is a compile error rather than a publish nobody runs.
///
/// The receiver resolves the name against its own controller's actions (primary names
/// and aliases); a name it does not know is dropped there.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Action(&'static str);

impl Action {
    /// An action name the compiler cannot check: a typo here is only noticed at run
    /// time, when no receiver knows the name (it is logged at debug level and
    /// dropped). Prefer the constants `#[controller]` generates.
    pub const fn unchecked(name: &'static str) -> Action {
        Action(name)
    }

    /// The name as sent to receivers.
    pub const fn name(self) -> &'static str {
        self.0
    }
}

impl std::fmt::Debug for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Action({:?})", self.0)
    }
}

impl std::fmt::Display for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// One entry of a controller's dispatch table.
#[derive(Clone, Copy, Debug)]
pub struct ActionSpec {
    /// The primary name (the method name, or `#[action(name = "…")]`).
    pub name: &'static str,
    /// Every string that resolves to this action (including `name`).
    pub aliases: &'static [&'static str],
    /// Who may call it.
    pub kind: ActionKind,
}

/// A controller: the singleton holding an app's dependencies, plus its action table.
///
/// Implemented by `#[controller]`; hand-written implementations are possible but
/// unusual.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a live controller",
    label = "put `#[controller(state = YourState)]` on an `impl {Self}` block"
)]
pub trait Controller: Send + Sync + 'static {
    /// The per-connection state type.
    type State: LiveState;

    /// The dispatch table; `dispatch(i, …)` runs `ACTIONS[i]`.
    const ACTIONS: &'static [ActionSpec];

    /// Whether the controller has a `change` action (advertises capability `change`).
    const HAS_CHANGE: bool = false;

    /// Run action `index` of [`Controller::ACTIONS`].
    fn dispatch<'a>(
        &'a self,
        index: usize,
        state: &'a mut Self::State,
        ctx: &'a mut Context,
    ) -> BoxFuture<'a, Result<(), Error>>;

    /// Run action `index` at once when it does not wait (a plain `fn`), and return its
    /// result; `None` when it must be awaited through [`Controller::dispatch`]. Spares
    /// synchronous actions a boxed future. `#[controller]` generates it; the default
    /// always answers `None`.
    fn dispatch_now(
        &self,
        index: usize,
        state: &mut Self::State,
        ctx: &mut Context,
    ) -> Option<Result<(), Error>> {
        let _ = (index, state, ctx);
        None
    }

    /// Mount hook: every HTTP GET/POST and every WebSocket connect and reconnect.
    fn mount<'a>(
        &'a self,
        _state: &'a mut Self::State,
        _ctx: &'a mut Context,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async { Ok(()) })
    }

    /// Connect hook: WebSocket connections only, after mount.
    fn on_connect<'a>(
        &'a self,
        _state: &'a mut Self::State,
        _ctx: &'a mut Context,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async { Ok(()) })
    }

    /// Disconnect hook: a WebSocket connection closed.
    fn on_disconnect<'a>(
        &'a self,
        _state: &'a Self::State,
        _info: &'a Disconnect,
    ) -> BoxFuture<'a, ()> {
        Box::pin(async {})
    }
}

/// Find the action a name resolves to (exact match against every alias).
pub fn resolve_action(actions: &[ActionSpec], name: &str) -> Option<usize> {
    resolve_alias(actions, name).map(|(i, _)| i)
}

/// [`resolve_action`], with the table's own copy of the name.
pub(crate) fn resolve_alias(actions: &[ActionSpec], name: &str) -> Option<(usize, &'static str)> {
    actions.iter().enumerate().find_map(|(i, a)| {
        a.aliases
            .iter()
            .find(|&&alias| alias == name)
            .map(|&alias| (i, alias))
    })
}

/// What an action or hook may return: `()`, or `Result<(), E>` where `E: Into<Error>`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a valid action return type",
    label = "return `()` or `Result<(), E>` where `E: Into<livetemplate::Error>`"
)]
pub trait IntoActionResult {
    /// Convert into the runtime's result.
    fn into_action_result(self) -> Result<(), Error>;
}

impl IntoActionResult for () {
    fn into_action_result(self) -> Result<(), Error> {
        Ok(())
    }
}

impl<E: Into<Error>> IntoActionResult for Result<(), E> {
    fn into_action_result(self) -> Result<(), Error> {
        self.map_err(Into::into)
    }
}
