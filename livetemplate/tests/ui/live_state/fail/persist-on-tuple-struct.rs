use livetemplate::prelude::*;

#[derive(Clone, Serialize, Deserialize, LiveState)]
struct Position(#[persist] u32, u32);

fn main() {}
