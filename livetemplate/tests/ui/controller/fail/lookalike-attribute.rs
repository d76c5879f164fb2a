use livetemplate::prelude::*;

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct State {
    count: i64,
}

struct Counter;

#[allow(unused_imports)]
mod lt {
    pub use livetemplate::*;
}

#[controller(state = State)]
impl Counter {
    #[lt::action]
    fn increment(&self, state: &mut State) {
        state.count += 1;
    }
}

fn main() {}
