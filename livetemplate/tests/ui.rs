//! Compile-time behaviour of the macros: `tests/ui/<macro>/pass/*.rs` must compile and
//! run; `tests/ui/<macro>/fail/*.rs` must fail with exactly the `.stderr` beside them.
//!
//! The snapshots belong to one compiler (diagnostic wording changes between releases),
//! so the test only runs there. Regenerate with `TRYBUILD=overwrite cargo test -p
//! livetemplate --test ui` and review every changed `.stderr`.

#[rustversion::attr(
    not(stable(1.95)),
    ignore = "the UI snapshots are written for stable Rust 1.95; other compilers word diagnostics differently"
)]
#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/*/pass/*.rs");
    cases.compile_fail("tests/ui/*/fail/*.rs");
}
