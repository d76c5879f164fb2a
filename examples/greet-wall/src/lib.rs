//! Greet wall: self-tab sync, a shared room topic and server push in one app.
//!
//! - `greet` validates the name, sets this connection's headline, adds the greeting to
//!   the shared wall, then `ctx.sync()` (the other tabs of this session adopt this
//!   state) and `ctx.publish(WALL, WALL_REFRESH, ())` (everyone else reloads the wall).
//! - The connect hook registers the session with one server-wide heartbeat, which
//!   pushes `SERVER_HI` to every registered session with `Session::trigger` and forgets
//!   sessions that have no live connection left; it stops when none is left.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use livetemplate::prelude::*;
use livetemplate::{App, LiveHandler, PushError, Session, Template};
use serde_json::json;

/// The wall's topic.
pub const WALL: &str = "wall";

/// How many greetings the wall keeps.
pub const WALL_SIZE: usize = 20;

const TEMPLATE: &str = r#"<article>
  <h3>{{headline}}</h3>
  <form method="POST">
    <fieldset role="group">
      <input name="name" placeholder="Your name" aria-label="Name">
      <button name="greet">Greet</button>
    </fieldset>
    <small>{{lvt.errors.name}}</small>
  </form>
  <h4>The wall</h4>
  <ul>
    {{#each wall}}
    <li data-key="{{id}}"><strong>{{name}}</strong> was greeted</li>
    {{/each}}
  </ul>
  <p><small>{{#if server_at}}The server said hi at {{server_at}}{{else}}The server has not said hi yet.{{/if}}</small></p>
</article>"#;

/// One greeting on the wall.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Greeting {
    id: u64,
    name: String,
}

/// One connection: its headline, its copy of the wall, the last server hello.
#[derive(Clone, Serialize, Deserialize, LiveState)]
pub struct WallState {
    headline: String,
    wall: Vec<Greeting>,
    server_at: String,
}

impl Default for WallState {
    fn default() -> WallState {
        WallState {
            headline: "Say hello".into(),
            wall: Vec::new(),
            server_at: String::new(),
        }
    }
}

#[derive(Default)]
struct Greetings {
    next_id: u64,
    list: VecDeque<Greeting>,
}

#[derive(Default)]
struct Heartbeat {
    sessions: HashMap<String, Session>,
    running: bool,
}

/// The wall and the heartbeat.
pub struct GreetWall {
    greetings: Mutex<Greetings>,
    heartbeat: Arc<Mutex<Heartbeat>>,
    every: Duration,
}

impl GreetWall {
    fn wall(&self) -> Vec<Greeting> {
        let g = self.greetings.lock().unwrap_or_else(|e| e.into_inner());
        g.list.iter().cloned().collect()
    }
}

/// `HH:MM:SS UTC` now.
fn now_utc() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        % 86_400;
    format!(
        "{:02}:{:02}:{:02} UTC",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// Say hi to every registered session until none is left.
async fn heartbeat(beat: Arc<Mutex<Heartbeat>>, every: Duration) {
    loop {
        tokio::time::sleep(every).await;
        let mut hb = beat.lock().unwrap_or_else(|e| e.into_inner());
        let at = now_utc();
        hb.sessions.retain(|_, session| {
            !matches!(
                session.trigger(GreetWall::SERVER_HI, json!({ "at": at })),
                Err(PushError::Disconnected)
            )
        });
        if hb.sessions.is_empty() {
            hb.running = false;
            return;
        }
    }
}

#[controller(state = WallState)]
impl GreetWall {
    #[mount]
    fn mount(&self, state: &mut WallState, ctx: &mut Context) -> Result<()> {
        ctx.subscribe(WALL)?;
        state.wall = self.wall();
        Ok(())
    }

    #[on_connect]
    fn connected(&self, ctx: &mut Context) {
        let session = ctx.session();
        let mut hb = self.heartbeat.lock().unwrap_or_else(|e| e.into_inner());
        hb.sessions.insert(session.group_id().to_string(), session);
        if !hb.running {
            hb.running = true;
            tokio::spawn(heartbeat(self.heartbeat.clone(), self.every));
        }
    }

    #[action]
    fn greet(&self, state: &mut WallState, ctx: &mut Context) -> Result<()> {
        let name = ctx.get_str("name").unwrap_or_default();
        let name: String = name.trim().chars().take(40).collect();
        if name.is_empty() {
            return Err(FieldError::new("name", "Please enter a name").into());
        }
        if name.eq_ignore_ascii_case("admin") {
            return Err(FieldError::new("name", "\"admin\" is reserved").into());
        }
        state.headline = format!("Hello, {name}!");
        {
            let mut g = self.greetings.lock().unwrap_or_else(|e| e.into_inner());
            g.next_id += 1;
            let id = g.next_id;
            g.list.push_back(Greeting { id, name });
            while g.list.len() > WALL_SIZE {
                g.list.pop_front();
            }
            state.wall = g.list.iter().cloned().collect();
        }
        ctx.sync()?;
        ctx.publish(WALL, Self::WALL_REFRESH, ())
    }

    /// Everyone else: reload the wall.
    #[action(internal)]
    fn wall_refresh(&self, state: &mut WallState) {
        state.wall = self.wall();
    }

    /// Pushed by the heartbeat.
    #[action(internal)]
    fn server_hi(&self, state: &mut WallState, ctx: &Context) {
        state.server_at = ctx.get_str("at").unwrap_or_default();
    }
}

/// The page; the server says hi every `every`.
///
/// # Errors
///
/// The template does not compile.
pub fn handler(
    every: Duration,
) -> Result<LiveHandler<GreetWall>, Box<dyn std::error::Error + Send + Sync>> {
    let template = Template::builder("greet-wall", TEMPLATE).build()?;
    let wall = GreetWall {
        greetings: Mutex::default(),
        heartbeat: Arc::default(),
        every,
    };
    Ok(LiveHandler::new(wall, template)
        .title("Greet Wall")
        .topic_acl(|req| req.topic == WALL))
}

/// The app: the page at `/`, the server saying hi every 10 seconds; with `client_dir`
/// (an unpacked `@livetemplate/client` 0.25.1 package) the browser client is served
/// from it at `/_lvt`.
///
/// # Errors
///
/// The template does not compile.
pub fn app(client_dir: Option<PathBuf>) -> Result<App, Box<dyn std::error::Error + Send + Sync>> {
    let mut handler = handler(Duration::from_secs(10))?;
    let mut app = App::new();
    if let Some(dir) = client_dir {
        handler = handler.client_assets("/_lvt");
        app = app.assets("/_lvt", dir);
    }
    Ok(app.page("/", handler))
}
