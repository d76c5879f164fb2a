#![deny(warnings)]

use livetemplate::prelude::*;

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct Paged<T> {
    #[persist]
    page: u32,
    rows: Vec<T>,
}

fn main() {
    let state = Paged::<String> {
        page: 2,
        rows: vec![],
    };
    assert_eq!(state.save_persisted().unwrap().unwrap(), br#"{"page":2}"#);
}
