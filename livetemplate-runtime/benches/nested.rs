//! A 10-level nested node tree (each level: a label, a counter and the next level); the
//! innermost counter changes. Also the same tree with every level's label changed.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion};
use livetemplate_runtime::tree::{diff::write_diff, Node, Slot, Statics};

mod support;
use support::{statics, text};

fn level(st: &[Statics], depth: usize, label: &str, leaf: &str) -> Node {
    let inner = if depth + 1 < st.len() {
        Slot::Node(level(st, depth + 1, label, leaf))
    } else {
        text(leaf)
    };
    Node {
        statics: Arc::clone(&st[depth]),
        slots: vec![
            text(format!("{label} {depth}")),
            text(depth.to_string()),
            inner,
        ],
    }
}

fn nested(c: &mut Criterion) {
    let levels: Vec<Statics> = (0..10)
        .map(|d| {
            let open = format!("<section class=\"level-{d}\"><h2>");
            statics(&[&open, "</h2><span>", "</span>", "</section>"])
        })
        .collect();
    let old = level(&levels, 0, "Level", "leaf 1");
    let leaf = level(&levels, 0, "Level", "leaf 2");
    let all = level(&levels, 0, "Renamed", "leaf 2");
    let mut out = String::with_capacity(4096);
    for (name, new) in [
        ("nested/10 levels, leaf changed", &leaf),
        ("nested/10 levels, every level changed", &all),
    ] {
        out.clear();
        write_diff(&old, new, &mut out);
        println!("{name}: {} bytes", out.len());
        c.bench_function(name, |b| {
            b.iter(|| {
                out.clear();
                write_diff(black_box(&old), black_box(new), &mut out);
                black_box(&out);
            })
        });
    }
}

criterion_group!(benches, nested);
criterion_main!(benches);
