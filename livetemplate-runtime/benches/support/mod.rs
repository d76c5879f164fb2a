//! Tree builders shared by the benches.

#![allow(dead_code)]

use std::sync::Arc;

use livetemplate_runtime::tree::{Item, Node, Range, Slot, Statics};

/// Statics from string literals.
pub fn statics(parts: &[&str]) -> Statics {
    parts
        .iter()
        .map(|s| Box::<str>::from(*s))
        .collect::<Vec<_>>()
        .into()
}

/// A text slot.
pub fn text(s: impl Into<String>) -> Slot {
    Slot::Text(s.into())
}

/// The statics of one row of the keyed table.
pub fn row_statics() -> Statics {
    statics(&[
        "<tr data-key=\"",
        "\"><td class=\"name\">",
        "</td><td class=\"qty\">",
        "</td><td><button lvt-on:click=\"remove\" data-id=\"",
        "\">x</button></td></tr>",
    ])
}

/// One table row.
pub fn row(id: usize, label: &str) -> Item {
    let key = format!("row-{id}");
    Item {
        key: key.clone(),
        slots: vec![
            text(key.clone()),
            text(format!("{label} {id}")),
            text((id * 7 % 100).to_string()),
            text(key),
        ],
    }
}

/// A page holding a title and a keyed table of `ids`.
pub fn table(page: &Statics, rows: &Statics, ids: impl IntoIterator<Item = usize>) -> Node {
    Node {
        statics: Arc::clone(page),
        slots: vec![
            text("Inventory"),
            Slot::Range(Range {
                statics: Arc::clone(rows),
                items: ids
                    .into_iter()
                    .map(|id| Arc::new(row(id, "Item")))
                    .collect(),
                key_slot: Some(0),
            }),
        ],
    }
}

/// The page statics around the table.
pub fn page_statics() -> Statics {
    statics(&[
        "<main><h1>",
        "</h1><table><tbody>",
        "</tbody></table></main>",
    ])
}
