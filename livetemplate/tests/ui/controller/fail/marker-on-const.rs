use livetemplate::prelude::*;

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct State {
    count: i64,
}

struct Counter;

#[controller(state = State)]
impl Counter {
    #[action]
    const STEP: i64 = 1;

    #[action]
    fn increment(&self, state: &mut State) {
        state.count += Self::STEP;
    }
}

fn main() {}
