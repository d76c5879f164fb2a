//! Chat: a shared, bounded message log; each connection posts under its own name.
//!
//! - The log lives on the controller (one per server) behind a mutex, as a ring buffer
//!   of the last [`HISTORY`] messages; each connection's state holds a snapshot.
//! - Mount subscribes every connection to [`TOPIC`] and snapshots the log, so a late
//!   joiner sees the history.
//! - `send` appends, snapshots for its own tab and publishes `NEW_MESSAGE`; the other
//!   connections run it and snapshot again.
//! - With `--redis` the log is a Redis list shared by every replica (trimmed to the same
//!   bound), and the publish reaches the connections of every replica.
//! - `username` is per connection and not `#[persist]`ed: two tabs of one browser can
//!   chat as two people.

use std::collections::VecDeque;
use std::sync::Mutex;

use example_support::{BoxError, Config, Redis};
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

/// Where the room's log lives.
enum Store {
    /// In this process.
    Memory(Mutex<Log>),
    /// In Redis, shared by every replica: the list `<prefix>chat:log` (JSON messages,
    /// oldest first) and the id counter `<prefix>chat:next-id`.
    Redis(Redis),
}

/// The room: the shared log.
pub struct Chat {
    store: Store,
    history: usize,
}

impl Chat {
    /// A room in this process keeping the last `history` messages (at least one).
    pub fn new(history: usize) -> Chat {
        Chat {
            store: Store::Memory(Mutex::new(Log::default())),
            history: history.max(1),
        }
    }

    /// A room in Redis keeping the last `history` messages (at least one), shared by
    /// every replica on that Redis and prefix.
    pub fn in_redis(redis: Redis, history: usize) -> Chat {
        Chat {
            store: Store::Redis(redis),
            history: history.max(1),
        }
    }

    /// The log, oldest first.
    async fn snapshot(&self) -> Result<Vec<Message>> {
        match &self.store {
            Store::Memory(log) => {
                let log = log.lock().unwrap_or_else(|e| e.into_inner());
                Ok(log.messages.iter().cloned().collect())
            }
            Store::Redis(r) => {
                let mut conn = r.connection().await.map_err(unavailable)?;
                let raw: Vec<String> = redis::cmd("LRANGE")
                    .arg(r.key("chat:log"))
                    .arg(0)
                    .arg(-1)
                    .query_async(&mut conn)
                    .await
                    .map_err(unavailable)?;
                Ok(parse_log(&raw))
            }
        }
    }

    /// Append a message by `user`; the log afterwards.
    async fn append(&self, user: &str, text: &str) -> Result<Vec<Message>> {
        match &self.store {
            Store::Memory(log) => {
                let mut log = log.lock().unwrap_or_else(|e| e.into_inner());
                log.next_id += 1;
                let message = Message {
                    id: log.next_id,
                    user: user.to_string(),
                    text: text.to_string(),
                };
                log.messages.push_back(message);
                while log.messages.len() > self.history {
                    log.messages.pop_front();
                }
                Ok(log.messages.iter().cloned().collect())
            }
            Store::Redis(r) => {
                let mut conn = r.connection().await.map_err(unavailable)?;
                let id: u64 = redis::cmd("INCR")
                    .arg(r.key("chat:next-id"))
                    .query_async(&mut conn)
                    .await
                    .map_err(unavailable)?;
                let message = Message {
                    id,
                    user: user.to_string(),
                    text: text.to_string(),
                };
                let json =
                    serde_json::to_string(&message).map_err(|e| Error::msg(e.to_string()))?;
                let key = r.key("chat:log");
                let keep = i64::try_from(self.history).unwrap_or(i64::MAX);
                let (raw,): (Vec<String>,) = redis::pipe()
                    .atomic()
                    .cmd("RPUSH")
                    .arg(&key)
                    .arg(json)
                    .ignore()
                    .cmd("LTRIM")
                    .arg(&key)
                    .arg(-keep)
                    .arg(-1)
                    .ignore()
                    .cmd("LRANGE")
                    .arg(&key)
                    .arg(0)
                    .arg(-1)
                    .query_async(&mut conn)
                    .await
                    .map_err(unavailable)?;
                Ok(parse_log(&raw))
            }
        }
    }
}

fn parse_log(raw: &[String]) -> Vec<Message> {
    raw.iter()
        .filter_map(|m| serde_json::from_str(m).ok())
        .collect()
}

fn unavailable(e: redis::RedisError) -> Error {
    Error::msg(format!("the chat log is unavailable: {e}"))
}

#[controller(state = ChatState)]
impl Chat {
    #[mount]
    async fn mount(&self, state: &mut ChatState, ctx: &mut Context) -> Result<()> {
        ctx.subscribe(TOPIC)?;
        state.messages = self.snapshot().await?;
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
    async fn send(&self, state: &mut ChatState, ctx: &mut Context) -> Result<()> {
        let text = ctx.get_str("text").unwrap_or_default();
        let text = text.trim();
        if state.username.is_empty() || text.is_empty() {
            return Ok(());
        }
        let text: String = text.chars().take(500).collect();
        state.messages = self.append(&state.username, &text).await?;
        ctx.publish(TOPIC, Self::NEW_MESSAGE, ())
    }

    /// What the other connections run: reload the log.
    #[action(internal)]
    async fn new_message(&self, state: &mut ChatState) -> Result<()> {
        state.messages = self.snapshot().await?;
        Ok(())
    }
}

/// The page for the room `chat`.
///
/// # Errors
///
/// The template does not compile.
pub fn handler(chat: Chat) -> Result<LiveHandler<Chat>, BoxError> {
    let template = Template::builder("chat", TEMPLATE).build()?;
    Ok(LiveHandler::new(chat, template)
        .title("Chat")
        .topic_acl(|req| req.topic == TOPIC))
}

/// The app: the page at `/` keeping [`HISTORY`] messages, in memory or (with Redis in
/// `config`) in Redis as one of several replicas.
///
/// # Errors
///
/// The template does not compile, or the Redis configuration is invalid.
pub fn app(config: &Config) -> Result<App, BoxError> {
    let chat = match config.redis()? {
        Some(redis) => Chat::in_redis(redis, HISTORY),
        None => Chat::new(HISTORY),
    };
    example_support::app(config, "/", handler(chat)?)
}
