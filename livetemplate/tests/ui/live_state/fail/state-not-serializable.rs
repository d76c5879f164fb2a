use livetemplate::prelude::*;

#[derive(Clone, Default, LiveState)]
struct State {
    count: i64,
}

fn main() {}
