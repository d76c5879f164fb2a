use livetemplate::prelude::*;

#[derive(Clone, Serialize, Deserialize, LiveState)]
#[livetemplate(crat = livetemplate)]
struct State {
    filter: String,
}

fn main() {}
