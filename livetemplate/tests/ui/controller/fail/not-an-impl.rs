use livetemplate::prelude::*;

#[controller(state = State)]
struct Counter;

fn main() {}
