use livetemplate::prelude::*;

#[derive(Clone, Serialize, Deserialize, LiveState)]
struct State {
    #[persist(key = "f")]
    filter: String,
}

fn main() {}
