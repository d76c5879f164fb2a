use livetemplate::prelude::*;

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
        ctx.publish(&ctx.self_topic(), Self::REFRESH_COUNTR, ())
    }

    #[action(internal)]
    fn refresh_counter(&self, state: &mut State) {
        state.counter += 0;
    }
}

fn main() {}
