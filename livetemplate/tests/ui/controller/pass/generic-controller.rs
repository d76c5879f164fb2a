//! A controller generic over its dependency.
#![deny(warnings)]

use livetemplate::prelude::*;
use livetemplate::Controller;

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct State {
    count: i64,
}

trait Clock: Send + Sync + 'static {
    fn now(&self) -> i64;
}

struct Fixed;

impl Clock for Fixed {
    fn now(&self) -> i64 {
        42
    }
}

struct Counter<C> {
    clock: C,
}

#[controller(state = State)]
impl<C> Counter<C>
where
    C: Clock,
{
    #[action]
    fn stamp(&self, state: &mut State) {
        state.count = self.clock.now();
    }
}

fn main() {
    let counter = Counter { clock: Fixed };
    assert_eq!(counter.clock.now(), 42);
    assert_eq!(<Counter<Fixed> as Controller>::ACTIONS[0].name, "stamp");
}
