use livetemplate::prelude::*;

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct State {
    count: i64,
}

struct Counter;

#[controller(state = State)]
impl Counter {
    #[action]
    fn rename(&self, state: &mut State, name: &mut String) {
        name.push_str("x");
        state.count += 1;
    }
}

fn main() {}
