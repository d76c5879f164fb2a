//! Counter update: one slot of a small page changes per action.
//!
//! `update` measures one full server step as a pluggable pipeline: `render` (state → tree),
//! then diff + JSON encode against the previous tree.
//!
//! - `counter/update (template …)`: the whole step as the transport runs it: the state
//!   struct serialized with `serde_json::to_value`, rendered by the template engine,
//!   diffed and encoded.
//! - `counter/update (hand-built tree …)`: the same step with the tree built by hand with
//!   shared statics (what a compiled template produces), without serialization: the
//!   floor the engine is measured against.
//! - `counter/diff + encode`: the diff alone.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use livetemplate_runtime::template::Template;
use livetemplate_runtime::tree::{diff::write_diff, Node, Slot, Statics};
use serde::Serialize;

mod support;
use support::{statics, text};

#[derive(Serialize)]
struct Counter {
    count: i64,
}

/// The counter page of the template engine.
const COUNTER: &str = r#"<main><h1>Count: {{count}}</h1><form method="POST"><button name="increment">+1</button><button name="decrement">-1</button></form></main>"#;

struct Templates {
    page: Statics,
    positive: Statics,
}

fn render(t: &Templates, state: &Counter) -> Node {
    Node {
        statics: Arc::clone(&t.page),
        slots: vec![
            text(state.count.to_string()),
            if state.count > 0 {
                Slot::Node(Node {
                    statics: Arc::clone(&t.positive),
                    slots: vec![text("positive")],
                })
            } else {
                text("")
            },
        ],
    }
}

/// One step: mutate the state, render, diff against the previous tree, encode.
fn bench_update<S, R, A>(c: &mut Criterion, name: &str, mut state: S, render: R, mut action: A)
where
    R: Fn(&S) -> Node,
    A: FnMut(&mut S),
{
    let mut last = render(&state);
    let mut out = String::with_capacity(256);
    c.bench_function(name, |b| {
        b.iter(|| {
            action(&mut state);
            let next = render(&state);
            out.clear();
            write_diff(&last, &next, &mut out);
            black_box(&out);
            last = next;
        })
    });
}

fn counter(c: &mut Criterion) {
    let template = Template::new("counter", COUNTER).expect("the counter template compiles");
    bench_update(
        c,
        "counter/update (template: to_value + render + diff + encode)",
        Counter { count: 1 },
        |s| {
            let data = serde_json::to_value(s).expect("the state serializes");
            template.render(&data).expect("the counter renders")
        },
        |s| s.count += 1,
    );

    let t = Templates {
        page: statics(&[
            "<main><h1>Counter: ",
            "</h1>",
            "<button lvt-on:click=\"increment\">+</button><button lvt-on:click=\"decrement\">-</button></main>",
        ]),
        positive: statics(&["<p class=\"note\">", "</p>"]),
    };
    bench_update(
        c,
        "counter/update (hand-built tree + diff + encode)",
        Counter { count: 1 },
        |s| render(&t, s),
        |s| s.count += 1,
    );

    let old = render(&t, &Counter { count: 41 });
    let new = render(&t, &Counter { count: 42 });
    let mut out = String::with_capacity(256);
    out.clear();
    write_diff(&old, &new, &mut out);
    println!("counter diff: {out} ({} bytes)", out.len());
    c.bench_function("counter/diff + encode", |b| {
        b.iter(|| {
            out.clear();
            write_diff(black_box(&old), black_box(&new), &mut out);
            black_box(&out);
        })
    });
}

criterion_group!(benches, counter);
criterion_main!(benches);
