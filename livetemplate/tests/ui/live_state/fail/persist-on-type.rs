use livetemplate::prelude::*;

#[derive(Clone, Serialize, Deserialize, LiveState)]
#[persist]
struct State {
    filter: String,
}

fn main() {}
