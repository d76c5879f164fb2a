use livetemplate::prelude::*;

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct State {
    count: i64,
}

struct Counter<'a> {
    name: &'a str,
}

#[controller(state = State)]
impl<'a> Counter<'a> {
    #[action]
    fn increment(&self, state: &mut State) {
        state.count += self.name.len() as i64;
    }
}

fn main() {}
