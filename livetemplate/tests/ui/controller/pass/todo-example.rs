//! The example from the documentation: `Form<T>` and a hand-written `FromContext` type.
#![deny(warnings)]

use livetemplate::prelude::*;
use livetemplate::{Controller, FromContext};

#[derive(Clone, Serialize, Deserialize)]
struct Todo {
    title: String,
    done: bool,
}

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct TodoState {
    #[persist]
    filter: String,
    items: Vec<Todo>,
}

#[derive(Deserialize)]
struct SaveForm {
    title: String,
}

/// The signed-in user's name, or a general error.
struct UserName(String);

impl FromContext for UserName {
    fn from_context(ctx: &Context) -> Result<Self> {
        let name = ctx.user_id().ok_or_else(|| Error::msg("sign in first"))?;
        Ok(UserName(name.to_string()))
    }
}

struct Db;

impl Db {
    async fn load(&self) -> Vec<Todo> {
        Vec::new()
    }
}

struct TodoController {
    db: Db,
}

#[controller(state = TodoState)]
impl TodoController {
    #[mount]
    async fn mount(&self, state: &mut TodoState, ctx: &mut Context) -> Result<()> {
        state.items = self.db.load().await;
        if let Some(filter) = ctx.query().get("filter") {
            state.filter = filter.clone();
        }
        Ok(())
    }

    #[action]
    async fn add(&self, state: &mut TodoState, ctx: &mut Context) -> Result<()> {
        let title = ctx.get_str("title").unwrap_or_default();
        state.items.push(Todo { title, done: false });
        Ok(())
    }

    #[action(name = "clear-done")]
    fn clear_done(&self, state: &mut TodoState) -> Result<()> {
        state.items.retain(|t| !t.done);
        Ok(())
    }

    #[action]
    async fn save(
        &self,
        state: &mut TodoState,
        form: Form<SaveForm>,
        ctx: &mut Context,
    ) -> Result<()> {
        state.items.push(Todo {
            title: form.into_inner().title,
            done: false,
        });
        ctx.set_flash("saved", "saved");
        Ok(())
    }

    #[action]
    fn claim(&self, user: UserName, state: &mut TodoState) {
        state.filter = user.0;
    }
}

fn assert_controller<C: Controller>() {}

fn main() {
    assert_controller::<TodoController>();
    assert_eq!(TodoController::ACTIONS.len(), 4);
}
