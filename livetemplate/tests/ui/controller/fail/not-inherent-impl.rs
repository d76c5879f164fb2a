use livetemplate::prelude::*;

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct State {
    count: i64,
}

struct Counter;

trait Greeter {
    fn greet(&self);
}

#[controller(state = State)]
impl Greeter for Counter {
    #[action]
    fn greet(&self) {}
}

fn main() {}
