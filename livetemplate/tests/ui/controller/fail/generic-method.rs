use livetemplate::prelude::*;

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct State {
    count: i64,
}

struct Counter;

#[controller(state = State)]
impl Counter {
    #[action]
    fn add<T: FromContext>(&self, state: &mut State, value: T) {
        let _ = value;
        state.count += 1;
    }
}

use livetemplate::FromContext;

fn main() {}
