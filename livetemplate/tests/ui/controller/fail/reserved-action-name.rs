use livetemplate::prelude::*;

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct State {
    count: i64,
}

struct Counter;

#[controller(state = State)]
impl Counter {
    #[action]
    fn upload_start(&self, state: &mut State) {
        state.count = 0;
    }

    #[action(name = "__ping__")]
    fn ping(&self) {}
}

fn main() {}
