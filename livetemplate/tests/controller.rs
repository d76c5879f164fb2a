//! Behaviour of `#[controller]` and `#[derive(LiveState)]` as the runtime sees them:
//! the dispatch table, parameter extraction, return values, hooks and persistence.

use std::sync::Mutex;

use livetemplate::__private::resolve_action;
use livetemplate::prelude::*;
use livetemplate::{ActionKind, Controller, Disconnect, FromContext};
use serde_json::json;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, LiveState)]
struct TodoState {
    #[persist]
    filter: String,
    #[persist]
    page: Option<u32>,
    items: Vec<String>,
    log: Vec<String>,
}

/// A `FromContext` parameter: the `title` field, required.
struct Title(String);

impl FromContext for Title {
    fn from_context(ctx: &Context) -> Result<Self> {
        match ctx.get_str("title") {
            Some(title) if !title.is_empty() => Ok(Title(title)),
            _ => Err(FieldError::new("title", "a title is required").into()),
        }
    }
}

#[derive(Deserialize)]
struct RenameForm {
    title: String,
    copies: u8,
}

#[derive(Default)]
struct TodoController {
    disconnects: Mutex<Vec<String>>,
}

#[derive(Debug)]
struct StorageDown;

impl std::fmt::Display for StorageDown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("storage is down")
    }
}

impl std::error::Error for StorageDown {}

#[controller(state = TodoState)]
impl TodoController {
    #[mount]
    async fn mount(&self, state: &mut TodoState, ctx: &mut Context) -> Result<()> {
        state.items = vec!["mounted".into()];
        if ctx.get_bool("fail_mount") == Some(true) {
            return Err(Error::msg("mount failed"));
        }
        Ok(())
    }

    #[on_connect]
    fn connected(&self, ctx: &Context, state: &mut TodoState) {
        state.log.push(format!("connected {}", ctx.group_id()));
    }

    #[on_disconnect]
    async fn gone(&self, info: &Disconnect, state: &TodoState) {
        let line = format!(
            "{} left with {} items",
            info.connection_id,
            state.items.len()
        );
        self.disconnects.lock().unwrap().push(line);
    }

    /// Sync, no context, no result.
    #[action]
    fn clear_done(&self, state: &mut TodoState) {
        state.items.clear();
        state.log.push("clear_done".into());
    }

    /// Async, extraction in the middle, result.
    #[action(alias = "new")]
    async fn add(&self, state: &mut TodoState, title: Title, ctx: &Context) -> Result<()> {
        state.items.push(title.0);
        state
            .log
            .push(format!("add via {}", ctx.action().unwrap_or("?")));
        Ok(())
    }

    /// Primary name replaced; method spellings stay.
    #[action(name = "set-filter")]
    fn set_filter(&self, ctx: &Context, state: &mut TodoState) -> Result<()> {
        state.filter = ctx.get_str("filter").unwrap_or_default();
        Ok(())
    }

    /// A user error type through `Result<(), E: Into<Error>>`.
    #[action]
    fn save(&self, _state: &TodoState) -> std::result::Result<(), StorageDown> {
        Err(StorageDown)
    }

    /// The runtime's lenient `Form<T>`.
    #[action]
    fn rename(&self, form: Form<RenameForm>, state: &mut TodoState) {
        state.items = vec![form.0.title; usize::from(form.0.copies)];
    }

    /// Only peers and the server may run it.
    #[action(internal)]
    async fn refresh(&self, state: &mut TodoState) {
        state.log.push("refresh".into());
    }

    #[action]
    fn change(&self, state: &mut TodoState, ctx: &Context) {
        state.filter = ctx.get_str("filter").unwrap_or_default();
    }

    /// Not an action: not in the table.
    fn helper(&self) -> usize {
        self.disconnects.lock().unwrap().len()
    }
}

async fn run(
    controller: &TodoController,
    state: &mut TodoState,
    name: &str,
    data: serde_json::Value,
) -> Result<()> {
    let index = resolve_action(TodoController::ACTIONS, name)
        .unwrap_or_else(|| panic!("`{name}` does not resolve"));
    let mut ctx = Context::for_test(name, data);
    controller.dispatch(index, state, &mut ctx).await
}

#[test]
fn table_lists_actions_in_order_without_hooks_or_helpers() {
    let names: Vec<&str> = TodoController::ACTIONS.iter().map(|a| a.name).collect();
    assert_eq!(
        names,
        [
            "clear_done",
            "add",
            "set-filter",
            "save",
            "rename",
            "refresh",
            "change"
        ]
    );
    for hook in ["mount", "connected", "gone", "helper"] {
        assert_eq!(
            resolve_action(TodoController::ACTIONS, hook),
            None,
            "{hook}"
        );
    }
    const { assert!(TodoController::HAS_CHANGE) };
}

#[test]
fn alias_rule() {
    let spec = |name: &str| {
        TodoController::ACTIONS
            .iter()
            .find(|a| a.name == name)
            .expect(name)
            .aliases
            .to_vec()
    };
    assert_eq!(
        spec("clear_done"),
        ["clear_done", "clear-done", "clearDone", "ClearDone"]
    );
    assert_eq!(spec("add"), ["add", "Add", "new"]);
    assert_eq!(
        spec("set-filter"),
        ["set-filter", "set_filter", "setFilter", "SetFilter"]
    );
    // Exact match only.
    for miss in ["cleardone", "CLEAR_DONE", "Clear-Done", "ADD", ""] {
        assert_eq!(
            resolve_action(TodoController::ACTIONS, miss),
            None,
            "{miss}"
        );
    }
}

#[tokio::test]
async fn dispatch_by_every_alias() {
    let controller = TodoController::default();
    for alias in ["clear_done", "clear-done", "clearDone", "ClearDone"] {
        let mut state = TodoState {
            items: vec!["x".into()],
            ..TodoState::default()
        };
        run(&controller, &mut state, alias, json!({}))
            .await
            .unwrap();
        assert!(state.items.is_empty(), "{alias}");
        assert_eq!(state.log, ["clear_done"], "{alias}");
    }
    for alias in ["add", "Add", "new"] {
        let mut state = TodoState::default();
        run(&controller, &mut state, alias, json!({"title": "milk"}))
            .await
            .unwrap();
        assert_eq!(state.items, ["milk"], "{alias}");
        assert_eq!(state.log, [format!("add via {alias}")]);
    }
    for alias in ["set-filter", "set_filter", "setFilter", "SetFilter"] {
        let mut state = TodoState::default();
        run(&controller, &mut state, alias, json!({"filter": "done"}))
            .await
            .unwrap();
        assert_eq!(state.filter, "done", "{alias}");
    }
}

#[tokio::test]
async fn extraction_error_fails_the_action_before_it_runs() {
    let controller = TodoController::default();
    let mut state = TodoState::default();
    let err = run(&controller, &mut state, "add", json!({"title": ""}))
        .await
        .unwrap_err();
    assert!(err.is_field_error());
    assert_eq!(
        err.to_map().get("title").map(String::as_str),
        Some("a title is required")
    );
    assert_eq!(state, TodoState::default(), "the method did not run");
}

#[tokio::test]
async fn form_extraction() {
    let controller = TodoController::default();
    let mut state = TodoState::default();
    run(
        &controller,
        &mut state,
        "rename",
        json!({"title": "a", "copies": "2"}),
    )
    .await
    .unwrap();
    assert_eq!(state.items, ["a", "a"]);

    let err = run(&controller, &mut state, "rename", json!({"copies": "many"}))
        .await
        .unwrap_err();
    let errors = err.to_map();
    assert!(
        errors.contains_key("title") && errors.contains_key("copies"),
        "{errors:?}"
    );
    assert_eq!(state.items, ["a", "a"], "the method did not run");
}

#[tokio::test]
async fn error_return_is_a_general_error() {
    let controller = TodoController::default();
    let mut state = TodoState::default();
    let err = run(&controller, &mut state, "save", json!({}))
        .await
        .unwrap_err();
    assert!(!err.is_field_error());
    assert_eq!(
        err.to_map().get("_general").map(String::as_str),
        Some("storage is down")
    );
}

#[tokio::test]
async fn internal_kind_and_async_action() {
    let index = resolve_action(TodoController::ACTIONS, "refresh").unwrap();
    assert_eq!(TodoController::ACTIONS[index].kind, ActionKind::Internal);
    let clear = resolve_action(TodoController::ACTIONS, "clear_done").unwrap();
    assert_eq!(TodoController::ACTIONS[clear].kind, ActionKind::Client);
    let mut state = TodoState::default();
    run(&TodoController::default(), &mut state, "Refresh", json!({}))
        .await
        .unwrap();
    assert_eq!(state.log, ["refresh"]);
}

#[test]
fn plain_fn_actions_run_at_once_async_ones_are_awaited() {
    let controller = TodoController::default();
    let now = |name: &str| {
        let index = resolve_action(TodoController::ACTIONS, name).expect("resolves");
        let mut ctx = Context::for_test(name, json!({}));
        let mut state = TodoState::default();
        controller
            .dispatch_now(index, &mut state, &mut ctx)
            .map(|r| r.map_err(|e| e.to_string()))
    };
    assert_eq!(now("clear_done"), Some(Ok(())));
    assert!(matches!(now("save"), Some(Err(_))), "{:?}", now("save"));
    assert_eq!(now("add"), None);
    assert_eq!(now("refresh"), None);
    let mut ctx = Context::for_test("x", json!({}));
    assert!(controller
        .dispatch_now(99, &mut TodoState::default(), &mut ctx)
        .is_none());
}

#[tokio::test]
async fn out_of_range_index_is_an_error() {
    let mut ctx = Context::for_test("x", json!({}));
    let mut state = TodoState::default();
    let result = TodoController::default()
        .dispatch(99, &mut state, &mut ctx)
        .await;
    assert!(result.is_err());
}

#[tokio::test]
async fn hooks() {
    let controller = TodoController::default();
    let mut state = TodoState::default();

    let mut ctx = Context::for_test("", json!({}));
    controller.mount(&mut state, &mut ctx).await.unwrap();
    assert_eq!(state.items, ["mounted"]);

    let mut failing = Context::for_test("", json!({"fail_mount": true}));
    let err = controller
        .mount(&mut state, &mut failing)
        .await
        .unwrap_err();
    assert_eq!(err.to_string(), "mount failed");

    controller.on_connect(&mut state, &mut ctx).await.unwrap();
    assert_eq!(state.log, ["connected test-group"]);

    let info = Disconnect {
        connection_id: 7,
        group_id: "g".into(),
        user_id: None,
        publisher: livetemplate::Broker::new().publisher(),
    };
    controller.on_disconnect(&state, &info).await;
    assert_eq!(
        *controller.disconnects.lock().unwrap(),
        ["7 left with 1 items"]
    );
    assert_eq!(controller.helper(), 1);
}

/// A controller without hooks keeps the trait's defaults.
struct Plain;

#[controller(state = Empty)]
impl Plain {
    #[action]
    fn increment(&self) {}
}

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct Empty {
    count: u32,
}

#[tokio::test]
async fn default_hooks_and_no_change_capability() {
    let mut state = Empty::default();
    let mut ctx = Context::for_test("", json!({}));
    Plain.mount(&mut state, &mut ctx).await.unwrap();
    Plain.on_connect(&mut state, &mut ctx).await.unwrap();
    const { assert!(!Plain::HAS_CHANGE) };
    assert_eq!(Plain::ACTIONS[0].aliases, ["increment", "Increment"]);
}

#[test]
fn persist_round_trip() {
    assert_eq!(TodoState::PERSISTED, ["filter", "page"]);
    let state = TodoState {
        filter: "active".into(),
        page: Some(3),
        items: vec!["not persisted".into()],
        log: vec![],
    };
    let bytes = state.save_persisted().unwrap().expect("has persist fields");
    let object: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(object, json!({"filter": "active", "page": 3}));

    let mut restored = TodoState::default();
    restored.restore_persisted(&bytes).unwrap();
    assert_eq!(restored.filter, "active");
    assert_eq!(restored.page, Some(3));
    assert!(
        restored.items.is_empty(),
        "ephemeral fields are not restored"
    );
}

#[test]
fn restore_tolerates_missing_extra_and_null() {
    let mut state = TodoState {
        filter: "keep".into(),
        page: Some(1),
        ..TodoState::default()
    };
    // Missing `filter`, unknown `other`: filter kept, page set.
    state
        .restore_persisted(br#"{"page": 2, "other": true}"#)
        .unwrap();
    assert_eq!((state.filter.as_str(), state.page), ("keep", Some(2)));
    // `null` for `page` (an Option) clears it and leaves `filter` alone.
    state
        .restore_persisted(br#"{"filter": "new", "page": null}"#)
        .unwrap();
    assert_eq!((state.filter.as_str(), state.page), ("new", None));
    // `null` for `filter` (a String cannot be null) leaves it, and does not wipe `page`.
    state.page = Some(5);
    state
        .restore_persisted(br#"{"filter": null, "page": 6}"#)
        .unwrap();
    assert_eq!((state.filter.as_str(), state.page), ("new", Some(6)));
}

#[test]
fn restore_errors_leave_the_state_untouched() {
    let mut state = TodoState {
        filter: "keep".into(),
        page: Some(1),
        ..TodoState::default()
    };
    let err = state
        .restore_persisted(br#"{"filter": "x", "page": "not a number"}"#)
        .unwrap_err();
    assert!(err.to_string().contains("persisted field `page`"), "{err}");
    assert_eq!((state.filter.as_str(), state.page), ("keep", Some(1)));
    assert!(state.restore_persisted(b"[]").is_err());
    assert!(state.restore_persisted(b"not json").is_err());
}

#[test]
fn no_persist_fields_never_touch_the_store() {
    assert!(Empty::PERSISTED.is_empty());
    let mut state = Empty { count: 4 };
    assert!(state.save_persisted().unwrap().is_none());
    state.restore_persisted(br#"{"count": 9}"#).unwrap();
    assert_eq!(state.count, 4);
}

/// Raw identifiers persist under their plain name; generics pass through.
#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct Generic<T> {
    #[persist]
    r#type: T,
}

#[test]
fn raw_identifier_and_generic_state() {
    assert_eq!(<Generic<u8> as LiveState>::PERSISTED, ["type"]);
    let bytes = Generic { r#type: 7u8 }.save_persisted().unwrap().unwrap();
    assert_eq!(bytes, br#"{"type":7}"#);
}
