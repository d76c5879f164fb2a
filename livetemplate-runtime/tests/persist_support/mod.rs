//! Shared pieces of the persistence tests: a form controller whose state persists
//! `counter`, `notes` and `tags` (not `draft` and `kind`), a spy store, and helpers to
//! read pages and frames.
#![allow(dead_code)]

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use bytes::Bytes;
use livetemplate_runtime::controller::{ActionKind, ActionSpec, BoxFuture, Controller, LiveState};
use livetemplate_runtime::store::{MemoryStore, SessionStore, StoreError};
use livetemplate_runtime::transport::LiveHandler;
use livetemplate_runtime::{Context, Error, FieldError, Template};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::protocol_support::{connect, recv, request, Ws};

/// `counter`, `notes` and `tags` are persisted; `draft` and `kind` are not.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Form {
    pub counter: i64,
    pub notes: String,
    pub tags: Option<Vec<String>>,
    pub draft: String,
    pub kind: String,
}

/// Hand-written like `#[derive(LiveState)]` generates it: absent keys keep their field,
/// `null` only sets what accepts it, a wrong type restores nothing.
impl LiveState for Form {
    const PERSISTED: &'static [&'static str] = &["counter", "notes", "tags"];

    fn save_persisted(&self) -> Result<Option<Vec<u8>>, serde_json::Error> {
        serde_json::to_vec(
            &json!({"counter": self.counter, "notes": self.notes, "tags": self.tags}),
        )
        .map(Some)
    }

    fn restore_persisted(&mut self, bytes: &[u8]) -> Result<(), serde_json::Error> {
        let mut o: Map<String, Value> = serde_json::from_slice(bytes)?;
        let counter = match o.remove("counter") {
            None | Some(Value::Null) => None,
            Some(v) => Some(serde_json::from_value::<i64>(v)?),
        };
        let notes = match o.remove("notes") {
            None | Some(Value::Null) => None,
            Some(v) => Some(serde_json::from_value::<String>(v)?),
        };
        let tags = match o.remove("tags") {
            None => None,
            Some(v) => Some(serde_json::from_value::<Option<Vec<String>>>(v)?),
        };
        if let Some(c) = counter {
            self.counter = c;
        }
        if let Some(n) = notes {
            self.notes = n;
        }
        if let Some(t) = tags {
            self.tags = t;
        }
        Ok(())
    }
}

pub struct FormController;

const fn spec(
    name: &'static str,
    aliases: &'static [&'static str],
    kind: ActionKind,
) -> ActionSpec {
    ActionSpec {
        name,
        aliases,
        kind,
    }
}

impl Controller for FormController {
    type State = Form;
    const ACTIONS: &'static [ActionSpec] = &[
        spec("save", &["save"], ActionKind::Client),
        spec("increment", &["increment"], ActionKind::Client),
        spec("fail", &["fail"], ActionKind::Client),
        spec("type_draft", &["type_draft"], ActionKind::Client),
        spec("tick", &["tick"], ActionKind::Internal),
    ];

    fn dispatch<'a>(
        &'a self,
        index: usize,
        state: &'a mut Form,
        ctx: &'a mut Context,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            match index {
                0 => {
                    if let Some(c) = ctx.get_i64("counter") {
                        state.counter = c;
                    }
                    if let Some(n) = ctx.get_str("notes") {
                        state.notes = n;
                    }
                    if let Some(d) = ctx.get_str("draft") {
                        state.draft = d;
                    }
                }
                1 => state.counter += 1,
                2 => {
                    state.counter = 999;
                    state.notes = "failed".into();
                    return Err(FieldError::new("counter", "refused").into());
                }
                3 => state.draft = ctx.get_str("draft").unwrap_or_default(),
                _ => state.counter += 100,
            }
            Ok(())
        })
    }

    fn mount<'a>(
        &'a self,
        state: &'a mut Form,
        ctx: &'a mut Context,
    ) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            state.kind = format!("{:?}", ctx.connect_kind());
            Ok(())
        })
    }

    fn on_connect<'a>(
        &'a self,
        state: &'a mut Form,
        ctx: &'a mut Context,
    ) -> BoxFuture<'a, Result<(), Error>> {
        // Changes made here are never saved by themselves.
        if ctx.query().contains_key("on_connect") {
            state.notes = "changed by on_connect".into();
        }
        Box::pin(async { Ok(()) })
    }
}

/// Slots: 0 counter, 1 notes, 2 draft, 3 kind, 4 tags present, 5 counter error.
pub const TEMPLATE: &str = "<p>counter {{counter}}</p><p>notes {{notes}}</p><p>draft {{draft}}</p><p>kind {{kind}}</p><p>tags {{#if tags}}set{{else}}none{{/if}}</p><p>{{lvt.errors.counter}}</p><form method=\"POST\"><button name=\"increment\">+</button></form>";

pub fn initial() -> Form {
    Form {
        counter: 0,
        notes: "initial notes".into(),
        tags: Some(vec!["a".into()]),
        draft: "initial draft".into(),
        kind: String::new(),
    }
}

pub fn handler() -> LiveHandler<FormController> {
    let template = Template::builder("form", TEMPLATE)
        .build()
        .expect("template");
    LiveHandler::with_state(FormController, template, initial()).rate_limit(0.0, 0)
}

/// A store that counts its calls and can be told to fail.
#[derive(Clone, Default)]
pub struct Spy {
    pub inner: MemoryStore,
    pub gets: Arc<AtomicUsize>,
    pub sets: Arc<AtomicUsize>,
    pub others: Arc<AtomicUsize>,
    /// Fail this many of the next `get`s.
    pub fail_gets: Arc<AtomicUsize>,
    /// Fail every `set` while true.
    pub fail_sets: Arc<AtomicBool>,
}

impl Spy {
    pub fn calls(&self) -> usize {
        self.gets.load(Ordering::SeqCst)
            + self.sets.load(Ordering::SeqCst)
            + self.others.load(Ordering::SeqCst)
    }
    pub fn sets(&self) -> usize {
        self.sets.load(Ordering::SeqCst)
    }
    pub async fn record(&self, key: &str) -> Option<Value> {
        let bytes = self.inner.get(key).await.expect("memory get")?;
        Some(serde_json::from_slice(&bytes).expect("stored JSON"))
    }
}

impl SessionStore for Spy {
    fn get<'a>(&'a self, group: &'a str) -> BoxFuture<'a, Result<Option<Bytes>, StoreError>> {
        self.gets.fetch_add(1, Ordering::SeqCst);
        let fail = self
            .fail_gets
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok();
        if fail {
            return Box::pin(async { Err(StoreError::backend("store down (test)")) });
        }
        self.inner.get(group)
    }
    fn set<'a>(&'a self, group: &'a str, value: Bytes) -> BoxFuture<'a, Result<(), StoreError>> {
        self.sets.fetch_add(1, Ordering::SeqCst);
        if self.fail_sets.load(Ordering::SeqCst) {
            return Box::pin(async { Err(StoreError::backend("store down (test)")) });
        }
        self.inner.set(group, value)
    }
    fn delete<'a>(&'a self, group: &'a str) -> BoxFuture<'a, Result<(), StoreError>> {
        self.others.fetch_add(1, Ordering::SeqCst);
        self.inner.delete(group)
    }
    fn touch<'a>(&'a self, group: &'a str) -> BoxFuture<'a, Result<bool, StoreError>> {
        self.others.fetch_add(1, Ordering::SeqCst);
        self.inner.touch(group)
    }
    fn list(&self) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        self.others.fetch_add(1, Ordering::SeqCst);
        self.inner.list()
    }
}

/// The dynamic slots of a full-tree frame (`{"tree":{"s":…,"0":…}}`).
pub fn slots(frame: &str) -> Vec<String> {
    let v: Value = serde_json::from_str(frame).expect("JSON frame");
    let tree = v["tree"].as_object().expect("tree object");
    (0..6)
        .map(|i| tree[&i.to_string()].as_str().unwrap_or("").to_string())
        .collect()
}

/// The value of slot `i` in a diff frame.
pub fn slot(frame: &str, i: usize) -> Option<String> {
    let v: Value = serde_json::from_str(frame).expect("JSON frame");
    v["tree"][i.to_string()].as_str().map(str::to_string)
}

pub async fn open(addr: std::net::SocketAddr, path: &str, cookie: &str) -> (Ws, Vec<String>) {
    let mut ws = connect(addr, path, cookie).await;
    let first = recv(&mut ws).await;
    let s = slots(&first);
    (ws, s)
}

pub async fn page(addr: std::net::SocketAddr, path: &str, cookie: &str) -> String {
    let r = request(
        addr,
        "GET",
        path,
        &[("Cookie", cookie), ("Accept", "text/html")],
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{r:?}");
    r.body
}

pub fn group_of(cookie: &str) -> &str {
    cookie.trim_start_matches("livetemplate-id=")
}

pub const SAVE: &str =
    r#"{"action":"save","data":{"counter":5,"notes":"remember me","draft":"typed"}}"#;
