//! Every action gets a typed name on the controller type.
#![deny(warnings)]

use livetemplate::prelude::*;
use livetemplate::Action;

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct State {
    counter: i64,
}

struct Counter;

#[controller(state = State)]
impl Counter {
    #[action]
    fn increment(&self, state: &mut State, ctx: &mut Context) -> Result<()> {
        state.counter += 1;
        ctx.publish(&ctx.self_topic(), Self::REFRESH_COUNTER, ())
    }

    #[action(internal)]
    fn refresh_counter(&self, state: &mut State) {
        state.counter += 0;
    }

    #[action(name = "clear-done")]
    fn clear(&self, state: &mut State) {
        state.counter = 0;
    }
}

const FROM_ELSEWHERE: Action = Counter::CLEAR_DONE;

fn main() {
    assert_eq!(Counter::INCREMENT.name(), "increment");
    assert_eq!(Counter::REFRESH_COUNTER.name(), "refresh_counter");
    assert_eq!(FROM_ELSEWHERE.name(), "clear-done");
    assert_eq!(Action::unchecked("clear-done"), Counter::CLEAR_DONE);
}
