//! Every parameter form and return type, sync and async, all hooks.
#![deny(warnings)]

use livetemplate::prelude::*;
use livetemplate::{Controller, Disconnect};

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct State {
    count: i64,
}

#[derive(Debug)]
struct MyError;

impl std::fmt::Display for MyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("my error")
    }
}

impl std::error::Error for MyError {}

struct Counter;

#[controller(state = State)]
impl Counter {
    #[mount]
    fn mount(&self, state: &mut State) {
        state.count = 0;
    }

    #[on_connect]
    async fn connected(&self, ctx: &Context) -> Result<()> {
        let _ = ctx.connection_id();
        Ok(())
    }

    #[on_disconnect]
    fn left(&self) {}

    #[action]
    fn nothing(&self) {}

    #[action]
    async fn read_only(&self, state: &State, ctx: &Context) {
        let _ = (state.count, ctx.action());
    }

    #[action]
    pub(crate) fn custom_error(
        &self,
        ctx: &mut Context,
        state: &mut State,
    ) -> std::result::Result<(), MyError> {
        ctx.set_flash("k", "v");
        state.count += 1;
        Err(MyError)
    }

    #[action]
    fn field_error(&self) -> std::result::Result<(), FieldError> {
        Err(FieldError::new("name", "required"))
    }

    #[action(internal)]
    async fn tick(&self, state: &mut State) -> Result {
        state.count += 1;
        Ok(())
    }

    #[action]
    fn r#move(&self) {}

    fn not_an_action(&self) -> i64 {
        1
    }
}

struct Watcher;

#[controller(state = State)]
impl Watcher {
    #[on_disconnect]
    async fn left(&self, info: &Disconnect, state: &State) {
        let _ = (info.connection_id, state.count);
    }
}

fn main() {
    assert_eq!(Counter::ACTIONS.len(), 6);
    assert_eq!(Counter::ACTIONS[5].aliases, ["move", "Move"]);
    assert_eq!(Counter.not_an_action(), 1);
    assert!(Watcher::ACTIONS.is_empty());
}
