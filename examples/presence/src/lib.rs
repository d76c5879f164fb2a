//! Presence: who is online, updated on join, on leave and when a tab closes.
//!
//! The controller keeps the online list keyed by connection id. `join` and `leave`
//! change it and publish `PRESENCE_CHANGED` to [`TOPIC`]; the disconnect hook removes
//! the connection that closed and publishes the same through `info.publisher` (it runs
//! after that connection's subscriptions are gone, so only those who remain hear it).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Mutex;

use livetemplate::prelude::*;
use livetemplate::{App, Disconnect, LiveHandler, Template};

/// The topic every connection subscribes to.
pub const TOPIC: &str = "presence/lobby";

const TEMPLATE: &str = r#"<article>
  <h3>Presence</h3>
  <p><strong>{{count}}</strong> online</p>
  <ul>
    {{#each online}}
    <li data-key="{{id}}">{{name}}</li>
    {{/each}}
  </ul>
  {{#if name}}
  <p>You are <strong>{{name}}</strong>.</p>
  <form method="POST"><button name="leave">Leave</button></form>
  {{else}}
  <form method="POST">
    <fieldset role="group">
      <input name="name" placeholder="Your name" aria-label="Name" required>
      <button name="join">Join</button>
    </fieldset>
  </form>
  <p><small>{{lvt.errors.name}}{{lvt.errors._general}}</small></p>
  {{/if}}
</article>"#;

/// Someone online: a connection and the name it joined with.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Visitor {
    id: u64,
    name: String,
}

/// One connection: its own name (if joined) and its copy of the list.
#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
pub struct PresenceState {
    name: String,
    online: Vec<Visitor>,
    count: usize,
}

/// The online list, by connection id.
#[derive(Default)]
pub struct Presence {
    online: Mutex<BTreeMap<u64, String>>,
}

impl Presence {
    fn load(&self, state: &mut PresenceState) {
        let online = self.online.lock().unwrap_or_else(|e| e.into_inner());
        state.online = online
            .iter()
            .map(|(id, name)| Visitor {
                id: *id,
                name: name.clone(),
            })
            .collect();
        state.count = online.len();
    }
}

#[controller(state = PresenceState)]
impl Presence {
    #[mount]
    fn mount(&self, state: &mut PresenceState, ctx: &mut Context) -> Result<()> {
        ctx.subscribe(TOPIC)?;
        self.load(state);
        Ok(())
    }

    #[action]
    fn join(&self, state: &mut PresenceState, ctx: &mut Context) -> Result<()> {
        let Some(connection) = ctx.connection_id() else {
            return Err(Error::msg("presence needs a live connection (JavaScript)"));
        };
        let name = ctx.get_str("name").unwrap_or_default();
        let name: String = name.trim().chars().take(32).collect();
        if name.is_empty() {
            return Err(FieldError::new("name", "Please enter a name").into());
        }
        self.online
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(connection, name.clone());
        state.name = name;
        self.load(state);
        ctx.publish(TOPIC, Self::PRESENCE_CHANGED, ())
    }

    #[action]
    fn leave(&self, state: &mut PresenceState, ctx: &mut Context) -> Result<()> {
        if let Some(connection) = ctx.connection_id() {
            self.online
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(&connection);
        }
        state.name.clear();
        self.load(state);
        ctx.publish(TOPIC, Self::PRESENCE_CHANGED, ())
    }

    /// What the others run: reload the list.
    #[action(internal)]
    fn presence_changed(&self, state: &mut PresenceState) {
        self.load(state);
    }

    /// A tab closed (or lost its connection): it is no longer online.
    #[on_disconnect]
    fn gone(&self, info: &Disconnect) {
        let was_online = self
            .online
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&info.connection_id)
            .is_some();
        if was_online {
            let _ = info.publisher.publish(TOPIC, Self::PRESENCE_CHANGED, ());
        }
    }
}

/// The page.
///
/// # Errors
///
/// The template does not compile.
pub fn handler() -> Result<LiveHandler<Presence>, Box<dyn std::error::Error + Send + Sync>> {
    let template = Template::builder("presence", TEMPLATE).build()?;
    Ok(LiveHandler::new(Presence::default(), template)
        .title("Presence")
        .topic_acl(|req| req.topic == TOPIC))
}

/// The app: the page at `/`; with `client_dir` (an unpacked `@livetemplate/client`
/// 0.25.1 package) the browser client is served from it at `/_lvt`.
///
/// # Errors
///
/// The template does not compile.
pub fn app(client_dir: Option<PathBuf>) -> Result<App, Box<dyn std::error::Error + Send + Sync>> {
    let mut handler = handler()?;
    let mut app = App::new();
    if let Some(dir) = client_dir {
        handler = handler.client_assets("/_lvt");
        app = app.assets("/_lvt", dir);
    }
    Ok(app.page("/", handler))
}
