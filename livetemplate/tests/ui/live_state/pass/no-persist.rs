#![deny(warnings)]

use livetemplate::prelude::*;

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct Plain {
    count: i64,
}

#[derive(Clone, Default, Serialize, Deserialize, LiveState)]
struct Unit;

#[derive(Clone, Serialize, Deserialize, LiveState)]
enum Tab {
    List,
    Detail { id: u64 },
}

fn main() {
    assert!(Plain::PERSISTED.is_empty());
    assert!(Plain::default().save_persisted().unwrap().is_none());
    assert!(Unit.save_persisted().unwrap().is_none());
    assert!(Tab::List.save_persisted().unwrap().is_none());
    let _ = Tab::Detail { id: 1 };
}
