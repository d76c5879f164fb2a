use livetemplate::prelude::*;

#[derive(Clone, Serialize, Deserialize, LiveState)]
struct State {
    #[persist]
    #[persist]
    filter: String,
}

fn main() {}
