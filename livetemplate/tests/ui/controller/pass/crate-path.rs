//! A crate re-exporting livetemplate under another path.
#![deny(warnings)]

mod lt {
    pub use livetemplate::*;
}

use lt::prelude::{Deserialize, Serialize};

#[derive(Clone, Default, Serialize, Deserialize, lt::LiveState)]
#[livetemplate(crate = crate::lt)]
struct State {
    #[persist]
    count: i64,
}

struct Counter;

#[lt::controller(state = State, crate = crate::lt)]
impl Counter {
    #[lt::action]
    fn increment(&self, state: &mut State) {
        state.count += 1;
    }

    #[lt::prelude::action(name = "down")]
    fn decrement(&self, state: &mut State) {
        state.count -= 1;
    }
}

fn main() {
    use lt::Controller;
    assert_eq!(Counter::ACTIONS[1].name, "down");
}
