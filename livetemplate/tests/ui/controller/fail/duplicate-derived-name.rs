use livetemplate::prelude::*;

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct State {
    count: i64,
}

struct Counter;

#[controller(state = State)]
impl Counter {
    #[action]
    fn reset(&self, state: &mut State) {
        state.count = 0;
    }

    #[action]
    #[allow(non_snake_case)]
    fn Reset(&self, state: &mut State) {
        state.count = 0;
    }
}

fn main() {}
