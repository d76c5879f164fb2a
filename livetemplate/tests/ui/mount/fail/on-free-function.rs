use livetemplate::prelude::*;

#[mount]
fn load() {}

fn main() {}
