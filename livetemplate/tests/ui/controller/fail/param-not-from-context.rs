use livetemplate::prelude::*;

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct State {
    count: i64,
}

struct Counter;

struct Amount(i64);

#[controller(state = State)]
impl Counter {
    #[action]
    fn add(&self, state: &mut State, amount: Amount) {
        state.count += amount.0;
    }
}

fn main() {}
