//! A 1,000-row keyed table: one row changed, 1,000 rows appended, 1,000 rows removed,
//! all rows reversed; plus the full encoding of the table.
//!
//! - `one row changed`: 1,000 rows, one cell of row 500 differs.
//! - `append 1000`: 1,000 rows → 2,000 rows (1,000 new at the end).
//! - `remove 1000`: 2,000 rows → 1,000 rows (every other row removed).
//! - `reverse 1000`: 1,000 rows → the same rows in reverse order.
//! - `template: …`: the table rendered by the template engine from a serialized state
//!   struct (`serde_json::to_value`), one row's name changed per step: render + diff +
//!   encode, and the render alone.
//! - `template cached: …`: the same step as a live connection takes it: the state is
//!   written into the connection's `RenderCache` in place (`update_data`), unchanged
//!   rows are reused (`render_held`), then the diff is encoded; and its parts.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use livetemplate_runtime::template::{RenderCache, Template};
use livetemplate_runtime::tree::{diff::write_diff, json::write_full, Node, Slot};
use serde::Serialize;

mod support;
use support::{page_statics, row_statics, table, text};

fn bench_diff(c: &mut Criterion, name: &str, old: &Node, new: &Node) {
    let mut out = String::with_capacity(1 << 16);
    write_diff(old, new, &mut out);
    println!("{name}: diff is {} bytes", out.len());
    c.bench_function(name, |b| {
        b.iter(|| {
            out.clear();
            write_diff(black_box(old), black_box(new), &mut out);
            black_box(&out);
        })
    });
}

fn keyed_table(c: &mut Criterion) {
    let (page, rows) = (page_statics(), row_statics());
    let base = table(&page, &rows, 0..1000);

    let mut changed = base.clone();
    if let Slot::Range(r) = &mut changed.slots[1] {
        std::sync::Arc::make_mut(&mut r.items[500]).slots[1] = text("Item 500 (edited)");
    }
    bench_diff(c, "table/one row changed of 1000", &base, &changed);
    bench_diff(c, "table/unchanged 1000", &base, &base.clone());

    let doubled = table(&page, &rows, 0..2000);
    bench_diff(c, "table/append 1000", &base, &doubled);
    let halved = table(&page, &rows, (0..2000).step_by(2));
    bench_diff(c, "table/remove 1000 of 2000", &doubled, &halved);
    let reversed = table(&page, &rows, (0..1000).rev());
    bench_diff(c, "table/reverse 1000", &base, &reversed);

    let mut out = String::with_capacity(1 << 17);
    write_full(&base, &mut out);
    println!("table/full 1000: {} bytes", out.len());
    c.bench_function("table/full encode 1000", |b| {
        b.iter(|| {
            out.clear();
            write_full(black_box(&base), &mut out);
            black_box(&out);
        })
    });
}

#[derive(Serialize)]
struct Row {
    id: String,
    name: String,
    qty: u32,
}

#[derive(Serialize)]
struct Table {
    rows: Vec<Row>,
}

/// The keyed table of the template engine.
const TABLE: &str = r#"<table><tbody>{{#each rows}}<tr data-key="{{id}}"><td>{{name}}</td><td>{{qty}}</td></tr>{{/each}}</tbody></table>"#;

fn template_table(c: &mut Criterion) {
    let template = Template::new("table", TABLE).expect("the table template compiles");
    let mut state = Table {
        rows: (0..1000)
            .map(|i| Row {
                id: format!("row-{i}"),
                name: format!("Item {i}"),
                qty: (i * 7 % 100) as u32,
            })
            .collect(),
    };
    // Alternates row 500's name; each section starts from "Item 500" so that its first
    // step prints the 49-byte update.
    let mut flip = false;
    let mut edit = move |state: &mut Table| {
        flip = !flip;
        state.rows[500].name = if flip {
            "Item 500 (edited)"
        } else {
            "Item 500"
        }
        .to_owned();
    };
    let mut out = String::with_capacity(1 << 12);

    // The plain path: a fresh Value, a full render.
    let render = |s: &Table| {
        let data = serde_json::to_value(s).expect("the state serializes");
        template.render(&data).expect("the table renders")
    };
    let mut last = render(&state);
    edit(&mut state);
    let next = render(&state);
    write_diff(&last, &next, &mut out);
    println!(
        "table/template one row changed: diff {out} ({} bytes)",
        out.len()
    );
    last = next;
    c.bench_function(
        "table/template: one row changed of 1000 (to_value + render + diff + encode)",
        |b| {
            b.iter(|| {
                edit(&mut state);
                let next = render(&state);
                out.clear();
                write_diff(&last, &next, &mut out);
                black_box(&out);
                last = next;
            })
        },
    );
    let data = serde_json::to_value(&state).expect("the state serializes");
    c.bench_function("table/template: render 1000 rows", |b| {
        b.iter(|| black_box(template.render(black_box(&data)).expect("renders")))
    });
    c.bench_function("table/template: to_value 1000 rows", |b| {
        b.iter(|| black_box(serde_json::to_value(black_box(&state)).expect("serializes")))
    });

    // The live path (what a connection does): the state is written into the cache's
    // data in place (`update_data`), unchanged rows are reused (`render_held`), then the
    // diff is encoded.
    if state.rows[500].name != "Item 500" {
        edit(&mut state);
    }
    let mut cache = RenderCache::new();
    let step = |state: &Table, cache: &mut RenderCache| {
        cache.update_data(state).expect("the state serializes");
        template.render_held(cache).expect("the table renders")
    };
    let mut last = step(&state, &mut cache);
    edit(&mut state);
    let next = step(&state, &mut cache);
    out.clear();
    write_diff(&last, &next, &mut out);
    println!(
        "table/template cached one row changed: diff {out} ({} bytes)",
        out.len()
    );
    last = next;
    c.bench_function(
        "table/template cached: one row changed of 1000 (update_data + render_held + diff + encode)",
        |b| {
            b.iter(|| {
                edit(&mut state);
                let next = step(&state, &mut cache);
                out.clear();
                write_diff(&last, &next, &mut out);
                black_box(&out);
                last = next;
            })
        },
    );
    c.bench_function(
        "table/template cached: update_data of 1000 rows, one changed",
        |b| {
            b.iter(|| {
                edit(&mut state);
                cache.update_data(black_box(&state)).expect("serializes");
            })
        },
    );

    // Render + diff + encode alone: the data is changed in the cache by hand (one
    // string), so the render compares every row's data with the cached row's.
    let mut cache = RenderCache::new();
    cache.update_data(&state).expect("the state serializes");
    let mut last = template.render_held(&mut cache).expect("renders");
    let mut flip = false;
    c.bench_function(
        "table/template cached: one row changed of 1000, data changed by hand (render_held + diff + encode)",
        |b| {
            b.iter(|| {
                flip = !flip;
                cache.data_mut()["rows"][500]["name"] =
                    if flip { "Item 500 (edited)" } else { "Item 500" }.into();
                let next = template.render_held(&mut cache).expect("renders");
                out.clear();
                write_diff(&last, &next, &mut out);
                black_box(&out);
                last = next;
            })
        },
    );

    // render_cached with a Value: the Value is copied into the cache where it differs.
    let mut other = serde_json::to_value(&state).expect("serializes");
    other["rows"][500]["name"] = "Item 500 (changed)".into();
    let data = serde_json::to_value(&state).expect("serializes");
    let mut cache = RenderCache::new();
    let mut last = template.render_cached(&data, &mut cache).expect("renders");
    let mut flip = false;
    c.bench_function(
        "table/template cached: one row changed of 1000, from a Value (render_cached + diff + encode)",
        |b| {
            b.iter(|| {
                flip = !flip;
                let d = if flip { &other } else { &data };
                let next = template.render_cached(black_box(d), &mut cache).expect("renders");
                out.clear();
                write_diff(&last, &next, &mut out);
                black_box(&out);
                last = next;
            })
        },
    );
    let mut cache = RenderCache::new();
    c.bench_function(
        "table/template cached: render_cached 1000 unchanged rows",
        |b| {
            b.iter(|| {
                black_box(
                    template
                        .render_cached(black_box(&data), &mut cache)
                        .expect("renders"),
                )
            })
        },
    );
}

criterion_group!(benches, keyed_table, template_table);
criterion_main!(benches);
