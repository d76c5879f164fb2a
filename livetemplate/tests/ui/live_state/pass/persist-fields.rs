#![deny(warnings)]

use std::collections::BTreeMap;

use livetemplate::prelude::*;

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct State {
    #[persist]
    filter: String,
    #[persist]
    #[serde(rename = "sel")]
    selected: Option<u64>,
    items: Vec<String>,
    #[persist]
    tags: BTreeMap<String, bool>,
}

fn main() {
    assert_eq!(State::PERSISTED, ["filter", "selected", "tags"]);
    let bytes = State::default().save_persisted().unwrap().unwrap();
    let mut state = State::default();
    state.restore_persisted(&bytes).unwrap();
}
