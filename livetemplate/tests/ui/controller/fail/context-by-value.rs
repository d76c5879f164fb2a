use livetemplate::prelude::*;

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct State {
    count: i64,
}

struct Counter;

#[controller(state = State)]
impl Counter {
    #[action]
    fn increment(&self, ctx: Context) {
        let _ = ctx;
    }
}

fn main() {}
