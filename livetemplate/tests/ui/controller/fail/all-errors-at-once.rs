use livetemplate::prelude::*;

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct State {
    count: i64,
}

struct Counter;

#[controller(state = State, colour = "blue")]
impl Counter {
    #[action]
    fn increment(self, state: &mut State) {
        state.count += 1;
    }

    #[action(nme = "dec")]
    fn decrement(&mut self, state: &mut State) {
        state.count -= 1;
    }

    #[on_disconnect]
    fn left(&self, state: &mut State) {
        state.count = 0;
    }
}

fn main() {}
