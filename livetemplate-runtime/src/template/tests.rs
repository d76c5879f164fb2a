use super::*;
use serde_json::json;

#[test]
fn smoke_depth() {
    let t = Template::builder("page", "<div>{{> p}}</div>")
        .partial(
            "p",
            "{{#with this}}<i>{{#if x}}{{#each xs}}{{/each}}{{/if}}{{> p}}</i>{{/with}}",
        )
        .build()
        .unwrap();
    let e = t.render(&json!({"x": 1})).unwrap_err();
    println!("{e}");
    let e = t.render_html(&json!({"x": 1})).unwrap_err();
    println!("{e}");
    let t = Template::builder("page", "<div>{{> p}}</div>")
        .partial(
            "p",
            "{{#with this}}<i>{{#if x}}{{#each xs}}{{/each}}{{/if}}{{> p}}</i>{{/with}}",
        )
        .max_depth(2000)
        .build()
        .unwrap();
    let e = t.render(&json!({"x": 1})).unwrap_err();
    println!("{e}");
}
