use livetemplate::prelude::*;

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct State {
    count: i64,
}

struct Counter;

#[controller(state = State)]
impl Counter {
    #[action]
    fn clear_done(&self, state: &mut State) {
        state.count = 0;
    }

    #[action(alias = "clearDone")]
    fn wipe(&self, state: &mut State) {
        state.count = 0;
    }
}

fn main() {}
