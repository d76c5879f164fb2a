//! The core shared by every transport path: one live page (state, errors, flash, query,
//! last tree sent) and the lifecycle operations on it (mount, connect, client action,
//! server dispatch, render, diff).
//!
//! Nothing here reads sockets or HTTP requests; `http.rs` and `ws.rs` drive it.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures_util::FutureExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::options::Options;
use super::persist::{After, Slot};
use super::realtime::Link;
use super::registry::{Dispatch, Registry, Synced};
use super::session::Who;
use super::{RenderError, Template};
use crate::context::{ConnectKind, Context, Origin};
use crate::controller::{resolve_alias, ActionKind, Controller};
use crate::error::{Error, GENERAL_ERROR_KEY};
use crate::template::{FieldTexts, RenderCache};
use crate::tree::diff::write_diff;
use crate::tree::json::{write_full, write_str};
use crate::tree::Node;

/// Name of the reserved template key holding errors, flash and page data.
pub const LVT_KEY: &str = "lvt";

/// What a handler shares between all its requests and connections.
pub(crate) struct Shared<C: Controller> {
    pub(crate) controller: Arc<C>,
    pub(crate) template: Arc<Template>,
    pub(crate) layout: Option<Arc<Template>>,
    pub(crate) initial: Arc<C::State>,
    pub(crate) options: Options,
    pub(crate) registry: Arc<Registry>,
    /// `data-lvt-id` of the wrapper: `lvt-` + 16 hex, fixed for the handler's life.
    pub(crate) wrapper_id: String,
    /// The page's name between replicas (pushes and syncs name the page they are for):
    /// the controller type and the template name, the same in every replica of the
    /// same build.
    pub(crate) scope: Arc<str>,
}

impl<C: Controller> Clone for Shared<C> {
    fn clone(&self) -> Self {
        Shared {
            controller: self.controller.clone(),
            template: self.template.clone(),
            layout: self.layout.clone(),
            initial: self.initial.clone(),
            options: self.options.clone(),
            registry: self.registry.clone(),
            wrapper_id: self.wrapper_id.clone(),
            scope: self.scope.clone(),
        }
    }
}

impl<C: Controller> Shared<C> {
    /// The state a new page or connection starts from: a clone of the initial state
    /// with the `#[persist]` fields of `slot` (group and path) restored from the
    /// session store (see the `persist` module for the schedule and failures).
    pub(crate) async fn load_state(&self, slot: &mut Slot) -> C::State {
        self.options.persistence.load(&*self.initial, slot).await
    }

    /// Called after every successful mount, connect hook or action with the committed
    /// state: writes its `#[persist]` fields when the schedule says so.
    pub(crate) async fn save_state(&self, slot: &mut Slot, state: &C::State, after: After) {
        self.options.persistence.save(slot, state, after).await;
    }

    /// `["change"]` when the controller has a `change` action.
    pub(crate) fn capabilities(&self) -> Option<&'static [&'static str]> {
        C::HAS_CHANGE.then_some(&["change"][..])
    }
}

/// `meta` of an UpdateResponse.
pub(crate) struct Meta<'a> {
    pub(crate) success: bool,
    pub(crate) errors: &'a BTreeMap<String, String>,
    /// Left out when `None`.
    pub(crate) action: Option<&'a str>,
    /// Left out when `None`.
    pub(crate) capabilities: Option<&'static [&'static str]>,
}

impl Meta<'_> {
    /// `{"success":…,"errors":{…},"action":…,"capabilities":[…]}`.
    fn write_json(&self, out: &mut String) {
        out.push_str(if self.success {
            "{\"success\":true,\"errors\":{"
        } else {
            "{\"success\":false,\"errors\":{"
        });
        for (i, (k, v)) in self.errors.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_str(k, out);
            out.push(':');
            write_str(v, out);
        }
        out.push('}');
        if let Some(action) = self.action {
            out.push_str(",\"action\":");
            write_str(action, out);
        }
        if let Some(caps) = self.capabilities {
            out.push_str(",\"capabilities\":[");
            for (i, c) in caps.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_str(c, out);
            }
            out.push(']');
        }
        out.push('}');
    }
}

/// How an UpdateResponse begins; the tree's JSON follows, then [`close_update`].
pub(crate) const UPDATE_OPEN: &str = "{\"tree\":";

/// Ends an UpdateResponse begun with [`UPDATE_OPEN`] and the tree: `,"meta":…}`, or
/// `}` without meta.
pub(crate) fn close_update(out: &mut String, meta: Option<&Meta<'_>>) {
    if let Some(meta) = meta {
        out.push_str(",\"meta\":");
        meta.write_json(out);
    }
    out.push('}');
}

/// `{"tree":<tree_json>,"meta":<meta>}`, or `{"tree":<tree_json>}` without meta.
pub(crate) fn update_message(tree_json: &str, meta: Option<&Meta<'_>>) -> String {
    let mut out = String::with_capacity(tree_json.len() + 80);
    out.push_str(UPDATE_OPEN);
    out.push_str(tree_json);
    close_update(&mut out, meta);
    out
}

/// An error reply that changes nothing: `{"tree":{},"meta":{"success":false,…}}`.
pub(crate) fn error_message(key: &str, message: &str, action: Option<&str>) -> String {
    let errors = BTreeMap::from([(key.to_string(), message.to_string())]);
    update_message(
        "{}",
        Some(&Meta {
            success: false,
            errors: &errors,
            action,
            capabilities: None,
        }),
    )
}

/// Run user code, turning a panic into a general error (the connection survives).
async fn guarded<F: std::future::Future<Output = Result<(), Error>>>(
    what: &str,
    fut: F,
) -> Result<(), Error> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(r) => r,
        Err(_) => Err(panicked(what)),
    }
}

/// The error a panic in user code becomes (logged).
fn panicked(what: &str) -> Error {
    tracing::error!(hook = what, "user code panicked");
    Error::msg("internal error")
}

/// One live page: a WebSocket connection, or the short life of one HTTP request.
pub(crate) struct Page<C: Controller> {
    pub(crate) state: C::State,
    /// Field errors of the last action (`lvt.errors`, `meta.errors`).
    pub(crate) errors: BTreeMap<String, String>,
    /// Flash messages (`lvt.flash`), kept until cleared.
    pub(crate) flash: BTreeMap<String, String>,
    /// The page URL's query (mount input).
    pub(crate) query: BTreeMap<String, String>,
    /// The last tree sent on this connection (the diff baseline).
    pub(crate) mirror: Option<Node>,
    /// The template data and rendered `{{#each}}` items of the last live render, for
    /// templates that reuse items (see `Template::reuses_items`); `None` otherwise.
    pub(crate) render_cache: Option<Box<RenderCache>>,
    pub(crate) who: Who,
    pub(crate) connection_id: Option<u64>,
    /// Broker, registry, request and connection, for the contexts' topic methods.
    pub(crate) link: Option<Arc<Link>>,
    /// Error envelopes waiting to be sent (refused subscriptions), WebSocket only.
    pub(crate) envelopes: Vec<String>,
    /// Where the persisted fields live (group and path) and what was last stored.
    pub(crate) persist: Slot,
    /// `who`'s group and user, shared with every context instead of copied into each.
    ids: (Arc<str>, Option<Arc<str>>),
    /// For a template rendered from the state's fields (`Template::render_fields`):
    /// the tree sent before the mirror, rendered over again and swapped in.
    spare: Option<Node>,
    /// The field texts of the last such render (their buffers reused).
    texts: FieldTexts,
}

impl<C: Controller> Page<C> {
    /// A page of `who` at `path`, its state restored from the session store.
    pub(crate) async fn new(
        shared: &Shared<C>,
        who: Who,
        query: BTreeMap<String, String>,
        path: &str,
    ) -> Page<C> {
        let mut persist = Slot::new(&who.group_id, path);
        let ids = (
            Arc::from(who.group_id.as_str()),
            who.user_id.as_deref().map(Arc::from),
        );
        Page {
            ids,
            spare: None,
            texts: FieldTexts::default(),
            state: shared.load_state(&mut persist).await,
            errors: BTreeMap::new(),
            flash: BTreeMap::new(),
            query,
            mirror: None,
            render_cache: None,
            who,
            connection_id: None,
            link: None,
            envelopes: Vec::new(),
            persist,
        }
    }

    fn context(&mut self, kind: ConnectKind, origin: Origin) -> Context {
        let mut ctx = Context::new(kind, origin, self.ids.0.clone());
        ctx.user_id = self.ids.1.clone();
        ctx.connection_id = self.connection_id;
        ctx.query = self.query.clone();
        ctx.flash = std::mem::take(&mut self.flash);
        ctx.realtime.link = self.link.clone();
        ctx
    }

    /// Run a hook or action on a clone of the state; commit the clone only on success.
    /// The flash changes are kept either way.
    async fn run(
        &mut self,
        shared: &Shared<C>,
        ctx: &mut Context,
        what: &str,
        call: Call,
    ) -> Result<(), Error> {
        let mut next = self.state.clone();
        let c = &*shared.controller;
        let (result, after) = match call {
            Call::Mount => (
                guarded(what, c.mount(&mut next, ctx)).await,
                After::Mount(ctx.kind),
            ),
            Call::Connect => (
                guarded(what, c.on_connect(&mut next, ctx)).await,
                After::Connect,
            ),
            Call::Action(i) => {
                // A plain `fn` action runs at once, without a boxed future.
                let now = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    c.dispatch_now(i, &mut next, ctx)
                }));
                let result = match now {
                    Ok(Some(result)) => result,
                    Ok(None) => guarded(what, c.dispatch(i, &mut next, ctx)).await,
                    Err(_) => Err(panicked(what)),
                };
                (result, After::Action)
            }
        };
        self.flash = std::mem::take(&mut ctx.flash);
        let mut realtime = std::mem::take(&mut ctx.realtime);
        self.envelopes.append(&mut realtime.envelopes);
        if result.is_ok() {
            self.state = next;
            shared
                .save_state(&mut self.persist, &self.state, after)
                .await;
            // Publishes leave only once the state they announce is committed and stored.
            realtime.deliver(&self.state, &self.who.group_id);
        }
        result
    }

    /// Mount with the current query; errors are recorded for the template.
    pub(crate) async fn mount(
        &mut self,
        shared: &Shared<C>,
        kind: ConnectKind,
    ) -> Result<(), Error> {
        self.errors.clear();
        let mut ctx = self.context(kind, Origin::Lifecycle);
        let r = self.run(shared, &mut ctx, "mount", Call::Mount).await;
        if let Err(e) = &r {
            self.errors = e.to_map();
        }
        r
    }

    /// The connect hook (WebSocket only): errors are logged and ignored.
    pub(crate) async fn on_connect(&mut self, shared: &Shared<C>) {
        let mut ctx = self.context(self.persist.connect_kind(), Origin::Lifecycle);
        if let Err(e) = self
            .run(shared, &mut ctx, "on_connect", Call::Connect)
            .await
        {
            tracing::warn!(error = %e, group = %self.who.group_id, "on_connect failed; ignored");
        }
    }

    /// A client action: clear field errors, resolve (unknown and internal actions
    /// fail), run, record errors. `action` is never empty (the message readers resolve
    /// an empty one). Returns the action name to echo in `meta.action`.
    pub(crate) async fn client_action(
        &mut self,
        shared: &Shared<C>,
        action: &str,
        data: Map<String, Value>,
        submitter: Option<&str>,
    ) -> Cow<'static, str> {
        self.errors.clear();
        let found = resolve_alias(C::ACTIONS, action)
            .filter(|&(i, _)| C::ACTIONS[i].kind == ActionKind::Client);
        let Some((index, name)) = found else {
            tracing::warn!(action, "unknown action");
            self.errors.insert(
                GENERAL_ERROR_KEY.into(),
                format!("unknown action \"{action}\""),
            );
            return Cow::Owned(action.to_owned());
        };
        let mut ctx = self.context(ConnectKind::Action, Origin::Client);
        ctx.action = Some(Cow::Borrowed(name));
        ctx.data = data;
        // A form's submitter usually names the action itself.
        ctx.submitter = submitter.map(|s| match s == name {
            true => Cow::Borrowed(name),
            false => Cow::Owned(s.to_owned()),
        });
        if let Err(e) = self
            .run(shared, &mut ctx, "action", Call::Action(index))
            .await
        {
            tracing::debug!(action = name, error = %e, "action failed");
            self.errors = e.to_map();
        }
        Cow::Borrowed(name)
    }

    /// `__navigate__`: the data becomes the new query and mount runs again.
    pub(crate) async fn navigate(
        &mut self,
        shared: &Shared<C>,
        data: Map<String, Value>,
        kind: ConnectKind,
    ) {
        self.query = data.into_iter().map(|(k, v)| (k, query_value(v))).collect();
        if let Err(e) = self.mount(shared, kind).await {
            tracing::debug!(error = %e, "mount failed on navigate");
        }
    }

    /// A peer or server dispatch. Unknown actions are dropped; errors are logged only
    /// (state untouched). Field errors the user is looking at stay until the user's own
    /// next action. Returns whether the page may have changed (render needed).
    pub(crate) async fn server_dispatch(&mut self, shared: &Shared<C>, d: Dispatch) -> bool {
        let Some((index, name)) = resolve_alias(C::ACTIONS, &d.action) else {
            tracing::debug!(action = %d.action, "dispatched action unknown; dropped");
            return false;
        };
        let mut ctx = self.context(ConnectKind::Action, d.origin);
        ctx.action = Some(Cow::Borrowed(name));
        ctx.data = d.data;
        match self
            .run(shared, &mut ctx, "dispatch", Call::Action(index))
            .await
        {
            Ok(()) => true,
            Err(e) => {
                tracing::warn!(action = name, error = %e, "dispatched action failed");
                false
            }
        }
    }

    /// Another tab's `ctx.sync()`: adopt its committed state (already persisted by it).
    /// Returns whether the state was adopted (render needed).
    pub(crate) fn replace_state(&mut self, state: &Synced) -> bool {
        match state {
            Synced::Local(any) => match any.downcast_ref::<C::State>() {
                Some(s) => {
                    self.state = s.clone();
                    true
                }
                None => {
                    tracing::error!("sync from a page of another state type; ignored");
                    false
                }
            },
            Synced::Json(value) => match C::State::deserialize(&**value) {
                Ok(s) => {
                    self.state = s;
                    true
                }
                Err(e) => {
                    tracing::error!(error = %e, "sync from another replica does not fit this page's state; ignored");
                    false
                }
            },
        }
    }

    /// What the template sees: the state's JSON object plus the reserved `lvt` key.
    pub(crate) fn template_data(&self) -> Result<Map<String, Value>, RenderFailure> {
        template_data(&self.state, &self.errors, &self.flash)
    }

    /// Render the live region.
    pub(crate) fn render(&self, shared: &Shared<C>) -> Result<Node, RenderFailure> {
        Ok(shared
            .template
            .render(&Value::Object(self.template_data()?))?)
    }

    /// Render the live region for this connection: as [`Page::render`], through the
    /// page's render cache when the template reuses `{{#each}}` items (the template data
    /// is then updated in place, and unchanged items are not rendered again). A template
    /// that renders without handlebars gets only the keys it reads (see `pick`).
    pub(crate) fn render_live(&mut self, shared: &Shared<C>) -> Result<Node, RenderFailure> {
        let t = &shared.template;
        if let Some(keys) = t.direct_keys() {
            // A flat template: only the keys it reads.
            if let Some(data) = super::pick::pick(&self.state, keys, &self.errors, &self.flash) {
                return Ok(t.render(&data)?);
            }
            return self.render(shared);
        }
        if !shared.options.render_cache || !t.reuses_items() {
            return self.render(shared);
        }
        let data = LiveData {
            state: &self.state,
            lvt: Lvt {
                errors: &self.errors,
                flash: &self.flash,
            },
        };
        if !object_or_null(&self.state) {
            // The plain path reports the problem.
            return self.render(shared);
        }
        let cache = self.render_cache.get_or_insert_with(Default::default);
        if let Err(e) = cache.update_data(&data) {
            // The plain path reports the state's problem (or renders what it can).
            tracing::debug!(error = %e, "template data not updated in place");
            return self.render(shared);
        }
        Ok(shared.template.render_held(cache)?)
    }

    /// Render and append the encoding against the mirror to `out`: a diff, or the full
    /// tree on the first render. The mirror is updated (and `out` written) only when
    /// rendering succeeds.
    pub(crate) fn render_update(
        &mut self,
        shared: &Shared<C>,
        out: &mut String,
    ) -> Result<(), RenderFailure> {
        let t = &shared.template;
        if let Some(old) = &mut self.mirror {
            // A template of top-level fields: rendered from the state into the spare
            // tree, whose strings are reused, and swapped with the mirror.
            if t.render_fields(&self.state, &mut self.texts, &mut self.spare) {
                if let Some(new) = &mut self.spare {
                    write_diff(old, new, out);
                    std::mem::swap(old, new);
                    return Ok(());
                }
            }
        }
        let node = self.render_live(shared)?;
        match &self.mirror {
            Some(old) => write_diff(old, &node, out),
            None => write_full(&node, out),
        }
        let old = self.mirror.replace(node);
        // Only a template rendered from fields reuses the tree sent before.
        self.spare = old.filter(|_| t.reads_fields());
        Ok(())
    }

    /// `meta` for the current errors.
    pub(crate) fn meta<'a>(&'a self, action: Option<&'a str>) -> Meta<'a> {
        Meta {
            success: self.errors.is_empty(),
            errors: &self.errors,
            action,
            capabilities: None,
        }
    }
}

/// The state's JSON object plus the reserved `lvt` key (errors and flash).
fn template_data<S: Serialize>(
    state: &S,
    errors: &BTreeMap<String, String>,
    flash: &BTreeMap<String, String>,
) -> Result<Map<String, Value>, RenderFailure> {
    let mut data = match serde_json::to_value(state) {
        Ok(Value::Object(m)) => m,
        Ok(Value::Null) => Map::new(),
        Ok(_) => return Err(render_error("the state must serialize to a JSON object")),
        Err(e) => return Err(render_error(&format!("the state failed to serialize: {e}"))),
    };
    data.insert(LVT_KEY.into(), lvt_value(errors, flash));
    Ok(data)
}

/// The reserved `lvt` key's value: `{"errors": {…}, "flash": {…}}`.
pub(crate) fn lvt_value(
    errors: &BTreeMap<String, String>,
    flash: &BTreeMap<String, String>,
) -> Value {
    let mut lvt = Map::new();
    lvt.insert("errors".into(), string_map(errors));
    lvt.insert("flash".into(), string_map(flash));
    Value::Object(lvt)
}

/// What the template sees, as [`template_data`] builds it: the state's fields plus
/// the reserved `lvt` key (which wins over a state field of that name, as there).
#[derive(Serialize)]
struct LiveData<'a, S> {
    #[serde(flatten)]
    state: &'a S,
    #[serde(rename = "lvt")]
    lvt: Lvt<'a>,
}

/// `lvt`: errors and flash.
#[derive(Serialize)]
struct Lvt<'a> {
    errors: &'a BTreeMap<String, String>,
    flash: &'a BTreeMap<String, String>,
}

/// Whether `state` surely serializes to a JSON object or `null` (what
/// [`template_data`] accepts), in which case [`LiveData`] serializes to the template
/// data. Looks at the outermost value only (fields and entries are not serialized).
/// `false` when unsure.
fn object_or_null<S: Serialize + ?Sized>(state: &S) -> bool {
    state.serialize(ShapeProbe).unwrap_or(false)
}

/// The serializer behind [`object_or_null`]: `Ok(true)` for an object or `null`.
struct ShapeProbe;

/// Accepts and ignores the fields or entries of a compound value.
struct Ignore(bool);

type Probed = Result<bool, serde_json::Error>;

impl serde::Serializer for ShapeProbe {
    type Ok = bool;
    type Error = serde_json::Error;
    type SerializeSeq = Ignore;
    type SerializeTuple = Ignore;
    type SerializeTupleStruct = Ignore;
    type SerializeTupleVariant = Ignore;
    type SerializeMap = Ignore;
    type SerializeStruct = Ignore;
    type SerializeStructVariant = Ignore;

    primitives_alike!(Probed => Ok(false));
    answer_alike!(Probed => Ok(false);
        serialize_str(&str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );

    fn serialize_none(self) -> Probed {
        Ok(true)
    }

    fn serialize_unit(self) -> Probed {
        Ok(true)
    }

    fn serialize_unit_struct(self, _: &'static str) -> Probed {
        Ok(true)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Probed {
        value.serialize(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Probed {
        // serde_json's private marker types are not plain values.
        if name.starts_with('$') {
            return Ok(false);
        }
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Probed {
        Ok(true)
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Ignore, serde_json::Error> {
        Ok(Ignore(false))
    }

    fn serialize_tuple(self, _: usize) -> Result<Ignore, serde_json::Error> {
        Ok(Ignore(false))
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Ignore, serde_json::Error> {
        Ok(Ignore(false))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Ignore, serde_json::Error> {
        Ok(Ignore(true))
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Ignore, serde_json::Error> {
        Ok(Ignore(true))
    }

    fn serialize_struct(self, name: &'static str, _: usize) -> Result<Ignore, serde_json::Error> {
        Ok(Ignore(!name.starts_with('$')))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Ignore, serde_json::Error> {
        Ok(Ignore(true))
    }
}

/// `Ignore` as the serializer of a compound value whose parts take `($($part),*)`.
macro_rules! ignore_parts {
    ($($trait:ident :: $method:ident($($part:ty),*)),* $(,)?) => {
        $(
            impl serde::ser::$trait for Ignore {
                type Ok = bool;
                type Error = serde_json::Error;
                fn $method<T: Serialize + ?Sized>(&mut self, $(_: $part,)* _: &T) -> Result<(), Self::Error> {
                    Ok(())
                }
                fn end(self) -> Probed {
                    Ok(self.0)
                }
            }
        )*
    };
}

ignore_parts!(
    SerializeSeq::serialize_element(),
    SerializeTuple::serialize_element(),
    SerializeTupleStruct::serialize_field(),
    SerializeTupleVariant::serialize_field(),
    SerializeStruct::serialize_field(&'static str),
    SerializeStructVariant::serialize_field(&'static str),
);

impl serde::ser::SerializeMap for Ignore {
    type Ok = bool;
    type Error = serde_json::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<(), Self::Error> {
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, _: &T) -> Result<(), Self::Error> {
        Ok(())
    }
    fn end(self) -> Probed {
        Ok(self.0)
    }
}

enum Call {
    Mount,
    Connect,
    Action(usize),
}

fn string_map(m: &BTreeMap<String, String>) -> Value {
    Value::Object(
        m.iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

/// A navigate parameter as a query string value.
fn query_value(v: Value) -> String {
    match v {
        Value::String(s) => s,
        Value::Null => String::new(),
        Value::Array(items) => items
            .into_iter()
            .last()
            .map(query_value)
            .unwrap_or_default(),
        other => other.to_string(),
    }
}

/// Why the live region could not be rendered.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RenderFailure {
    /// The template failed.
    #[error(transparent)]
    Template(#[from] RenderError),
    /// The state does not serialize to a JSON object.
    #[error("{0}")]
    State(String),
}

fn render_error(msg: &str) -> RenderFailure {
    RenderFailure::State(msg.to_string())
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn update_messages_are_json_with_meta_as_documented() {
        let errors = BTreeMap::from([
            ("name".to_owned(), "required \"here\"".to_owned()),
            ("a\nb".to_owned(), "<é>".to_owned()),
        ]);
        let none = BTreeMap::new();
        let cases = [
            (
                Meta {
                    success: true,
                    errors: &none,
                    action: Some("inc\"r"),
                    capabilities: None,
                },
                serde_json::json!({"success": true, "errors": {}, "action": "inc\"r"}),
            ),
            (
                Meta {
                    success: false,
                    errors: &errors,
                    action: None,
                    capabilities: Some(&["change", "x"]),
                },
                serde_json::json!({"success": false, "errors": errors, "capabilities": ["change", "x"]}),
            ),
        ];
        for (meta, expected) in cases {
            let msg = update_message(r#"{"0":"1"}"#, Some(&meta));
            let parsed: Value = serde_json::from_str(&msg).expect("the message is JSON");
            assert_eq!(
                parsed,
                serde_json::json!({"tree": {"0": "1"}, "meta": expected}),
                "{msg}"
            );
        }
        assert_eq!(update_message("{}", None), r#"{"tree":{}}"#);
    }

    #[derive(Serialize)]
    struct Plain {
        count: u32,
        rows: Vec<String>,
    }

    #[derive(Serialize)]
    struct Unit;

    #[derive(Serialize)]
    struct WithLvt {
        lvt: u8,
        a: bool,
    }

    #[derive(Serialize)]
    struct Wrapped(Plain);

    #[derive(Serialize)]
    enum Variant {
        Struct { x: u8 },
        Newtype(Plain),
        Tuple(u8, u8),
        Unit,
    }

    /// The in-place template data is the plain path's, or both fail.
    fn same<S: Serialize>(state: &S) {
        let errors = BTreeMap::from([("name".to_string(), "required".to_string())]);
        let flash = BTreeMap::from([("ok".to_string(), "saved".to_string())]);
        let live = LiveData {
            state,
            lvt: Lvt {
                errors: &errors,
                flash: &flash,
            },
        };
        let plain = template_data(state, &errors, &flash).map(Value::Object);
        let mut cache = RenderCache::new();
        if !object_or_null(state) {
            // The live path renders through the plain path.
            return;
        }
        match (plain, cache.update_data(&live)) {
            (Ok(p), Ok(())) => assert_eq!(cache.data(), &p),
            (Err(_), Err(_)) => {}
            (p, l) => panic!("plain {:?}, in place {:?}", p.is_ok(), l.is_ok()),
        }
    }

    #[test]
    fn live_data_is_the_template_data() {
        let plain = || Plain {
            count: 3,
            rows: vec!["a".into()],
        };
        same(&plain());
        same(&Unit);
        same(&());
        same(&WithLvt { lvt: 1, a: true });
        same(&Wrapped(plain()));
        same(&Some(plain()));
        same(&Option::<Plain>::None);
        same(&Variant::Struct { x: 1 });
        same(&Variant::Newtype(plain()));
        same(&Variant::Tuple(1, 2));
        same(&Variant::Unit);
        same(&HashMap::from([("k", 1)]));
        same(&HashMap::from([(1, 1)]));
        same(&vec![1, 2]);
        same(&"text");
        same(&serde_json::json!({"a": [1, {"b": null}]}));
        assert!(object_or_null(&plain()));
        assert!(object_or_null(&()));
        assert!(!object_or_null(&Variant::Unit));
        assert!(!object_or_null(&vec![1]));
        assert!(!object_or_null(&Some("text")));
    }
}
