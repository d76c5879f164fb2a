//! Property test: for every template of `tests/templates/`, sequences of generated states
//! render to trees whose HTML equals, byte for byte, what plain `handlebars` renders (and
//! `render_html` too), and every tree satisfies the structural invariants.
//!
//! States are generated from the shape of the template's first sample state (same keys,
//! values of the same kind): lists grow, shrink and are reordered, booleans flip, keys go
//! missing, and strings mix `<>&"'=` and `` ` ``, `{{x}}`, newlines and non-ASCII text.
//!
//! Cases: `PROPTEST_CASES` sequences per template (default 48).
//!
//! # Exported cases
//!
//! When `LT_EXPORT_CASES` names a file, every generated sequence is appended to it as one
//! JSON object per line:
//!
//! ```json
//! {"template": "<name>", "states": [<state>, ...]}
//! ```
//!
//! `<name>` is `tests/templates/<name>.hbs`; render it with every partial of
//! `tests/templates/partials/` (registered under its file stem) and the helpers of
//! `own_helpers()` in `tests/templates/support.rs` (e.g. through `support::own_cases()`).
//! States are to be rendered in order.

#[path = "templates/states.rs"]
mod states;
#[path = "templates/support.rs"]
mod support;

use livetemplate_runtime::template::RenderCache;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use states::{export, sequence};

#[test]
fn generated_state_sequences_render_byte_for_byte() {
    let cases: u32 = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(48);
    let own = support::own_cases();
    assert!(own.len() >= 30, "expected at least 30 templates");
    let rendered = std::cell::Cell::new(0usize);
    for (case, samples) in &own {
        let oracle = case.oracle();
        let template = case.builder().build().unwrap_or_else(|e| panic!("{e}"));
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let strategy = sequence(&samples[0]);
        let result = runner.run(&strategy, |states| {
            export(&case.name, &states);
            for (i, state) in states.iter().enumerate() {
                match support::compare(&oracle, &template, state) {
                    Ok(Some(_)) => rendered.set(rendered.get() + 1),
                    Ok(None) => {}
                    Err(e) => {
                        return Err(TestCaseError::fail(format!("step {i}, state {state}: {e}")));
                    }
                }
            }
            Ok(())
        });
        if let Err(e) = result {
            panic!("template {}: {e}", case.name);
        }
    }
    // Most generated states must render (errors on both sides only count as agreement).
    let rendered = rendered.get();
    assert!(
        rendered > own.len() * cases as usize,
        "only {rendered} states rendered"
    );
}

/// `render_cached` returns exactly what `render` returns over generated state sequences,
/// with one cache per sequence and one cache shared by every sequence and template.
#[test]
fn cached_renders_equal_plain_renders() {
    let cases: u32 = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(48);
    let own = support::own_cases();
    let shared = std::cell::RefCell::new(RenderCache::new());
    let reused = std::cell::Cell::new(0usize);
    for (case, samples) in &own {
        let template = case.builder().build().unwrap_or_else(|e| panic!("{e}"));
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let strategy = sequence(&samples[0]);
        let result = runner.run(&strategy, |states| {
            let mut cache = RenderCache::new();
            for (i, state) in states.iter().enumerate() {
                for c in [&mut cache, &mut *shared.borrow_mut()] {
                    support::compare_cached(&template, state, c).map_err(|e| {
                        TestCaseError::fail(format!("step {i}, state {state}: {e}"))
                    })?;
                }
                // Rendering the same state again reuses the items just rendered.
                support::compare_cached(&template, state, &mut cache)
                    .map_err(|e| TestCaseError::fail(format!("step {i} again: {e}")))?;
            }
            reused.set(reused.get().max(cache.cached_items()));
            Ok(())
        });
        if let Err(e) = result {
            panic!("template {}: {e}", case.name);
        }
    }
    assert!(reused.get() > 0, "no template reused any item");
}
