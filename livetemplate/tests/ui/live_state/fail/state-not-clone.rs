use livetemplate::prelude::*;

#[derive(Default, Serialize, Deserialize, LiveState)]
struct State {
    count: i64,
}

fn main() {}
