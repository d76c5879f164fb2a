use livetemplate::prelude::*;

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct State {
    count: i64,
}

struct Counter;

#[controller(state = State)]
impl Counter {
    #[mount]
    fn load(&self, state: &mut State) {
        state.count = 1;
    }

    #[mount]
    fn load_again(&self, state: &mut State) {
        state.count = 2;
    }
}

fn main() {}
