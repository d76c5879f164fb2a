use livetemplate::prelude::*;

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct State {
    count: i64,
}

struct Counter;

#[controller(state = State)]
impl Counter {
    #[on_disconnect]
    fn left(&self, state: &mut State) {
        state.count = 0;
    }
}

fn main() {}
