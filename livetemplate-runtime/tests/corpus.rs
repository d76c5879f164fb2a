//! Byte-exactness oracle: for every template of the third-party corpus
//! (`<workspace>/../shared/corpus/handlebars`, not copied into this repository) and of our
//! own `tests/templates/`, the HTML of the rendered tree and `render_html` must equal what
//! a plain `handlebars::Handlebars::new()` renders with the same partials, helpers and data.

#[path = "templates/support.rs"]
mod support;

use livetemplate_runtime::template::RenderCache;
use support::{compare, compare_cached, corpus_cases, corpus_dir};

#[test]
fn corpus_renders_byte_for_byte() {
    let dir = corpus_dir();
    if !dir.join("MANIFEST.md").exists() {
        println!("skipping: corpus not found at {}", dir.display());
        return;
    }
    let cases = corpus_cases(&dir);
    assert!(
        cases.len() >= 39,
        "expected the 39 corpus entries, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for (case, data) in &cases {
        let oracle = case.oracle();
        let template = match case.builder().build() {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{}: build failed: {e}", case.name));
                continue;
            }
        };
        match compare(&oracle, &template, data) {
            Ok(Some(_)) => {}
            Ok(None) => failures.push(format!("{}: the oracle fails to render", case.name)),
            Err(e) => failures.push(e),
        }
        // Cached renders: the first fills the cache, the second reuses it.
        let mut cache = RenderCache::new();
        for _ in 0..2 {
            if let Err(e) = compare_cached(&template, data, &mut cache) {
                failures.push(e);
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn own_templates_render_byte_for_byte() {
    let cases = support::own_cases();
    assert!(
        cases.len() >= 30,
        "expected at least 30 templates, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    for (case, states) in &cases {
        assert!(!states.is_empty(), "{}: no states", case.name);
        let oracle = case.oracle();
        let template = match case.builder().build() {
            Ok(t) => t,
            Err(e) => {
                failures.push(format!("{}: build failed: {e}", case.name));
                continue;
            }
        };
        let mut cache = RenderCache::new();
        for (i, state) in states.iter().enumerate() {
            match compare(&oracle, &template, state) {
                Ok(Some(_)) => {}
                Ok(None) => failures.push(format!("{} state {i}: the oracle fails", case.name)),
                Err(e) => failures.push(format!("state {i}: {e}")),
            }
            for _ in 0..2 {
                if let Err(e) = compare_cached(&template, state, &mut cache) {
                    failures.push(format!("state {i} (cached): {e}"));
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}
