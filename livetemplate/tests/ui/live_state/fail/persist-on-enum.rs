use livetemplate::prelude::*;

#[derive(Clone, Serialize, Deserialize, LiveState)]
enum Tab {
    List {
        #[persist]
        page: u32,
    },
    Detail,
}

fn main() {}
