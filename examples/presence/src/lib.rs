//! Presence: who is online, updated on join, on leave and when a tab closes.
//!
//! The controller keeps the online list keyed by visitor id (given at join, kept in the
//! connection's state). `join` and `leave` change it and publish `PRESENCE_CHANGED` to
//! [`TOPIC`]; the disconnect hook removes the visitor of the connection that closed and
//! publishes the same through `info.publisher` (it runs after that connection's
//! subscriptions are gone, so only those who remain hear it).
//!
//! With `--redis` the list is a Redis hash shared by every replica. A replica that
//! crashes (rather than stopping its connections) leaves its visitors on that list.

use std::collections::BTreeMap;
use std::sync::Mutex;

use example_support::{BoxError, Config, Redis};
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

/// Someone online: a visitor id and the name it joined with.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Visitor {
    id: u64,
    name: String,
}

/// One connection: who it joined as (if it did) and its copy of the list.
#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
pub struct PresenceState {
    /// This connection's visitor id once joined (0: not joined); the disconnect hook
    /// reads it to say who left.
    me: u64,
    name: String,
    online: Vec<Visitor>,
    count: usize,
}

/// Where the online list lives.
enum Store {
    /// In this process: visitors by id, and the next id.
    Memory(Mutex<(u64, BTreeMap<u64, String>)>),
    /// In Redis, shared by every replica: the hash `<prefix>presence:online` (visitor id
    /// → name) and the id counter `<prefix>presence:next-id`.
    Redis(Redis),
}

/// The online list.
pub struct Presence {
    store: Store,
}

impl Default for Presence {
    fn default() -> Presence {
        Presence {
            store: Store::Memory(Mutex::new((0, BTreeMap::new()))),
        }
    }
}

fn unavailable(e: redis::RedisError) -> Error {
    Error::msg(format!("the online list is unavailable: {e}"))
}

impl Presence {
    /// An online list in Redis, shared by every replica on that Redis and prefix.
    pub fn in_redis(redis: Redis) -> Presence {
        Presence {
            store: Store::Redis(redis),
        }
    }

    fn memory(
        m: &Mutex<(u64, BTreeMap<u64, String>)>,
    ) -> std::sync::MutexGuard<'_, (u64, BTreeMap<u64, String>)> {
        m.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Everyone online, in the order they joined.
    async fn list(&self) -> Result<Vec<Visitor>> {
        let mut online: Vec<Visitor> = match &self.store {
            Store::Memory(m) => Self::memory(m)
                .1
                .iter()
                .map(|(id, name)| Visitor {
                    id: *id,
                    name: name.clone(),
                })
                .collect(),
            Store::Redis(r) => {
                let mut conn = r.connection().await.map_err(unavailable)?;
                let all: Vec<(u64, String)> = redis::cmd("HGETALL")
                    .arg(r.key("presence:online"))
                    .query_async(&mut conn)
                    .await
                    .map_err(unavailable)?;
                all.into_iter()
                    .map(|(id, name)| Visitor { id, name })
                    .collect()
            }
        };
        online.sort_by_key(|v| v.id);
        Ok(online)
    }

    /// Put `name` online under `id` (0: a new visitor id). Returns the id.
    async fn put(&self, id: u64, name: &str) -> Result<u64> {
        match &self.store {
            Store::Memory(m) => {
                let mut m = Self::memory(m);
                let id = if id == 0 {
                    m.0 += 1;
                    m.0
                } else {
                    id
                };
                m.1.insert(id, name.to_string());
                Ok(id)
            }
            Store::Redis(r) => {
                let mut conn = r.connection().await.map_err(unavailable)?;
                let id = if id == 0 {
                    redis::cmd("INCR")
                        .arg(r.key("presence:next-id"))
                        .query_async(&mut conn)
                        .await
                        .map_err(unavailable)?
                } else {
                    id
                };
                redis::cmd("HSET")
                    .arg(r.key("presence:online"))
                    .arg(id)
                    .arg(name)
                    .query_async::<()>(&mut conn)
                    .await
                    .map_err(unavailable)?;
                Ok(id)
            }
        }
    }

    /// Take `id` off the list; whether it was on it.
    async fn remove(&self, id: u64) -> Result<bool> {
        match &self.store {
            Store::Memory(m) => Ok(Self::memory(m).1.remove(&id).is_some()),
            Store::Redis(r) => {
                let mut conn = r.connection().await.map_err(unavailable)?;
                let n: i64 = redis::cmd("HDEL")
                    .arg(r.key("presence:online"))
                    .arg(id)
                    .query_async(&mut conn)
                    .await
                    .map_err(unavailable)?;
                Ok(n > 0)
            }
        }
    }

    async fn load(&self, state: &mut PresenceState) -> Result<()> {
        state.online = self.list().await?;
        state.count = state.online.len();
        Ok(())
    }
}

#[controller(state = PresenceState)]
impl Presence {
    #[mount]
    async fn mount(&self, state: &mut PresenceState, ctx: &mut Context) -> Result<()> {
        ctx.subscribe(TOPIC)?;
        self.load(state).await
    }

    #[action]
    async fn join(&self, state: &mut PresenceState, ctx: &mut Context) -> Result<()> {
        if ctx.connection_id().is_none() {
            return Err(Error::msg("presence needs a live connection (JavaScript)"));
        }
        let name = ctx.get_str("name").unwrap_or_default();
        let name: String = name.trim().chars().take(32).collect();
        if name.is_empty() {
            return Err(FieldError::new("name", "Please enter a name").into());
        }
        state.me = self.put(state.me, &name).await?;
        state.name = name;
        self.load(state).await?;
        ctx.publish(TOPIC, Self::PRESENCE_CHANGED, ())
    }

    #[action]
    async fn leave(&self, state: &mut PresenceState, ctx: &mut Context) -> Result<()> {
        if state.me != 0 {
            self.remove(state.me).await?;
        }
        state.me = 0;
        state.name.clear();
        self.load(state).await?;
        ctx.publish(TOPIC, Self::PRESENCE_CHANGED, ())
    }

    /// What the others run: reload the list.
    #[action(internal)]
    async fn presence_changed(&self, state: &mut PresenceState) -> Result<()> {
        self.load(state).await
    }

    /// A tab closed (or lost its connection): it is no longer online.
    #[on_disconnect]
    async fn gone(&self, state: &PresenceState, info: &Disconnect) {
        if state.me == 0 {
            return;
        }
        match self.remove(state.me).await {
            Ok(true) => {
                let _ = info.publisher.publish(TOPIC, Self::PRESENCE_CHANGED, ());
            }
            Ok(false) => {}
            Err(e) => tracing::warn!(error = %e, "could not remove a visitor who left"),
        }
    }
}

/// The page with this online list.
///
/// # Errors
///
/// The template does not compile.
pub fn handler(presence: Presence) -> Result<LiveHandler<Presence>, BoxError> {
    let template = Template::builder("presence", TEMPLATE).build()?;
    Ok(LiveHandler::new(presence, template)
        .title("Presence")
        .topic_acl(|req| req.topic == TOPIC))
}

/// The app: the page at `/`, its list in memory or (with Redis in `config`) in Redis as
/// one of several replicas.
///
/// # Errors
///
/// The template does not compile, or the Redis configuration is invalid.
pub fn app(config: &Config) -> Result<App, BoxError> {
    let presence = match config.redis()? {
        Some(redis) => Presence::in_redis(redis),
        None => Presence::default(),
    };
    example_support::app(config, "/", handler(presence)?)
}
