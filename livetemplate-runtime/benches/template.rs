//! Rendering cost of the template engine: plain handlebars, `render_html` (same registry,
//! markers suppressed) and `render` (instrumented output parsed into a tree).

#[path = "../tests/templates/support.rs"]
mod support;

use criterion::{criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};

fn todos(n: usize) -> Value {
    let todos: Vec<Value> = (0..n)
        .map(|i| json!({"id": format!("t{i}"), "title": format!("Task <{i}> & more"), "done": i % 3 == 0}))
        .collect();
    json!({"draft": "", "remaining": n, "filter": "all", "filters": ["all", "active", "completed"], "todos": todos})
}

fn bench(c: &mut Criterion) {
    let cases = support::own_cases();
    let (case, _) = cases
        .iter()
        .find(|(c, _)| c.name == "todo-app")
        .expect("todo-app template");
    let oracle = case.oracle();
    let template = case.builder().build().expect("builds");
    for n in [10, 200] {
        let data = todos(n);
        let mut g = c.benchmark_group(format!("todo-app/{n}"));
        g.bench_function("handlebars", |b| {
            b.iter(|| oracle.render("todo-app", &data).expect("renders"))
        });
        g.bench_function("render_html", |b| {
            b.iter(|| template.render_html(&data).expect("renders"))
        });
        g.bench_function("render", |b| {
            b.iter(|| template.render(&data).expect("renders"))
        });
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
