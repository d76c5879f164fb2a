//! Counter update: one slot of a small page changes per action.
//!
//! `update` measures one full server step as a pluggable pipeline: `render` (state → tree),
//! then diff + JSON encode against the previous tree. The render closure here builds the
//! tree by hand with shared statics, which is what a compiled template produces; swap in
//! the template engine's render to measure the whole step. `diff_encode` isolates the diff.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use livetemplate_runtime::tree::{diff::write_diff, Node, Slot, Statics};

mod support;
use support::{statics, text};

struct Counter {
    count: i64,
}

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
        "counter/update (render + diff + encode)",
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
