use std::sync::Arc;

use handlebars::Handlebars;
use serde_json::{json, Value};

use super::*;
use crate::tree::{Node, Range, Slot};

/// What plain handlebars renders for the same template and partials.
fn plain(source: &str, partials: &[(&str, &str)], data: &Value) -> String {
    let mut hb = Handlebars::new();
    for (n, s) in partials {
        hb.register_partial(n, s).expect("partial parses");
    }
    hb.register_template_string("t", source)
        .expect("template parses");
    hb.render("t", data).expect("handlebars renders")
}

/// Build, render, and check the tree's HTML against handlebars.
fn tree(source: &str, partials: &[(&str, &str)], data: &Value) -> Node {
    let mut b = Template::builder("t", source);
    for (n, s) in partials {
        b = b.partial(n, s);
    }
    let t = b.build().expect("template builds");
    let node = t.render(data).expect("template renders");
    let expected = plain(source, partials, data);
    assert_eq!(node.to_html(), expected, "tree HTML");
    assert_eq!(
        t.render_html(data).expect("renders"),
        expected,
        "render_html"
    );
    node
}

fn statics(n: &Node) -> Vec<&str> {
    n.statics.iter().map(|s| &**s).collect()
}

fn text(s: &str) -> Slot {
    Slot::Text(s.to_owned())
}

fn range(slot: &Slot) -> &Range {
    match slot {
        Slot::Range(r) => r,
        other => panic!("expected a range, got {other:?}"),
    }
}

fn node(slot: &Slot) -> &Node {
    match slot {
        Slot::Node(n) => n,
        other => panic!("expected a node, got {other:?}"),
    }
}

#[test]
fn expressions_are_text_slots_between_statics() {
    let n = tree(
        "<p>{{a}}</p><i>{{{b}}}</i>",
        &[],
        &json!({"a": "<x>", "b": "<y>"}),
    );
    assert_eq!(statics(&n), ["<p>", "</p><i>", "</i>"]);
    assert_eq!(n.slots, [text("&lt;x&gt;"), text("<y>")]);
}

#[test]
fn if_renders_the_taken_branch_or_empty_text() {
    let src = "<b>{{#if on}}<em>{{v}}</em>{{else}}<s>off</s>{{/if}}</b>";
    let on = tree(src, &[], &json!({"on": true, "v": 5}));
    let branch = node(&on.slots[0]);
    assert_eq!(statics(branch), ["<em>", "</em>"]);
    assert_eq!(branch.slots, [text("5")]);
    let off = tree(src, &[], &json!({"on": false}));
    assert_eq!(statics(node(&off.slots[0])), ["<s>off</s>"]);
    let none = tree("<b>{{#if on}}x{{/if}}</b>", &[], &json!({}));
    assert_eq!(none.slots, [text("")]);
}

#[test]
fn else_if_chains_are_flattened() {
    let src = "{{#if a}}A{{else if b}}B{{v}}{{else unless c}}notC{{else}}C{{/if}}";
    let b = tree(src, &[], &json!({"b": true, "v": 1}));
    assert_eq!(statics(&b), ["", ""]);
    let branch = node(&b.slots[0]);
    assert_eq!(statics(branch), ["B", ""]);
    assert_eq!(branch.slots, [text("1")]);
    let c = tree(src, &[], &json!({"c": true}));
    assert_eq!(statics(node(&c.slots[0])), ["C"]);
    let not_c = tree(src, &[], &json!({}));
    assert_eq!(statics(node(&not_c.slots[0])), ["notC"]);
}

#[test]
fn with_and_its_else_are_nodes() {
    let src = "{{#with p}}<h1>{{name}} {{../site}}</h1>{{else}}<h1>none</h1>{{/with}}";
    let n = tree(src, &[], &json!({"p": {"name": "Ann"}, "site": "x"}));
    assert_eq!(statics(node(&n.slots[0])), ["<h1>", " ", "</h1>"]);
    let n = tree(src, &[], &json!({"site": "x"}));
    assert_eq!(statics(node(&n.slots[0])), ["<h1>none</h1>"]);
}

#[test]
fn each_is_a_range_with_positional_keys() {
    let n = tree(
        "<ul>{{#each xs}}<li>{{this}}</li>{{/each}}</ul>",
        &[],
        &json!({"xs": ["a", "b"]}),
    );
    let r = range(&n.slots[0]);
    assert_eq!(&*r.statics, &["<li>".into(), "</li>".into()] as &[Box<str>]);
    assert_eq!(r.key_slot, None);
    let keys: Vec<&str> = r.items.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(keys, ["0", "1"]);
    assert_eq!(r.items[1].slots, [text("b")]);
}

#[test]
fn data_key_and_data_lvt_key_select_the_key_slot() {
    let data = json!({"xs": [{"id": "k1", "v": 1}, {"id": "k2", "v": 2}]});
    for attr in ["data-key", "data-lvt-key"] {
        let src = format!(
            "<ul>{{{{#each xs}}}}<li {attr}=\"{{{{id}}}}\">{{{{v}}}}</li>{{{{/each}}}}</ul>"
        );
        let n = tree(&src, &[], &data);
        let r = range(&n.slots[0]);
        assert_eq!(r.key_slot, Some(0), "{attr}");
        let keys: Vec<&str> = r.items.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(keys, ["k1", "k2"]);
    }
}

#[test]
fn duplicate_or_empty_keys_fall_back_to_positions() {
    let src = "{{#each xs}}<li data-key=\"{{id}}\">{{v}}</li>{{/each}}";
    for xs in [
        json!([{"id": "a"}, {"id": "a"}]),
        json!([{"id": "a"}, {"id": ""}]),
    ] {
        let n = tree(src, &[], &json!({ "xs": xs }));
        let r = range(&n.slots[0]);
        assert_eq!(r.key_slot, None);
        assert_eq!(r.items[1].key, "1");
    }
    // `key="` alone is not a key attribute.
    let n = tree(
        "{{#each xs}}<li key=\"{{id}}\"></li>{{/each}}",
        &[],
        &json!({"xs": [{"id": "a"}]}),
    );
    assert_eq!(range(&n.slots[0]).key_slot, None);
}

#[test]
fn empty_each_is_an_empty_range_and_its_else_a_node() {
    let n = tree(
        "<ul>{{#each xs}}<li>{{this}}</li>{{/each}}</ul>",
        &[],
        &json!({"xs": []}),
    );
    let r = range(&n.slots[0]);
    assert!(r.items.is_empty());
    assert!(r.statics.is_empty());
    let n = tree(
        "<ul>{{#each xs}}<li>{{this}}</li>{{else}}<li>none {{why}}</li>{{/each}}</ul>",
        &[],
        &json!({"xs": [], "why": "empty"}),
    );
    let e = node(&n.slots[0]);
    assert_eq!(statics(e), ["<li>none ", "</li>"]);
    assert_eq!(e.slots, [text("empty")]);
}

#[test]
fn partials_are_nodes_and_keep_indentation() {
    let partials = [("row", "<li>{{name}}</li>\n<li>two</li>\n")];
    let n = tree(
        "<ul>\n  {{> row}}\n</ul>\n",
        &partials,
        &json!({"name": "x"}),
    );
    assert_eq!(statics(&n), ["<ul>\n", "</ul>\n"]);
    let p = node(&n.slots[0]);
    assert_eq!(p.to_html(), "  <li>x</li>\n  <li>two</li>\n");
}

#[test]
fn partial_blocks_and_inline_partials_are_nodes() {
    let partials = [("layout", "<main>{{> @partial-block}}</main>")];
    let n = tree(
        "{{#*inline \"x\"}}<i>{{v}}</i>{{/inline}}{{#> layout}}<b>{{v}}</b>{{> x}}{{/layout}}",
        &partials,
        &json!({"v": 1}),
    );
    let layout = node(&n.slots[0]);
    assert_eq!(statics(layout), ["<main>", "</main>"]);
    let block = node(&layout.slots[0]);
    assert_eq!(statics(block), ["<b>", "</b>", ""]);
    assert_eq!(statics(node(&block.slots[1])), ["<i>", "</i>"]);
}

#[test]
fn custom_block_helpers_are_one_text_slot() {
    let t = Template::builder("t", "<p>{{#twice}}<b>{{v}}</b>{{> p}}{{/twice}}</p>")
        .partial("p", "<i>{{#if v}}{{v}}{{/if}}</i>")
        .helper("twice", MyIf { twice: true })
        .build()
        .unwrap();
    let n = t.render(&json!({"v": 7})).unwrap();
    assert_eq!(statics(&n), ["<p>", "</p>"]);
    assert_eq!(n.slots, [text("<b>7</b><i>7</i><b>7</b><i>7</i>")]);
    assert_eq!(t.render_html(&json!({"v": 7})).unwrap(), n.to_html());
}

/// A block helper like the built-in `if` (or, with `twice`, rendering its block twice).
#[derive(Clone, Copy)]
struct MyIf {
    twice: bool,
}

impl handlebars::HelperDef for MyIf {
    fn call<'reg: 'rc, 'rc>(
        &self,
        h: &handlebars::Helper<'rc>,
        r: &'reg Handlebars<'reg>,
        ctx: &'rc handlebars::Context,
        rc: &mut handlebars::RenderContext<'reg, 'rc>,
        out: &mut dyn handlebars::Output,
    ) -> handlebars::HelperResult {
        use handlebars::{JsonTruthy, Renderable};
        let on = self.twice || h.param(0).is_some_and(|p| p.value().is_truthy(false));
        if let Some(t) = if on { h.template() } else { h.inverse() } {
            t.render(r, ctx, rc, out)?;
            if self.twice {
                t.render(r, ctx, rc, out)?;
            }
        }
        Ok(())
    }
}

const MY_IF: MyIf = MyIf { twice: false };

#[test]
fn replacing_a_builtin_block_helper_makes_it_opaque() {
    let src = "<p>{{#if x}}<b>{{x}}</b>{{else}}no{{/if}}</p>";
    let t = Template::builder("t", src)
        .helper("if", MY_IF)
        .build()
        .unwrap();
    let mut hb = Handlebars::new();
    hb.register_helper("if", Box::new(MY_IF));
    hb.register_template_string("t", src).unwrap();
    for data in [json!({"x": 1}), json!({})] {
        let n = t.render(&data).unwrap();
        assert_eq!(n.slots.len(), 1);
        assert!(matches!(n.slots[0], Slot::Text(_)), "{n:?}");
        assert_eq!(n.to_html(), hb.render("t", &data).unwrap());
    }
}

#[test]
fn text_the_client_would_blank_is_split_around_braces() {
    let n = tree("<p>{{a}}</p>", &[], &json!({"a": "{{x}}"}));
    let braces = node(&n.slots[0]);
    assert_eq!(statics(braces), ["{", "}"]);
    assert_eq!(braces.slots, [text("{x}")]);
    // Recursively: "{{{{y}}}}" = "{" + "{{{y}}}" + "}", "{{{y}}}" = "{" + "{{y}}" + "}", …
    let n = tree("{{{a}}}", &[], &json!({"a": "{{{{y}}}}"}));
    let innermost = node(&node(&node(&n.slots[0]).slots[0]).slots[0]);
    assert_eq!(statics(innermost), ["{", "}"]);
    assert_eq!(innermost.slots, [text("{y}")]);
    // Range item slots too; "{{" alone is fine.
    let n = tree(
        "{{#each xs}}<i>{{this}}</i>{{/each}}",
        &[],
        &json!({"xs": ["{{}}", "{{"]}),
    );
    let r = range(&n.slots[0]);
    assert!(matches!(r.items[0].slots[0], Slot::Node(_)));
    assert_eq!(r.items[1].slots[0], text("{{"));
}

#[test]
fn reserved_characters_in_escaped_data_are_kept() {
    let all: String = ('\u{FDD0}'..='\u{FDEF}').collect();
    let data = json!({"a": format!("x{all}y"), "xs": [all.clone(), "b"], "on": true});
    let src = "<p title=\"{{a}}\">{{a}}</p>{{#each xs}}<li data-key=\"{{this}}\">{{this}}</li>{{/each}}{{#if on}}{{a}}{{/if}}";
    let n = tree(src, &[], &data);
    assert_eq!(n.slots[0], Slot::Text(format!("x{all}y")));
    let r = range(&n.slots[2]);
    assert_eq!(r.key_slot, Some(0));
    assert_eq!(r.items[0].key, all);
}

#[test]
fn reserved_characters_in_raw_output_never_panic_nor_give_a_wrong_page() {
    let t = Template::new(
        "t",
        "<p>{{#if on}}{{{a}}}{{/if}}</p>{{#each xs}}{{{this}}}{{/each}}",
    )
    .unwrap();
    for c in '\u{FDD0}'..='\u{FDEF}' {
        for s in [
            format!("{c}"),
            format!("a{c}b"),
            format!("{c}\u{FDE1}"),
            format!("\u{FDD1}{c}"),
        ] {
            let data = json!({"on": true, "a": s, "xs": [s, "z"]});
            let html = t.render_html(&data).unwrap();
            match t.render(&data) {
                Ok(n) => {
                    // Only reserved characters may be missing from the tree's HTML.
                    let strip = |s: &str| {
                        s.chars()
                            .filter(|c| !marker::is_reserved(*c))
                            .collect::<String>()
                    };
                    assert_eq!(strip(&n.to_html()), strip(&html));
                }
                Err(e) => assert!(matches!(e, RenderError::Markers { .. }), "{e}"),
            }
        }
    }
}

#[test]
fn unchanged_structure_reuses_statics() {
    let t = Template::builder(
        "t",
        "<ul>{{#each xs}}<li>{{this}}</li>{{/each}}</ul>{{> p}}",
    )
    .partial("p", "<i>{{n}}</i>")
    .build()
    .unwrap();
    let a = t.render(&json!({"xs": [1, 2], "n": 1})).unwrap();
    let b = t.render(&json!({"xs": [3], "n": 2})).unwrap();
    assert!(Arc::ptr_eq(&a.statics, &b.statics));
    let (ra, rb) = (range(&a.slots[0]), range(&b.slots[0]));
    assert!(Arc::ptr_eq(&ra.statics, &rb.statics));
    assert!(Arc::ptr_eq(
        &node(&a.slots[1]).statics,
        &node(&b.slots[1]).statics
    ));
    let t2 = t.clone();
    let c = std::thread::spawn(move || t2.render(&json!({"xs": [], "n": 3})).unwrap())
        .join()
        .unwrap();
    assert!(Arc::ptr_eq(&a.statics, &c.statics));
}

#[test]
fn template_is_send_sync_and_cheap_to_clone() {
    fn assert_traits<T: Send + Sync + Clone + 'static>() {}
    assert_traits::<Template>();
    let t = Template::new("name", "x").unwrap();
    assert_eq!(t.name(), "name");
    assert_eq!(t.clone().render_html(&Value::Null).unwrap(), "x");
}

fn build_err(b: TemplateBuilder) -> TemplateError {
    b.build().expect_err("build must fail")
}

#[test]
fn syntax_errors_name_template_line_and_column() {
    let e = build_err(Template::builder("page", "<p>\n{{#if a}}\n</p>{{/each}}"));
    assert!(matches!(e, TemplateError::Syntax { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("template `page`") && msg.contains("line 3"),
        "{msg}"
    );
    let e = build_err(Template::builder("page", "ok").partial("side", "x\n{{#if}}"));
    let msg = e.to_string();
    assert!(msg.contains("`side`") && msg.contains("line 2"), "{msg}");
    // Mustache-style sections and inverted sections are not handlebars-rust syntax.
    for src in ["{{#a.b}}x{{/a.b}}", "{{^x}}y{{/x}}"] {
        assert!(
            matches!(
                build_err(Template::builder("t", src)),
                TemplateError::Syntax { .. }
            ),
            "{src}"
        );
    }
}

#[test]
fn unknown_partials_are_build_errors() {
    let e = build_err(Template::builder("page", "<p>\n  {{> missing}}</p>"));
    let msg = e.to_string();
    assert!(matches!(e, TemplateError::UnknownPartial { ref name, .. } if name == "missing"));
    assert!(
        msg.contains("template `page`") && msg.contains("line 2") && msg.contains("`missing`"),
        "{msg}"
    );
    let e =
        build_err(Template::builder("page", "{{> a}}").partial("a", "\n\n{{#if x}}{{> b}}{{/if}}"));
    assert!(e.to_string().contains("template `a`, line 3"), "{e}");
    // Registered, inline, dynamic, partial blocks with a fallback, @partial-block: fine.
    Template::builder("page", "{{> a}}{{#*inline \"i\"}}x{{/inline}}{{> i}}{{> (lookup this \"p\")}}{{#> nope}}fallback{{/nope}}")
        .partial("a", "{{#> b}}x{{/b}}")
        .partial("b", "{{> @partial-block}}")
        .build()
        .unwrap();
}

#[test]
fn unknown_helpers_are_build_errors() {
    for (src, helper, line) in [
        ("<p>{{shout name}}</p>", "shout", 1),
        ("\n{{#items}}x{{/items}}", "items", 2),
        ("{{lookup a (nope 1)}}", "nope", 1),
        ("\n\n{{#if (bad x)}}{{/if}}", "bad", 3),
        ("{{#each xs}}\n{{{raw_html x}}}{{/each}}", "raw_html", 2),
        ("{{> (pick this)}}", "pick", 1),
    ] {
        let e = build_err(Template::builder("page", src).partial("p", ""));
        match &e {
            TemplateError::UnknownHelper { name, location } => {
                assert_eq!(name, helper, "{src}");
                assert_eq!(location.template, "page");
                assert_eq!(location.line, Some(line), "{src}: {e}");
            }
            other => panic!("{src}: {other:?}"),
        }
        assert!(e.to_string().contains(&format!("`{helper}`")));
    }
    // Paths, built-ins and registered helpers are fine.
    Template::builder(
        "t",
        "{{name}}{{{html}}}{{len xs}}{{#eq a b}}y{{/eq}}{{shout x}}{{#if (shout y)}}{{/if}}",
    )
    .helper("shout", MY_IF)
    .build()
    .unwrap();
    // A registered helperMissing accepts unknown helpers.
    Template::builder("t", "{{whatever x}}")
        .helper("helperMissing", MY_IF)
        .build()
        .unwrap();
    let e = build_err(Template::builder("t", "{{*deco}}"));
    assert!(matches!(e, TemplateError::UnknownDecorator { .. }), "{e:?}");
}

#[test]
fn names_and_characters_that_are_reserved() {
    let e = build_err(Template::builder("t", "a").partial("t", "b"));
    assert!(matches!(e, TemplateError::Name(_)));
    let e = build_err(Template::builder("t", "a").helper(marker::HELPER_NAME, MY_IF));
    assert!(matches!(e, TemplateError::Name(_)));
    let e = build_err(Template::builder("t", "ab\ncd\u{FDD5}"));
    match e {
        TemplateError::ReservedCharacter { location, code } => {
            assert_eq!(
                (location.line, location.column, code),
                (Some(2), Some(3), 0xFDD5)
            );
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn infinite_partial_recursion_is_a_depth_error() {
    // Directly inside a block, handlebars does not detect self inclusion.
    let t = Template::builder("page", "<div>{{> p}}</div>")
        .partial(
            "p",
            "{{#with this}}<i>{{#each xs}}{{/each}}{{> p}}</i>{{/with}}",
        )
        .build()
        .unwrap();
    for r in [
        t.render(&json!({"x": 1})).map(|_| ()),
        t.render_html(&json!({"x": 1})).map(|_| ()),
    ] {
        match r {
            Err(RenderError::DepthExceeded {
                template,
                max_depth,
            }) => {
                assert_eq!((template.as_str(), max_depth), ("page", DEFAULT_MAX_DEPTH));
            }
            other => panic!("{other:?}"),
        }
    }
    // A render after a failed one starts from depth 0 again.
    let ok = Template::builder("page", "{{> p}}")
        .partial("p", "{{v}}")
        .build()
        .unwrap();
    assert_eq!(ok.render_html(&json!({"v": 1})).unwrap(), "1");
}

#[test]
fn depth_limit_counts_partial_levels() {
    let src = "{{#if child}}<b>{{#with child}}{{> node}}{{/with}}</b>{{/if}}";
    let t = Template::builder("t", "{{> node}}")
        .partial("node", src)
        .max_depth(3)
        .build()
        .unwrap();
    let deep = |n: usize| {
        // Empty objects are falsy: end with a non-empty leaf.
        let mut v = json!({"leaf": 1});
        for _ in 0..n {
            v = json!({ "child": v });
        }
        v
    };
    assert_eq!(t.render(&deep(2)).unwrap().to_html(), "<b><b></b></b>");
    assert!(matches!(
        t.render(&deep(3)),
        Err(RenderError::DepthExceeded { max_depth: 3, .. })
    ));
    // Deep but finite recursion works well past the default stack size (the data stays
    // shallow: each level looks up the next name).
    let t = Template::builder("t", "{{> chain n=\"k0\"}}")
        .partial(
            "chain",
            "{{#if n}}<b>{{> chain n=(lookup @root.next n)}}</b>{{/if}}",
        )
        .max_depth(600)
        .build()
        .unwrap();
    let next: serde_json::Map<String, Value> = (0..499)
        .map(|i| (format!("k{i}"), json!(format!("k{}", i + 1))))
        .collect();
    let html = t.render(&json!({ "next": next })).unwrap().to_html();
    assert_eq!(html.len(), 500 * "<b></b>".len());
}

#[test]
fn handlebars_render_errors_name_the_template() {
    let t = Template::builder("page", "<p>\n{{> (lookup this \"kind\")}}</p>")
        .partial("a", "A")
        .build()
        .unwrap();
    assert_eq!(t.render_html(&json!({"kind": "a"})).unwrap(), "<p>\nA</p>");
    let e = t.render(&json!({"kind": "zzz"})).unwrap_err();
    assert!(matches!(e, RenderError::Handlebars { .. }));
    let msg = e.to_string();
    assert!(msg.contains("`page`") && msg.contains("zzz"), "{msg}");
    // Self inclusion at the top of a partial is refused by handlebars itself.
    let t = Template::builder("page", "{{> p}}")
        .partial("p", "x{{> p}}")
        .build()
        .unwrap();
    assert!(matches!(
        t.render(&json!({})),
        Err(RenderError::Handlebars { .. })
    ));
}

#[test]
fn whitespace_control_and_standalone_lines_match_handlebars() {
    let partials = [("item", "<li>\n  {{name}}\n</li>\n")];
    let src = "<ul>\n  {{#each xs}}\n    {{> item}}\n  {{/each}}\n</ul>\n<p>  {{~v~}}  </p>\n{{#if v~}}\n  yes\n{{~/if}}\n";
    for data in [
        json!({"xs": [{"name": "a"}, {"name": "b"}], "v": "x"}),
        json!({"xs": []}),
    ] {
        let n = tree(src, &partials, &data);
        if let Slot::Range(r) = &n.slots[0] {
            assert!(r.items.iter().all(|i| i.slots.len() == 1));
        }
    }
}

#[test]
fn render_errors_keep_handlebars_positions() {
    let partials = [("p", "ok\n\n{{lookup}}")];
    for src in [
        "a\nb {{lookup}}",
        "a\n{{#each xs}}\n  x\n  {{#if this}}{{lookup}}{{/if}}\n{{/each}}",
        "{{#with w}}\n{{> p}}{{/with}}",
        "\n{{#each xs}}{{len}}{{/each}}",
    ] {
        let mut hb = Handlebars::new();
        for (n, s) in partials {
            hb.register_partial(n, s).unwrap();
        }
        hb.register_template_string("t", src).unwrap();
        let data = json!({"xs": [1], "w": {"a": 1}});
        let expected = hb.render("t", &data).expect_err("handlebars fails");
        let mut b = Template::builder("t", src);
        for (n, s) in partials {
            b = b.partial(n, s);
        }
        let t = b.build().unwrap();
        for got in [
            t.render(&data).map(|_| ()),
            t.render_html(&data).map(|_| ()),
        ] {
            match got {
                Err(RenderError::Handlebars { source, .. }) => {
                    assert_eq!(
                        (&source.template_name, source.line_no, source.column_no),
                        (
                            &expected.template_name,
                            expected.line_no,
                            expected.column_no
                        ),
                        "{src}"
                    );
                    assert_eq!(source.to_string(), expected.to_string());
                }
                other => panic!("{src}: {other:?}"),
            }
        }
    }
}

#[test]
fn partial_block_content_inside_an_opaque_block_is_plain_text() {
    let src = "{{#> layout}}<b>{{v}}</b>{{#if v}}!{{/if}}{{/layout}}";
    let layout = "<main>{{#twice}}[{{> @partial-block}}]{{/twice}}</main>";
    let t = Template::builder("t", src)
        .partial("layout", layout)
        .helper("twice", MyIf { twice: true })
        .build()
        .unwrap();
    let mut hb = Handlebars::new();
    hb.register_helper("twice", Box::new(MyIf { twice: true }));
    hb.register_partial("layout", layout).unwrap();
    hb.register_template_string("t", src).unwrap();
    let data = json!({"v": "x<"});
    let n = t.render(&data).unwrap();
    assert_eq!(n.to_html(), hb.render("t", &data).unwrap());
    let main = node(&n.slots[0]);
    assert_eq!(statics(main), ["<main>", "</main>"]);
    assert_eq!(main.slots, [text("[<b>x&lt;</b>!][<b>x&lt;</b>!]")]);
}

#[test]
fn rows_rendered_by_a_partial_are_inlined_and_keyed() {
    let partials = [("row", "<li data-key=\"{{id}}\">{{name}}</li>\n")];
    let src = "<ul>\n  {{#each xs}}\n  {{> row}}\n  {{/each}}\n</ul>\n";
    let data = json!({"xs": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"}]});
    let n = tree(src, &partials, &data);
    let r = range(&n.slots[0]);
    assert_eq!(
        &*r.statics,
        &["  <li data-key=\"".into(), "\">".into(), "</li>\n".into()] as &[Box<str>]
    );
    assert_eq!(r.key_slot, Some(0));
    assert_eq!(r.items[1].key, "b");
    assert_eq!(r.items[1].slots, [text("b"), text("B")]);
    // Interned across renders.
    let t = Template::builder("t", src)
        .partial("row", partials[0].1)
        .build()
        .unwrap();
    let a = t.render(&data).unwrap();
    let b = t
        .render(&json!({"xs": [{"id": "c", "name": "C"}]}))
        .unwrap();
    assert!(Arc::ptr_eq(
        &range(&a.slots[0]).statics,
        &range(&b.slots[0]).statics
    ));
    // Rows whose node differs (here: a branch taken or not) stay nested.
    let n = tree(
        "{{#each xs}}{{#if on}}<i>{{id}}</i>{{/if}}{{/each}}",
        &[],
        &json!({"xs": [{"on": true, "id": 1}, {"id": 2}]}),
    );
    assert_eq!(range(&n.slots[0]).statics.len(), 2);
}

#[test]
fn recursion_through_an_opaque_block_is_a_depth_error() {
    let t = Template::builder("page", "{{> p}}")
        .partial(
            "p",
            "<i>{{#twice}}{{#each xs}}{{/each}}{{> p}}{{/twice}}</i>",
        )
        .helper("twice", MyIf { twice: true })
        .max_depth(20)
        .build()
        .unwrap();
    assert!(matches!(
        t.render(&json!({})),
        Err(RenderError::DepthExceeded { max_depth: 20, .. })
    ));
    assert!(matches!(
        t.render_html(&json!({})),
        Err(RenderError::DepthExceeded { .. })
    ));
}

/// Render every state in order with one cache: each cached tree equals the plain render
/// and the plain handlebars HTML; returns the cache.
fn cached_sequence(source: &str, states: &[Value]) -> RenderCache {
    let t = Template::new("t", source).expect("template builds");
    let mut cache = RenderCache::new();
    for (i, state) in states.iter().enumerate() {
        for _ in 0..2 {
            let plain_tree = t.render(state).expect("renders");
            let cached = t.render_cached(state, &mut cache).expect("renders cached");
            assert_eq!(cached, plain_tree, "{source} state {i}");
            assert_eq!(cached.to_html(), plain(source, &[], state), "state {i}");
        }
    }
    cache
}

#[test]
fn render_cached_reuses_items_that_read_only_the_item() {
    let states = [
        json!({"title": "T", "rows": [{"id": "a", "n": 1}, {"id": "b"}]}),
        json!({"title": "U", "rows": [{"id": "a", "n": 2}, {"id": "b"}, {"id": "c", "tags": ["x", "y"]}]}),
        json!({"title": "U", "rows": []}),
        json!({"title": "U", "rows": {"k": {"id": "o"}}}),
        json!({"title": "U", "rows": ["s", 1, null, true]}),
        json!({"title": "V", "rows": [{"id": "c", "tags": ["y"]}, {"id": "a", "n": 2}]}),
    ];
    let cacheable = [
        r#"<ul>{{#each rows}}<li data-key="{{id}}">{{n}}{{title}}</li>{{/each}}</ul>"#,
        r#"{{#each rows}}{{#if n}}<b>{{n}}</b>{{else}}-{{/if}}{{#each tags}}<i>{{this}}</i>{{/each}}{{/each}}"#,
        r#"{{#each rows}}[{{this}}]{{else}}empty{{/each}}"#,
        r#"{{#each rows}}{{#with this}}{{eq id "a"}}{{len tags}}{{/with}}{{/each}}"#,
    ];
    for source in cacheable {
        let cache = cached_sequence(source, &states);
        assert!(cache.cached_items() > 0, "{source}: nothing cached");
    }
    // Bodies that read more than the item are rendered every time.
    let not_cacheable = [
        r#"{{#each rows}}{{../title}}{{id}}{{/each}}"#,
        r#"{{#each rows}}{{@index}}{{id}}{{/each}}"#,
        r#"{{#each rows}}{{@root.title}}{{/each}}"#,
        r#"{{#each rows as |r|}}{{r.id}}{{/each}}"#,
        r#"{{#each rows}}{{#each tags}}{{@../index}}{{/each}}{{/each}}"#,
        r#"{{#each rows}}{{log id}}{{/each}}"#,
    ];
    for source in not_cacheable {
        let cache = cached_sequence(source, &states);
        assert_eq!(cache.cached_items(), 0, "{source}: items were cached");
    }
}

/// Render every state twice with one cache: each cached tree equals the plain render
/// and handlebars' HTML; returns the number of items cached.
fn cached_with_partials(source: &str, partials: &[(&str, &str)], states: &[Value]) -> usize {
    let mut b = Template::builder("t", source);
    for (n, p) in partials {
        b = b.partial(n, p);
    }
    let t = b.build().expect("template builds");
    let mut cache = RenderCache::new();
    for (i, state) in states.iter().enumerate() {
        for _ in 0..2 {
            let cached = t.render_cached(state, &mut cache).expect("renders cached");
            assert_eq!(
                cached,
                t.render(state).expect("renders"),
                "{source} state {i}"
            );
            assert_eq!(
                cached.to_html(),
                plain(source, partials, state),
                "{source} state {i}"
            );
        }
    }
    cache.cached_items()
}

#[test]
fn render_cached_reuses_items_that_include_pure_partials() {
    let states = [
        json!({"rows": [{"id": "a", "done": true}, {"id": "b"}], "title": "T"}),
        json!({"rows": [{"id": "a", "done": true}, {"id": "c", "kids": [{"id": "k"}]}, {"id": "b"}], "title": "U"}),
        json!({"rows": [{"id": "b", "done": true}], "title": "U"}),
    ];
    let row = "<li data-key=\"{{id}}\">\n  {{#if done}}\n  {{id}}!\n  {{/if}}\n</li>\n";
    let cached = [
        (
            "{{#each rows}}{{> row}}{{/each}}",
            vec![("row", "<p>{{id}}</p>")],
        ),
        (
            "<ul>\n  {{#each rows}}\n  {{> row}}\n  {{/each}}\n</ul>\n",
            vec![("row", row)],
        ),
        // Not standalone, indented, and starting with a standalone block: the item's
        // output depends on the render state before it.
        (
            "{{#each rows}}  {{> row}} x\n{{/each}}",
            vec![("row", "{{#if done}}\n{{id}}\n{{/if}}")],
        ),
        (
            "{{#each rows}}{{> row this}}{{/each}}",
            vec![("row", "[{{id}}]")],
        ),
        (
            "{{> head}}{{#each rows}}{{> row}}{{/each}}",
            vec![
                ("head", "<h1>{{title}}</h1>\n"),
                ("row", "{{> cell}}{{#each kids}}{{> cell}}{{/each}}"),
                ("cell", "<i>{{id}}</i>"),
            ],
        ),
    ];
    for (source, partials) in &cached {
        assert!(
            cached_with_partials(source, partials, &states) > 0,
            "{source}: nothing cached"
        );
    }
    let not_cached = [
        (
            "{{#each rows}}{{> row}}{{/each}}",
            vec![("row", "<p>{{../title}}</p>")],
        ),
        (
            "{{#each rows}}{{> row}}{{/each}}",
            vec![("row", "<p>{{@index}}</p>")],
        ),
        (
            "{{#each rows}}{{> row x=1}}{{/each}}",
            vec![("row", "<p>{{x}}</p>")],
        ),
        (
            "{{#each rows}}{{> row}}{{/each}}",
            vec![("row", "{{> other}}"), ("other", "{{> row}}")],
        ),
        (
            "{{#each rows}}{{> row}}{{/each}}{{> (lookup this \"p\")}}",
            vec![("row", "{{id}}")],
        ),
        (
            "{{#each rows}}{{> row}}{{/each}}{{#> row}}x{{/row}}",
            vec![("row", "{{id}}")],
        ),
    ];
    for (source, partials) in &not_cached {
        let mut b = Template::builder("t", source);
        for (n, p) in partials {
            b = b.partial(n, p);
        }
        let t = b.build().expect("template builds");
        assert!(!t.reuses_items(), "{source}: items may be reused");
    }
}

#[test]
fn render_cached_is_render_with_custom_helpers() {
    let data = json!({"rows": [{"id": "a"}, {"id": "b"}]});

    let shout = |h: &handlebars::Helper<'_>,
                 _: &Handlebars<'_>,
                 _: &handlebars::Context,
                 _: &mut handlebars::RenderContext<'_, '_>,
                 out: &mut dyn handlebars::Output|
     -> handlebars::HelperResult {
        let v = h
            .param(0)
            .map(|p| p.value().to_string())
            .unwrap_or_default();
        out.write(&v.to_uppercase())?;
        Ok(())
    };
    let t = Template::builder("t", "{{#each rows}}{{shout id}}{{/each}}")
        .helper("shout", shout)
        .build()
        .expect("builds");
    let mut cache = RenderCache::new();
    assert_eq!(
        t.render_cached(&data, &mut cache).expect("renders"),
        t.render(&data).expect("renders")
    );
    assert_eq!(cache.cached_items(), 0);
}

#[test]
fn render_cache_follows_its_template() {
    let a = Template::new("a", "{{#each xs}}<i>{{this}}</i>{{/each}}").expect("builds");
    let b = Template::new("b", "{{#each xs}}<b>{{this}}</b>{{/each}}").expect("builds");
    let data = json!({"xs": [1, 2]});
    let mut cache = RenderCache::new();
    for t in [&a, &b, &a] {
        assert_eq!(
            t.render_cached(&data, &mut cache).expect("renders"),
            t.render(&data).expect("renders")
        );
    }
}

#[test]
fn render_cache_can_move_between_threads() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<RenderCache>();
    let t = Template::new("t", "{{#each xs}}<i>{{this}}</i>{{/each}}").expect("builds");
    let mut cache = RenderCache::new();
    let data = json!({"xs": [1, 2, 3]});
    t.render_cached(&data, &mut cache).expect("renders");
    let t2 = t.clone();
    let (node, cache) = std::thread::spawn(move || {
        let node = t2.render_cached(&data, &mut cache).expect("renders");
        (node, cache)
    })
    .join()
    .expect("thread ends");
    assert_eq!(node.to_html(), "<i>1</i><i>2</i><i>3</i>");
    assert_eq!(cache.cached_items(), 3);
}

mod sequences {
    use proptest::prelude::*;
    use serde::Serialize;

    use super::*;

    #[derive(Clone, Debug, Serialize)]
    struct Row {
        id: String,
        name: String,
        done: bool,
    }

    #[derive(Clone, Debug, Serialize)]
    struct Group {
        title: String,
        items: Vec<Row>,
    }

    #[derive(Clone, Debug, Serialize)]
    struct Page {
        rows: Vec<String>,
    }

    #[derive(Clone, Debug, Serialize)]
    struct State {
        rows: Vec<Row>,
        groups: Vec<Group>,
        page: Option<Page>,
    }

    type Partials = &'static [(&'static str, &'static str)];

    const TEMPLATES: &[(&str, Partials)] = &[
        (
            r#"<table>{{#each rows}}<tr data-key="{{id}}"><td>{{name}}</td>{{#if done}}<b>!</b>{{/if}}</tr>{{/each}}</table>"#,
            &[],
        ),
        (
            r#"{{#each groups}}<h2>{{title}}</h2><ul>{{#each items}}<li data-key="{{id}}">{{name}}</li>{{/each}}</ul>{{/each}}"#,
            &[],
        ),
        (
            r#"{{#with page}}{{#each rows}}<p>{{this}}</p>{{else}}none{{/each}}{{/with}}"#,
            &[],
        ),
        (
            "<ul>\n  {{#each rows}}\n  <li data-key=\"{{id}}\">{{name}}</li>\n  {{/each}}\n</ul>\n{{#each rows}}{{#if done}}{{name}}\n{{/if}}{{/each}}",
            &[],
        ),
        (
            r#"{{#each groups}}{{#each items}}{{#each ../items}}{{id}}{{/each}}{{/each}}{{/each}}"#,
            &[],
        ),
        (
            r#"{{#each groups}}{{#if items}}{{#each items}}<i data-key="{{name}}">{{id}}</i>{{/each}}{{/if}}{{/each}}"#,
            &[],
        ),
        (
            r#"{{#each this.rows}}<i data-key="{{id}}">{{name}}</i>{{/each}}{{#with this}}{{#each ./groups}}{{#each [items]}}{{name}}{{/each}}{{/each}}{{/with}}"#,
            &[],
        ),
        (
            "<table>{{#each rows}}{{> row}}{{/each}}</table>",
            &[(
                "row",
                r#"<tr data-key="{{id}}"><td>{{name}}</td>{{#if done}}<b>!</b>{{/if}}</tr>"#,
            )],
        ),
        (
            "<ul>\n  {{#each rows}}\n  {{> row}}\n  {{/each}}\n</ul>\n",
            &[(
                "row",
                "<li data-key=\"{{id}}\">\n  {{#if done}}\n  {{name}}\n  {{/if}}\n</li>\n",
            )],
        ),
        (
            "{{#each groups}}{{> group}}{{/each}}",
            &[
                ("group", "<h2>{{title}}</h2>\n{{#each items}}\n  {{> item}}\n{{/each}}\n"),
                ("item", "<i>{{name}}</i>\n{{#if done}}\n  done\n{{/if}}\n"),
            ],
        ),
        (
            "{{> head}}{{#each rows}}  {{> row}} x\n{{/each}}",
            &[
                ("head", "<h1>{{#each rows}}{{id}}{{/each}}</h1>\n"),
                ("row", "{{#if done}}\n{{name}}\n{{/if}}"),
            ],
        ),
    ];

    fn row() -> impl Strategy<Value = Row> {
        (
            prop::sample::select(vec!["a", "b", "c", "d", ""]),
            prop::sample::select(vec!["x", "y", "{{z}}", "<&>"]),
            any::<bool>(),
        )
            .prop_map(|(id, name, done)| Row {
                id: id.into(),
                name: name.into(),
                done,
            })
    }

    fn state() -> impl Strategy<Value = State> {
        (
            prop::collection::vec(row(), 0..5),
            prop::collection::vec(
                (
                    prop::sample::select(vec!["g", "h"]),
                    prop::collection::vec(row(), 0..4),
                )
                    .prop_map(|(t, items)| Group {
                        title: t.into(),
                        items,
                    }),
                0..3,
            ),
            prop::option::of(
                prop::collection::vec(prop::sample::select(vec!["p", "q"]), 0..3).prop_map(
                    |rows| Page {
                        rows: rows.into_iter().map(String::from).collect(),
                    },
                ),
            ),
        )
            .prop_map(|(rows, groups, page)| State { rows, groups, page })
    }

    /// Small edits of the last state, so that consecutive states share most items.
    fn edit(s: &State, which: u8, at: usize) -> State {
        let mut s = s.clone();
        match which % 6 {
            0 if !s.rows.is_empty() => {
                let i = at % s.rows.len();
                s.rows[i].name.push('!');
            }
            1 if !s.rows.is_empty() => {
                s.rows.remove(at % s.rows.len());
            }
            2 => s.rows.reverse(),
            3 if !s.groups.is_empty() => {
                let i = at % s.groups.len();
                s.groups[i].items.push(Row {
                    id: format!("n{at}"),
                    name: "new".into(),
                    done: at % 2 == 0,
                });
            }
            4 => s.page = None,
            _ => s.rows.push(Row {
                id: format!("r{at}"),
                name: "r".into(),
                done: false,
            }),
        }
        s
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// Cached renders, whatever way the data reaches the cache, equal plain renders.
        #[test]
        fn cached_renders_follow_state_sequences(
            first in state(),
            steps in prop::collection::vec((any::<bool>(), state(), any::<u8>(), 0usize..8), 1..8),
        ) {
            for (source, partials) in TEMPLATES {
                let mut b = Template::builder("t", source);
                for (n, p) in partials.iter() {
                    b = b.partial(n, p);
                }
                let t = b.build().expect("builds");
                let mut by_value = RenderCache::new();
                let mut by_update = RenderCache::new();
                let mut by_hand = RenderCache::new();
                let mut s = first.clone();
                for (i, (fresh, next, which, at)) in std::iter::once((true, first.clone(), 0, 0))
                    .chain(steps.iter().cloned())
                    .enumerate()
                {
                    s = if fresh { next } else { edit(&s, which, at) };
                    let data = serde_json::to_value(&s).expect("serializes");
                    let plain = t.render(&data).expect("renders");
                    prop_assert_eq!(plain.to_html(), super::plain(source, partials, &data));
                    let cached = t.render_cached(&data, &mut by_value).expect("renders");
                    prop_assert_eq!(&cached, &plain, "{} step {} (render_cached)", source, i);
                    by_update.update_data(&s).expect("serializes");
                    let held = t.render_held(&mut by_update).expect("renders");
                    prop_assert_eq!(&held, &plain, "{} step {} (update_data)", source, i);
                    *by_hand.data_mut() = data.clone();
                    let held = t.render_held(&mut by_hand).expect("renders");
                    prop_assert_eq!(&held, &plain, "{} step {} (data_mut)", source, i);
                }
            }
        }
    }

    #[test]
    fn unchanged_items_are_shared_with_the_last_tree() {
        let t = Template::new("t", TEMPLATES[0].0).expect("builds");
        let mut s = State {
            rows: (0..50)
                .map(|i| Row {
                    id: format!("r{i}"),
                    name: format!("n{i}"),
                    done: i % 3 == 0,
                })
                .collect(),
            groups: Vec::new(),
            page: None,
        };
        let mut cache = RenderCache::new();
        cache.update_data(&s).expect("serializes");
        let a = t.render_held(&mut cache).expect("renders");
        s.rows[7].name = "changed".into();
        cache.update_data(&s).expect("serializes");
        let b = t.render_held(&mut cache).expect("renders");
        let (Slot::Range(ra), Slot::Range(rb)) = (&a.slots[0], &b.slots[0]) else {
            panic!("ranges expected");
        };
        for (i, (x, y)) in ra.items.iter().zip(&rb.items).enumerate() {
            assert_eq!(Arc::ptr_eq(x, y), i != 7, "item {i}");
        }
        assert_eq!(
            crate::tree::diff::diff(&a, &b),
            r#"{"0":[["u","r7",{"1":"changed"}]]}"#
        );
    }
}

/// Reused items and a few fresh ones whose keys collide, empty, or move: the key slot
/// is decided as in a plain render.
#[test]
fn key_slot_follows_fresh_items_among_reused_ones() {
    let sources = [
        r#"<ul>{{#each rows}}<li data-key="{{id}}">{{name}}</li>{{/each}}</ul>"#,
        r#"<ul>{{#each rows}}<li data-lvt-key="{{name}}" data-key="{{id}}">{{name}}</li>{{/each}}</ul>"#,
        r#"<ul>{{#each rows}}<li>{{id}}</li>{{/each}}</ul>"#,
    ];
    let rows = |edit: &dyn Fn(&mut Vec<Value>)| {
        let mut rows: Vec<Value> = (0..20)
            .map(|i| json!({"id": format!("r{i}"), "name": format!("n{}", i % 3)}))
            .collect();
        edit(&mut rows);
        json!({ "rows": rows })
    };
    let states = [
        rows(&|_| {}),
        rows(&|r| r[3]["id"] = json!("r10")),
        rows(&|_| {}),
        rows(&|r| r[3]["id"] = json!("")),
        rows(&|r| r[3]["id"] = json!("x")),
        rows(&|r| r.push(json!({"id": "r0", "name": "dup"}))),
        rows(&|r| r.push(json!({"id": "r20", "name": "new"}))),
        rows(&|r| {
            for row in r.iter_mut().take(10) {
                row["name"] = json!("same");
            }
        }),
        rows(&|r| r[19]["name"] = json!("n0")),
        rows(&|r| r.truncate(1)),
        rows(&|_| {}),
    ];
    for source in sources {
        let t = Template::new("t", source).expect("builds");
        let mut cache = RenderCache::new();
        for (i, state) in states.iter().enumerate() {
            let plain = t.render(state).expect("renders");
            let cached = t.render_cached(state, &mut cache).expect("renders");
            assert_eq!(cached, plain, "{source} state {i}");
        }
    }
}

/// Flat templates (text and plain values) render without handlebars; everything else,
/// and every value the direct render cannot produce the same way, goes through it. The
/// trees are the same either way, and so are the errors.
#[test]
fn flat_templates_render_directly_and_identically() {
    struct Echo;
    impl handlebars::HelperDef for Echo {}
    let flat = [
        "<p>{{count}}</p>",
        "{{a.b}} and {{{a.b}}} {{! a comment }}{{a.list.1}}",
        "no values at all",
        "{{~a.b~}}  {{[a]}}.{{a/b}}",
    ];
    let not_flat = [
        ("{{#if a}}x{{/if}}", None),
        ("{{this}}", None),
        ("{{@root.a}}", None),
        ("{{../a}}", None),
        ("{{len}}", None),
        ("{{lookup a 'b'}}", None),
        ("{{> p}}", None),
        ("{{echo}}", Some("echo")),
        ("{{a}}", Some("helperMissing")),
    ];
    let data = [
        json!({}),
        json!({"count": 1, "a": {"b": "<b>&\"'`=", "list": [1, true, null]}}),
        json!({"a": {"b": "{{x}}", "list": "str"}}),
        json!({"a": {"b": [1, [2, {"c": null}], 1.5], "list": {"1": "one"}}}),
        json!({"a": {"b": "reserved \u{FDD0} char", "list": []}}),
        json!({"a": [1, 2], "count": null}),
        json!({"a": {"b": false}, "count": -0.0}),
    ];
    for source in flat {
        let t = Template::builder("t", source)
            .partial("p", "")
            .build()
            .expect("builds");
        assert!(t.renders_directly(), "{source} is flat");
        for d in &data {
            match (t.render(d), t.render_instrumented(d)) {
                (Ok(a), Ok(b)) => {
                    assert_eq!(a, b, "{source} with {d}");
                    assert!(Arc::ptr_eq(&a.statics, &b.statics), "{source}");
                }
                (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
                (a, b) => panic!("{source} with {d}: {a:?} vs {b:?}"),
            }
        }
    }
    for (source, helper) in not_flat {
        let mut b = Template::builder("t", source).partial("p", "");
        if let Some(name) = helper {
            b = b.helper(name, Echo);
        }
        let t = b.build().expect("builds");
        assert!(!t.renders_directly(), "{source} is not flat");
    }
}

/// A flat template of top-level fields renders straight from a state into a reused
/// tree; the tree equals the one rendered from the state's template data, and the
/// direct path declines only what it cannot render as a plain text slot.
mod fields {
    use proptest::prelude::*;
    use serde::Serialize;

    use super::*;
    use crate::template::FieldTexts;

    #[derive(Clone, Copy, Debug, Serialize)]
    enum Kind {
        Plain,
        #[serde(rename = "re-named")]
        Renamed,
    }

    #[derive(Clone, Debug, Serialize)]
    struct State {
        n: i64,
        u: u8,
        s: String,
        b: bool,
        o: Option<String>,
        c: char,
        k: Kind,
        #[serde(skip_serializing_if = "Option::is_none")]
        maybe: Option<i32>,
        unit: (),
        lvt: u8,
        // Never read by a template of fields only: their presence changes nothing.
        f: f64,
        list: Vec<u8>,
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            "[a-z<>&\"'`={} ]{0,8}",
            "[a-z]{0,3}".prop_map(|s| format!("{{{{{s}}}}}")),
            Just("reserved \u{FDD0}".to_owned()),
        ]
    }

    fn state() -> impl Strategy<Value = State> {
        (
            (any::<i64>(), any::<u8>(), text(), any::<bool>()),
            (proptest::option::of(text()), any::<char>(), any::<bool>()),
            (
                proptest::option::of(any::<i32>()),
                any::<u8>(),
                any::<f64>(),
            ),
        )
            .prop_map(|((n, u, s, b), (o, c, k), (maybe, lvt, f))| State {
                n,
                u,
                s,
                b,
                o,
                c,
                k: if k { Kind::Plain } else { Kind::Renamed },
                maybe,
                unit: (),
                lvt,
                f,
                list: vec![u],
            })
    }

    const SOURCES: [&str; 4] = [
        "<p>Count: {{n}}</p>",
        "{{n}}|{{u}}|{{s}}|{{{s}}}|{{b}}|{{o}}|{{{o}}}|{{c}}|{{k}}|{{maybe}}|{{unit}}|{{missing}}",
        "{{{s}}}{{s}}{{n}}{{s}}",
        "no values",
    ];

    /// The template data of `state`, as the general path builds it.
    fn data(state: &State) -> Value {
        let mut v = serde_json::to_value(state).expect("serializes");
        v["lvt"] = json!({"errors": {}, "flash": {}});
        v
    }

    fn check(t: &Template, state: &State, texts: &mut FieldTexts, spare: &mut Option<Node>) {
        let expected = t.render_instrumented(&data(state));
        if t.render_fields(state, texts, spare) {
            let node = spare.as_ref().expect("rendered into the spare tree");
            let expected = expected.expect("the data renders too");
            assert_eq!(node, &expected);
            assert!(Arc::ptr_eq(&node.statics, &expected.statics));
        } else {
            // Declined: only a raw reserved code point (an error) or a text the client
            // would blank (a node, not a text slot).
            match expected {
                Err(_) => {}
                Ok(node) => assert!(
                    node.slots.iter().any(|s| matches!(s, Slot::Node(_))),
                    "declined {state:?}"
                ),
            }
            *spare = None;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn fields_render_as_the_data_does(states in proptest::collection::vec(state(), 1..5)) {
            for source in SOURCES {
                let t = Template::builder("t", source).build().expect("builds");
                prop_assert!(t.reads_fields(), "{}", source);
                let (mut texts, mut spare) = (FieldTexts::default(), None);
                for state in &states {
                    check(&t, state, &mut texts, &mut spare);
                }
            }
        }
    }

    #[test]
    fn plain_fields_take_the_direct_path() {
        let t = Template::builder("t", SOURCES[1]).build().expect("builds");
        let state = State {
            n: -12,
            u: 7,
            s: "<b>&".into(),
            b: true,
            o: None,
            c: 'é',
            k: Kind::Renamed,
            maybe: Some(3),
            unit: (),
            lvt: 1,
            f: 0.5,
            list: vec![],
        };
        let (mut texts, mut spare) = (FieldTexts::default(), None);
        assert!(t.render_fields(&state, &mut texts, &mut spare));
        let html = spare.as_ref().expect("rendered").to_html();
        assert_eq!(html, "-12|7|&lt;b&gt;&amp;|<b>&|true|||é|re-named|3||");
        // A spare tree of another shape is made right.
        spare = Some(Node {
            statics: Arc::from(vec!["x".into()]),
            slots: vec![],
        });
        assert!(t.render_fields(&state, &mut texts, &mut spare));
        assert_eq!(spare.as_ref().expect("rendered").to_html(), html);
    }

    #[test]
    fn other_templates_and_values_decline() {
        #[derive(Serialize)]
        struct Other {
            f: f64,
            list: Vec<u8>,
            big: u128,
            inner: Inner,
        }
        #[derive(Serialize)]
        struct Inner {
            a: u8,
        }
        let state = Other {
            f: 1.5,
            list: vec![1],
            big: 1,
            inner: Inner { a: 1 },
        };
        let (mut texts, mut spare) = (FieldTexts::default(), None);
        for source in ["{{f}}", "{{list}}", "{{big}}", "{{inner}}"] {
            let t = Template::builder("t", source).build().expect("builds");
            assert!(t.reads_fields());
            assert!(!t.render_fields(&state, &mut texts, &mut spare), "{source}");
        }
        for source in [
            "{{inner.a}}",
            "{{lvt.errors.x}}",
            "{{lvt}}",
            "{{#if f}}x{{/if}}",
        ] {
            let t = Template::builder("t", source).build().expect("builds");
            assert!(!t.reads_fields(), "{source}");
            assert!(!t.render_fields(&state, &mut texts, &mut spare), "{source}");
        }
        // A state that is not a struct.
        let t = Template::builder("t", "{{a}}").build().expect("builds");
        assert!(!t.render_fields(&json!({"a": 1}), &mut texts, &mut spare));
    }
}
