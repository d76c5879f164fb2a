use livetemplate::prelude::*;

#[derive(Clone, Default)]
struct Cache {
    hits: u32,
}

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct State {
    #[persist]
    #[serde(skip)]
    cache: Cache,
}

fn main() {}
