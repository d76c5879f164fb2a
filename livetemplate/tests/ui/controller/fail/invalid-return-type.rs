use livetemplate::prelude::*;

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct State {
    count: i64,
}

struct Counter;

#[controller(state = State)]
impl Counter {
    #[action]
    fn increment(&self, state: &mut State) -> i64 {
        state.count += 1;
        state.count
    }
}

fn main() {}
