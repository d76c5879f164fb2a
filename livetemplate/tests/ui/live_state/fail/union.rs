use livetemplate::prelude::*;

#[derive(LiveState)]
union Bits {
    int: u32,
    float: f32,
}

fn main() {}
