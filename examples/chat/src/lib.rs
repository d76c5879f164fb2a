//! Chat: a shared, bounded message log; each connection posts under its own name.
//!
//! - The log lives on the controller (one per server) behind a mutex, as a ring buffer
//!   of the last [`HISTORY`] messages; each connection's state holds a snapshot.
//! - Mount subscribes every connection to [`TOPIC`] and snapshots the log, so a late
//!   joiner sees the history.
//! - `send` appends, snapshots for its own tab and publishes `NEW_MESSAGE`; the other
//!   connections run it and snapshot again.
//! - `username` is per connection and not `#[persist]`ed: two tabs of one browser can
//!   chat as two people.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Mutex;

use livetemplate::prelude::*;
use livetemplate::{App, LiveHandler, Template};

/// How many messages the room keeps (older ones are dropped).
pub const HISTORY: usize = 50;

/// The room's topic, admitted by the handler's ACL.
pub const TOPIC: &str = "chat/lobby";

const TEMPLATE: &str = r#"<article>
  <h3>Chat</h3>
  {{#if username}}
  <p><small>Posting as <strong>{{username}}</strong></small></p>
  <div class="messages" lvt-fx:scroll="bottom-sticky">
    {{#each messages}}
    <p data-key="{{id}}"><strong>{{user}}:</strong> {{text}}</p>
    {{else}}
    <p><small><em>No messages yet: send one to every connected peer.</em></small></p>
    {{/each}}
  </div>
  <form method="POST">
    <fieldset role="group">
      <input name="text" placeholder="Type a message…" aria-label="Message" required>
      <button name="send">Send</button>
    </fieldset>
  </form>
  {{else}}
  <form method="POST">
    <fieldset role="group">
      <input name="username" placeholder="Pick a name…" aria-label="Username" required>
      <button name="join">Join</button>
    </fieldset>
  </form>
  <p><small>{{lvt.errors.username}}</small></p>
  {{/if}}
</article>"#;

/// One message of the log.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Message {
    id: u64,
    user: String,
    text: String,
}

/// One connection: its name and its copy of the log.
#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
pub struct ChatState {
    username: String,
    messages: Vec<Message>,
}

#[derive(Default)]
struct Log {
    next_id: u64,
    messages: VecDeque<Message>,
}

/// The room: the shared log.
pub struct Chat {
    log: Mutex<Log>,
    history: usize,
}

impl Chat {
    /// A room keeping the last `history` messages (at least one).
    pub fn new(history: usize) -> Chat {
        Chat {
            log: Mutex::new(Log::default()),
            history: history.max(1),
        }
    }

    fn snapshot(&self) -> Vec<Message> {
        let log = self.log.lock().unwrap_or_else(|e| e.into_inner());
        log.messages.iter().cloned().collect()
    }
}

#[controller(state = ChatState)]
impl Chat {
    #[mount]
    fn mount(&self, state: &mut ChatState, ctx: &mut Context) -> Result<()> {
        ctx.subscribe(TOPIC)?;
        state.messages = self.snapshot();
        Ok(())
    }

    #[action]
    fn join(&self, state: &mut ChatState, ctx: &Context) -> Result<()> {
        let name = ctx.get_str("username").unwrap_or_default();
        let name = name.trim();
        if name.is_empty() {
            return Err(FieldError::new("username", "Pick a name").into());
        }
        state.username = name.chars().take(32).collect();
        Ok(())
    }

    #[action]
    fn send(&self, state: &mut ChatState, ctx: &mut Context) -> Result<()> {
        let text = ctx.get_str("text").unwrap_or_default();
        let text = text.trim();
        if state.username.is_empty() || text.is_empty() {
            return Ok(());
        }
        {
            let mut log = self.log.lock().unwrap_or_else(|e| e.into_inner());
            log.next_id += 1;
            let message = Message {
                id: log.next_id,
                user: state.username.clone(),
                text: text.chars().take(500).collect(),
            };
            log.messages.push_back(message);
            while log.messages.len() > self.history {
                log.messages.pop_front();
            }
            state.messages = log.messages.iter().cloned().collect();
        }
        ctx.publish(TOPIC, Self::NEW_MESSAGE, ())
    }

    /// What the other connections run: reload the log.
    #[action(internal)]
    fn new_message(&self, state: &mut ChatState) {
        state.messages = self.snapshot();
    }
}

/// The page, keeping the last `history` messages.
///
/// # Errors
///
/// The template does not compile.
pub fn handler(
    history: usize,
) -> Result<LiveHandler<Chat>, Box<dyn std::error::Error + Send + Sync>> {
    let template = Template::builder("chat", TEMPLATE).build()?;
    Ok(LiveHandler::new(Chat::new(history), template)
        .title("Chat")
        .topic_acl(|req| req.topic == TOPIC))
}

/// The app: the page at `/` keeping [`HISTORY`] messages; with `client_dir` (an
/// unpacked `@livetemplate/client` 0.25.1 package) the browser client is served from it
/// at `/_lvt`.
///
/// # Errors
///
/// The template does not compile.
pub fn app(client_dir: Option<PathBuf>) -> Result<App, Box<dyn std::error::Error + Send + Sync>> {
    let mut handler = handler(HISTORY)?;
    let mut app = App::new();
    if let Some(dir) = client_dir {
        handler = handler.client_assets("/_lvt");
        app = app.assets("/_lvt", dir);
    }
    Ok(app.page("/", handler))
}
