//! A 1,000-row keyed table: one row changed, 1,000 rows appended, 1,000 rows removed,
//! all rows reversed; plus the full encoding of the table.
//!
//! - `one row changed`: 1,000 rows, one cell of row 500 differs.
//! - `append 1000`: 1,000 rows → 2,000 rows (1,000 new at the end).
//! - `remove 1000`: 2,000 rows → 1,000 rows (every other row removed).
//! - `reverse 1000`: 1,000 rows → the same rows in reverse order.
//! - `template: …`: the table rendered by the template engine from a serialized state
//!   struct (`serde_json::to_value`, as the transport does), one row's name changed per
//!   step: render + diff + encode, and the render alone.

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

/// Fastest of `runs` timings of `f` (robust on a busy machine), printed.
fn min_time(name: &str, runs: usize, mut f: impl FnMut()) {
    let mut best = std::time::Duration::MAX;
    for _ in 0..runs {
        let start = std::time::Instant::now();
        f();
        best = best.min(start.elapsed());
    }
    println!("min of {runs}: {name}: {best:?}");
}

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
    let render = |s: &Table| {
        let data = serde_json::to_value(s).expect("the state serializes");
        template.render(&data).expect("the table renders")
    };
    let mut last = render(&state);
    let mut out = String::with_capacity(1 << 12);
    let mut flip = false;
    let mut edit = |state: &mut Table| {
        flip = !flip;
        state.rows[500].name = if flip {
            "Item 500 (edited)"
        } else {
            "Item 500"
        }
        .to_owned();
    };
    edit(&mut state);
    let next = render(&state);
    write_diff(&last, &next, &mut out);
    println!("table/template one row changed: diff {out}");
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

    {
        let mut cache = RenderCache::new();
        let _ = template.render_cached(&data, &mut cache);
        min_time("to_value 1000 rows", 200, || {
            black_box(serde_json::to_value(black_box(&state)).expect("serializes"));
        });
        min_time("render 1000 rows", 100, || {
            black_box(template.render(black_box(&data)).expect("renders"));
        });
        min_time("render_cached 1000 unchanged rows", 200, || {
            black_box(
                template
                    .render_cached(black_box(&data), &mut cache)
                    .expect("renders"),
            );
        });
        let mut other = serde_json::to_value(&state).expect("serializes");
        other["rows"][500]["name"] = "Item 500 (changed)".into();
        let mut flip = false;
        min_time("render_cached 1000 rows, one changed", 200, || {
            flip = !flip;
            let d = if flip { &other } else { &data };
            black_box(
                template
                    .render_cached(black_box(d), &mut cache)
                    .expect("renders"),
            );
        });
    }

    let mut cache = RenderCache::new();
    let mut render_cached = |s: &Table| {
        let data = serde_json::to_value(s).expect("the state serializes");
        template
            .render_cached(&data, &mut cache)
            .expect("the table renders")
    };
    let mut last = render_cached(&state);
    c.bench_function(
        "table/template cached: one row changed of 1000 (to_value + render_cached + diff + encode)",
        |b| {
            b.iter(|| {
                edit(&mut state);
                let next = render_cached(&state);
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
    c.bench_function("table/template: to_value 1000 rows", |b| {
        b.iter(|| black_box(serde_json::to_value(black_box(&state)).expect("serializes")))
    });
}

criterion_group!(benches, keyed_table, template_table);
criterion_main!(benches);
