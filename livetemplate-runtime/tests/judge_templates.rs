//! The official client judges the diffs of real templates: for every template of the
//! third-party corpus (`<workspace>/../shared/corpus/handlebars`) and of our own
//! `tests/templates/`, a sequence of states is rendered by our engine; the first tree is
//! sent whole (`json::full_json`), every later one as a diff against the one before
//! (`diff::diff`), and `@livetemplate/client`'s own `TreeRenderer` (`tests/js/judge.js`)
//! applies them. The HTML it rebuilds after every step must equal what a plain
//! `handlebars::Handlebars` (same partials and helpers, not our engine) renders for that
//! step's state.
//!
//! Sequences:
//! - corpus entries: the entry's data, then deterministic mutations of it (arrays
//!   reversed, thinned, doubled, emptied; booleans flipped; strings replaced by text with
//!   `<&"'` and `{{x}}`; keys removed; numbers changed), once applied everywhere at once
//!   and once one place at a time. Mutations that make handlebars fail are skipped.
//! - our own templates: their listed states, the same two mutation chains from their
//!   first state, and generated sequences (`tests/templates/states.rs`; `LT_JUDGE_CASES`
//!   per template, default 16).
//!
//! `LT_JUDGE_TRACE=<text>` prints every wire tree of the sequences whose label contains
//! `<text>` (labels are the template name and the kind of sequence).
//!
//! Needs Node.js and `tests/js/node_modules` (`npm ci --prefix tests/js`). Set
//! `LT_SKIP_NODE=1` to skip the judge where Node is unavailable (states are still
//! rendered and checked against handlebars).

#[path = "support/node_judge.rs"]
mod node_judge;
#[path = "support/rng.rs"]
mod rng;
#[path = "templates/states.rs"]
mod states;
#[path = "templates/support.rs"]
mod support;

use std::sync::atomic::{AtomicUsize, Ordering};

use handlebars::Handlebars;
use livetemplate_runtime::template::Template;
use livetemplate_runtime::tree::{diff::diff, json, Node};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rng::Rng;
use serde_json::Value;
use support::{first_difference, Case};

// ---- judging one sequence ---------------------------------------------------------------

/// A template compiled twice: the oracle (plain handlebars) and our engine.
struct Compiled {
    name: String,
    oracle: Handlebars<'static>,
    template: Template,
}

impl Compiled {
    fn new(case: &Case) -> Result<Compiled, String> {
        Ok(Compiled {
            name: case.name.clone(),
            oracle: case.oracle(),
            template: case
                .builder()
                .build()
                .map_err(|e| format!("{}: build failed: {e}", case.name))?,
        })
    }

    /// Handlebars' HTML for `state`, or `None` when handlebars rejects it.
    fn expected(&self, state: &Value) -> Option<String> {
        self.oracle.render(&self.name, state).ok()
    }

    /// Our tree and handlebars' HTML for `state`; `Ok(None)` when both reject it.
    fn render(&self, state: &Value) -> Result<Option<(Node, String)>, String> {
        match (self.expected(state), self.template.render(state)) {
            (Some(html), Ok(tree)) => Ok(Some((tree, html))),
            (None, Err(_)) => Ok(None),
            (Some(_), Err(e)) => Err(format!("our engine fails where handlebars renders: {e}")),
            (None, Ok(_)) => Err("our engine renders a state handlebars rejects".into()),
        }
    }
}

/// Wire features counted over the diffs of a test: range ops and special encodings.
const FEATURES: &[(&str, &str)] = &[
    ("[\"r\",", "remove"),
    ("[\"u\",", "update"),
    ("[\"a\",", "append"),
    ("[\"p\",", "prepend"),
    ("[\"i\",", "insert"),
    ("[\"o\",", "reorder"),
    ("\"d\":[", "complete range"),
    ("\"idKey\"", "keyed range"),
    ("\"_k\":", "unkeyed items"),
    ("\"s\":", "new statics"),
];

/// Totals over a test, printed at its end.
#[derive(Default)]
struct Totals {
    cases: AtomicUsize,
    steps: AtomicUsize,
    changed: AtomicUsize,
    features: [AtomicUsize; FEATURES.len()],
}

impl Totals {
    fn add(&self, steps: usize, changed: usize) {
        self.cases.fetch_add(1, Ordering::Relaxed);
        self.steps.fetch_add(steps, Ordering::Relaxed);
        self.changed.fetch_add(changed, Ordering::Relaxed);
    }

    /// Count the features of one diff (not of first trees).
    fn count(&self, wire: &str) {
        for (n, (needle, _)) in self.features.iter().zip(FEATURES) {
            n.fetch_add(usize::from(wire.contains(needle)), Ordering::Relaxed);
        }
    }

    /// Features that no diff of the test had.
    fn missing(&self) -> Vec<&'static str> {
        self.features
            .iter()
            .zip(FEATURES)
            .filter(|(n, _)| n.load(Ordering::Relaxed) == 0)
            .map(|(_, (_, what))| *what)
            .collect()
    }

    fn get(&self) -> (usize, usize, usize) {
        (
            self.cases.load(Ordering::Relaxed),
            self.steps.load(Ordering::Relaxed),
            self.changed.load(Ordering::Relaxed),
        )
    }
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        s.chars().take(max).collect::<String>() + "…"
    }
}

/// Render `states` (skipping those both sides reject), encode them as the server would
/// send them and let the client judge. Returns the number of steps judged and how many of
/// them were non-empty diffs.
fn judge_states(
    c: &Compiled,
    label: &str,
    states: &[Value],
    totals: &Totals,
) -> Result<(usize, usize), String> {
    let mut rendered: Vec<(usize, Node, String)> = Vec::with_capacity(states.len());
    for (i, state) in states.iter().enumerate() {
        match c.render(state) {
            Ok(Some((tree, html))) => rendered.push((i, tree, html)),
            Ok(None) => {}
            Err(e) => return Err(format!("{label}, state {i}: {e}\n  state: {state}")),
        }
    }
    let mut steps = Vec::with_capacity(rendered.len());
    let mut wires = Vec::with_capacity(rendered.len());
    let mut changed = 0;
    for (step, (i, tree, html)) in rendered.iter().enumerate() {
        let got = tree.to_html();
        if got != *html {
            return Err(format!(
                "{label}, step {step} (state {i}): our tree's HTML differs from handlebars\n{}\n  state: {}",
                first_difference(html, &got),
                states[*i]
            ));
        }
        let wire = match step {
            0 => json::full_json(tree),
            _ => diff(&rendered[step - 1].1, tree),
        };
        changed += usize::from(step > 0 && wire != "{}");
        let value: Value = serde_json::from_str(&wire)
            .map_err(|e| format!("{label}, step {step}: invalid JSON {wire}: {e}"))?;
        if !value.is_object() {
            return Err(format!(
                "{label}, step {step}: tree is not an object: {wire}"
            ));
        }
        node_judge::check_values(&value, &format!("{label}, step {step}"))?;
        steps.push(serde_json::json!({ "tree": value, "html": html }));
        wires.push(wire);
    }
    if steps.is_empty() {
        return Ok((0, 0));
    }
    let case = serde_json::json!({ "name": label, "steps": steps }).to_string();
    if let Some(v) = node_judge::verdict(&case)? {
        let step = v["step"].as_u64().map_or(0, |s| s as usize);
        let (state, wire) = rendered.get(step).map_or((Value::Null, ""), |(i, _, _)| {
            (states[*i].clone(), wires[step].as_str())
        });
        let previous = step
            .checked_sub(1)
            .and_then(|p| rendered.get(p))
            .map_or(Value::Null, |(i, _, _)| states[*i].clone());
        return Err(format!(
            "{label}, step {step}: the client's HTML differs from handlebars at position {} (UTF-16): {}\n  expected: {}\n  got:      {}\n  state:          {}\n  previous state: {}\n  sent tree:      {}",
            v["pos"],
            v["message"],
            v["expected"],
            v["got"],
            clip(&state.to_string(), 2000),
            clip(&previous.to_string(), 2000),
            clip(wire, 4000),
        ));
    }
    for wire in wires.iter().skip(1) {
        totals.count(wire);
    }
    if std::env::var("LT_JUDGE_TRACE").is_ok_and(|t| !t.is_empty() && label.contains(&t)) {
        for (step, wire) in wires.iter().enumerate() {
            eprintln!("{label}, step {step}: {wire}");
        }
    }
    totals.add(steps.len(), changed);
    Ok((steps.len(), changed))
}

// ---- deterministic mutations ------------------------------------------------------------

/// Replacement strings: markup, entities, quotes, template-looking text.
const HOSTILE: &[&str] = &[
    "<&\"'",
    "{{x}}",
    "a <b>&amp; \"q\" 'x'",
    "",
    "{{",
    "}}",
    "é ✓\nline",
    "</td></tr>",
    "data-key=\"",
    "{{{y}}}",
    "x",
];

/// Rebuild `v` bottom-up, passing every array, object and scalar through `f`.
fn map_all(v: &Value, f: &mut dyn FnMut(Value) -> Value) -> Value {
    let inner = match v {
        Value::Array(items) => Value::Array(items.iter().map(|i| map_all(i, f)).collect()),
        Value::Object(m) => {
            Value::Object(m.iter().map(|(k, x)| (k.clone(), map_all(x, f))).collect())
        }
        other => other.clone(),
    };
    f(inner)
}

/// The mutations applied everywhere at once, in chain order.
const GLOBAL: &[&str] = &[
    "reverse arrays",
    "flip booleans",
    "hostile strings",
    "double arrays",
    "drop first items",
    "remove keys",
    "change numbers",
    "rotate arrays",
    "empty arrays",
    "original",
    "drop last items",
    "hostile strings",
];

fn global(kind: &str, prev: &Value, original: &Value, rng: &mut Rng) -> Value {
    match kind {
        "reverse arrays" => map_all(prev, &mut |v| match v {
            Value::Array(mut a) => {
                a.reverse();
                Value::Array(a)
            }
            v => v,
        }),
        "rotate arrays" => map_all(prev, &mut |v| match v {
            Value::Array(mut a) if !a.is_empty() => {
                a.rotate_left(1);
                Value::Array(a)
            }
            v => v,
        }),
        "flip booleans" => map_all(prev, &mut |v| match v {
            Value::Bool(b) => Value::Bool(!b),
            v => v,
        }),
        "hostile strings" => map_all(prev, &mut |v| match v {
            Value::String(_) => Value::String((*rng.pick(HOSTILE)).to_owned()),
            v => v,
        }),
        "double arrays" => map_all(prev, &mut |v| match v {
            Value::Array(a) if a.len() <= 6 => Value::Array(a.iter().chain(&a).cloned().collect()),
            v => v,
        }),
        "drop first items" => map_all(prev, &mut |v| match v {
            Value::Array(mut a) if !a.is_empty() => {
                a.remove(0);
                Value::Array(a)
            }
            v => v,
        }),
        "drop last items" => map_all(prev, &mut |v| match v {
            Value::Array(mut a) => {
                a.pop();
                Value::Array(a)
            }
            v => v,
        }),
        "remove keys" => map_all(prev, &mut |v| match v {
            Value::Object(m) => Value::Object(m.into_iter().filter(|_| !rng.chance(30)).collect()),
            v => v,
        }),
        "change numbers" => map_all(prev, &mut |v| match v {
            Value::Number(n) => match n.as_i64() {
                Some(i) => Value::from(i + 1 + rng.below(3) as i64),
                None => Value::from(0),
            },
            v => v,
        }),
        "empty arrays" => map_all(prev, &mut |v| match v {
            Value::Array(_) => Value::Array(Vec::new()),
            v => v,
        }),
        _ => original.clone(),
    }
}

/// One step into a value: an object key or an array index.
#[derive(Clone)]
enum Seg {
    Key(String),
    Index(usize),
}

fn paths(v: &Value, at: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    out.push(at.clone());
    match v {
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                at.push(Seg::Index(i));
                paths(x, at, out);
                at.pop();
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                at.push(Seg::Key(k.clone()));
                paths(x, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn at_value<'a>(v: &'a Value, path: &[Seg]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, seg| match (seg, v) {
        (Seg::Key(k), Value::Object(m)) => m.get(k),
        (Seg::Index(i), Value::Array(a)) => a.get(*i),
        _ => None,
    })
}

fn at_mut<'a>(v: &'a mut Value, path: &[Seg]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, seg| match (seg, v) {
        (Seg::Key(k), Value::Object(m)) => m.get_mut(k),
        (Seg::Index(i), Value::Array(a)) => a.get_mut(*i),
        _ => None,
    })
}

/// Change one random place of `prev`: an array edit (remove, duplicate, move, swap,
/// reverse, clear), a flipped boolean, a hostile string, a changed number, a removed key.
fn local(prev: &Value, rng: &mut Rng) -> Value {
    let mut next = prev.clone();
    let mut all = Vec::new();
    paths(prev, &mut Vec::new(), &mut all);
    // Lists are where diffs get interesting: half the time, edit one of them.
    let lists: Vec<&Vec<Seg>> = all
        .iter()
        .filter(|p| matches!(at_value(prev, p), Some(Value::Array(_))))
        .collect();
    let path = if !lists.is_empty() && rng.chance(50) {
        (*rng.pick(&lists)).clone()
    } else {
        rng.pick(&all).clone()
    };
    let Some(target) = at_mut(&mut next, &path) else {
        return next;
    };
    match target {
        Value::Array(a) => {
            let len = a.len();
            match rng.below(11) {
                0 if len > 0 => {
                    a.remove(rng.below(len));
                }
                1 if len > 0 => {
                    let item = a[rng.below(len)].clone();
                    a.insert(rng.below(len + 1), item);
                }
                2 if len > 1 => {
                    let item = a.remove(rng.below(len));
                    a.insert(rng.below(len), item);
                }
                3 if len > 1 => a.swap(rng.below(len), rng.below(len)),
                4 => a.reverse(),
                5 => a.clear(),
                6..=8 if len > 0 => {
                    // A new item shaped like an existing one, its strings made unique
                    // (new keys for keyed lists), inserted anywhere.
                    let tag = rng.next() % 10_000;
                    let item = map_all(&a[rng.below(len)], &mut |v| match v {
                        Value::String(s) => Value::String(format!("{s}~{tag}")),
                        v => v,
                    });
                    a.insert(rng.below(len + 1), item);
                }
                _ if len > 0 => {
                    // A new item shaped like an existing one, with other strings.
                    let item = map_all(&a[rng.below(len)], &mut |v| match v {
                        Value::String(_) => Value::String((*rng.pick(HOSTILE)).to_owned()),
                        v => v,
                    });
                    a.push(item);
                }
                _ => a.push(Value::String("new".into())),
            }
        }
        Value::Object(m) if !m.is_empty() => {
            let keys: Vec<String> = m.keys().cloned().collect();
            m.remove(rng.pick(&keys));
        }
        Value::Object(m) => {
            m.insert("x".into(), Value::from(1));
        }
        Value::Bool(b) => *b = !*b,
        Value::String(s) => *s = (*rng.pick(HOSTILE)).to_owned(),
        Value::Number(n) => *target = Value::from(n.as_i64().map_or(0, |i| i + 1)),
        Value::Null => *target = Value::String("<i>now</i> {{set}}".into()),
    }
    next
}

fn global_chain(c: &Compiled, start: &Value) -> Vec<Value> {
    let mut rng = Rng::from_name(&format!("{}/global", c.name));
    let mut states = vec![start.clone()];
    for kind in GLOBAL {
        let prev = states.last().unwrap_or(start);
        let next = global(kind, prev, start, &mut rng);
        // Mutations that make handlebars fail are skipped.
        if c.expected(&next).is_some() {
            states.push(next);
        }
    }
    states
}

/// `count` local mutations from `start`, each chosen (out of a few tries) to change what
/// handlebars renders; mutations that make handlebars fail are skipped.
fn local_chain(c: &Compiled, start: &Value, seed: usize, count: usize) -> Vec<Value> {
    let mut rng = Rng::from_name(&format!("{}/local/{seed}", c.name));
    let mut states = vec![start.clone()];
    let mut html = c.expected(start);
    for k in 1..=count {
        if k % 8 == 0 {
            // Back to the start now and then (also revives places removed on the way).
            states.push(start.clone());
            html = c.expected(start);
            continue;
        }
        let prev = states.last().unwrap_or(start);
        let mut pick = None;
        for _ in 0..12 {
            let next = local(prev, &mut rng);
            if let Some(h) = c.expected(&next) {
                let differs = html.as_ref() != Some(&h);
                pick = Some((next, h));
                if differs {
                    break;
                }
            }
        }
        if let Some((next, h)) = pick {
            states.push(next);
            html = Some(h);
        }
    }
    states
}

/// A template with the sequences to judge on it (label, states).
type Job = (Compiled, Vec<(String, Vec<Value>)>);

/// Judge every sequence of `jobs`, collecting failures; returns, per template, the steps
/// judged and non-empty diffs over its sequences, `None` when one of them failed.
fn run_all(
    jobs: &[Job],
    totals: &Totals,
    failures: &mut Vec<String>,
) -> Vec<Option<(usize, usize)>> {
    jobs.iter()
        .map(|(c, sequences)| {
            let mut sum = Some((0, 0));
            for (label, states) in sequences {
                match judge_states(c, label, states, totals) {
                    Ok((steps, changed)) => {
                        sum = sum.map(|(s, n)| (s + steps, n + changed));
                    }
                    Err(e) => {
                        failures.push(e);
                        sum = None;
                    }
                }
            }
            sum
        })
        .collect()
}

/// Local mutation chains per sequence start (`LT_JUDGE_CHAINS`, default 2).
fn chains() -> usize {
    std::env::var("LT_JUDGE_CHAINS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(2)
}

/// The mutation chains from `start`: one global, [`chains`] local ones.
fn mutation_sequences(c: &Compiled, label: &str, start: &Value) -> Vec<(String, Vec<Value>)> {
    let mut out = vec![(format!("{label}, global mutations"), global_chain(c, start))];
    for k in 0..chains() {
        out.push((
            format!("{label}, local mutations #{k}"),
            local_chain(c, start, k, 24),
        ));
    }
    out
}

fn report(what: &str, totals: &Totals, failures: &[String]) {
    let (cases, steps, changed) = totals.get();
    let features: Vec<String> = FEATURES
        .iter()
        .zip(&totals.features)
        .map(|((_, what), n)| format!("{what} {}", n.load(Ordering::Relaxed)))
        .collect();
    eprintln!(
        "{what}: {cases} sequences judged, {steps} steps, {changed} non-empty diffs; diffs with: {}",
        features.join(", ")
    );
    assert!(
        failures.is_empty(),
        "{} of the sequences failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

// ---- the tests --------------------------------------------------------------------------

#[test]
fn corpus_diffs_match_the_client() {
    let dir = support::corpus_dir();
    if !dir.join("MANIFEST.md").exists() {
        println!("skipping: corpus not found at {}", dir.display());
        return;
    }
    let cases = support::corpus_cases(&dir);
    assert!(
        cases.len() >= 39,
        "expected the 39 corpus entries, found {}",
        cases.len()
    );
    let mut failures = Vec::new();
    let mut jobs: Vec<Job> = Vec::new();
    for (case, data) in &cases {
        match Compiled::new(case) {
            Ok(c) => {
                let sequences = mutation_sequences(&c, &format!("corpus {}", case.name), data);
                jobs.push((c, sequences));
            }
            Err(e) => failures.push(e),
        }
    }
    let totals = Totals::default();
    let per_template = run_all(&jobs, &totals, &mut failures);
    // The mutations must make real diffs, or the judge proves little.
    for (sums, (c, _)) in per_template.iter().zip(&jobs) {
        if let Some((steps, changed)) = *sums {
            if steps < 12 || changed < 4 {
                failures.push(format!(
                    "corpus {}: only {steps} steps and {changed} non-empty diffs (mutations too weak)",
                    c.name
                ));
            }
        }
    }
    report("corpus", &totals, &failures);
}

#[test]
fn own_template_diffs_match_the_client() {
    let own = support::own_cases();
    assert!(
        own.len() >= 30,
        "expected at least 30 templates, found {}",
        own.len()
    );
    let mut failures = Vec::new();
    let mut jobs: Vec<Job> = Vec::new();
    for (case, states) in &own {
        let c = match Compiled::new(case) {
            Ok(c) => c,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        let name = &case.name;
        // The listed states, then back to the first.
        let mut listed = states.clone();
        listed.push(states[0].clone());
        let mut sequences = vec![(format!("{name}, listed states"), listed)];
        sequences.extend(mutation_sequences(&c, name, &states[0]));
        jobs.push((c, sequences));
    }
    let totals = Totals::default();
    run_all(&jobs, &totals, &mut failures);
    let (cases, steps, changed) = totals.get();
    assert!(
        changed * 2 > steps - cases,
        "too few non-empty diffs: {changed} of {steps} steps"
    );
    let missing = totals.missing();
    assert!(
        missing.is_empty(),
        "no diff of our own templates used: {missing:?}"
    );
    report("own templates", &totals, &failures);
}

#[test]
fn generated_sequences_match_the_client() {
    let cases: u32 = std::env::var("LT_JUDGE_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(16);
    let own = support::own_cases();
    let totals = Totals::default();
    let mut failures = Vec::new();
    for (case, samples) in &own {
        let c = Compiled::new(case).unwrap_or_else(|e| panic!("{e}"));
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let result = runner.run(&states::sequence(&samples[0]), |states| {
            judge_states(&c, &format!("{} (generated)", case.name), &states, &totals)
                .map_err(TestCaseError::fail)?;
            Ok(())
        });
        if let Err(e) = result {
            failures.push(format!("template {}: {e}", case.name));
        }
    }
    let (_, steps, _) = totals.get();
    assert!(
        steps >= own.len() * cases as usize,
        "only {steps} steps judged"
    );
    report("generated", &totals, &failures);
}

/// The mutations themselves: each kind changes what it should and nothing else.
#[test]
fn mutations_change_what_they_say() {
    let data =
        serde_json::json!({"a": [1, 2, 3], "b": true, "s": "x", "o": {"n": 5, "l": ["p", "q"]}});
    let mut rng = Rng(1);
    let g = |k: &str, rng: &mut Rng| global(k, &data, &data, rng);
    assert_eq!(
        g("reverse arrays", &mut rng)["a"],
        serde_json::json!([3, 2, 1])
    );
    assert_eq!(
        g("reverse arrays", &mut rng)["o"]["l"],
        serde_json::json!(["q", "p"])
    );
    assert_eq!(g("flip booleans", &mut rng)["b"], Value::Bool(false));
    assert_eq!(
        g("double arrays", &mut rng)["a"],
        serde_json::json!([1, 2, 3, 1, 2, 3])
    );
    assert_eq!(
        g("drop first items", &mut rng)["a"],
        serde_json::json!([2, 3])
    );
    assert_eq!(
        g("drop last items", &mut rng)["o"]["l"],
        serde_json::json!(["p"])
    );
    assert_eq!(
        g("rotate arrays", &mut rng)["a"],
        serde_json::json!([2, 3, 1])
    );
    assert_eq!(g("empty arrays", &mut rng)["a"], serde_json::json!([]));
    assert_eq!(g("original", &mut rng), data);
    let hostile = g("hostile strings", &mut rng);
    assert!(
        HOSTILE.contains(&hostile["s"].as_str().unwrap_or("-")),
        "{hostile}"
    );
    assert_eq!(hostile["a"], data["a"]);
    let n = g("change numbers", &mut rng)["o"]["n"]
        .as_i64()
        .unwrap_or(0);
    assert!((6..=8).contains(&n), "{n}");
    // Removing keys removes some and keeps the rest unchanged.
    let removed = (0..20)
        .map(|_| g("remove keys", &mut rng))
        .find(|v| v.as_object().is_some_and(|m| m.len() < 4))
        .expect("some key removed in 20 tries");
    for (k, v) in removed.as_object().into_iter().flatten() {
        if k != "o" {
            assert_eq!(*v, data[k], "{k}");
        }
    }
    // A local mutation changes exactly one place (here: the value differs somewhere).
    let mut differing = 0;
    let mut prev = data.clone();
    for _ in 0..20 {
        let next = local(&prev, &mut rng);
        differing += usize::from(next != prev);
        prev = next;
    }
    assert!(
        differing >= 12,
        "only {differing} of 20 local mutations changed the value"
    );
}

/// The judge is able to fail here: a diff computed against the wrong previous tree is
/// caught at its step.
#[test]
fn a_stale_diff_is_caught() {
    if node_judge::judge().is_none() {
        return;
    }
    let own = support::own_cases();
    let (case, _) = own
        .iter()
        .find(|(c, _)| c.name == "todo-app")
        .expect("todo-app template");
    let c = Compiled::new(case).unwrap_or_else(|e| panic!("{e}"));
    let todo = |id: &str, title: &str| serde_json::json!({"id": id, "title": title, "done": false});
    let state = |todos: Vec<Value>| {
        serde_json::json!({"draft": "", "remaining": todos.len(), "filter": "all",
            "filters": ["all", "active", "completed"], "todos": todos})
    };
    let states = [
        state(vec![todo("a", "A"), todo("b", "B")]),
        state(vec![todo("a", "A"), todo("c", "C"), todo("b", "B")]),
        state(vec![todo("b", "B <2>")]),
    ];
    let rendered: Vec<(Node, String)> = states
        .iter()
        .map(|s| c.render(s).ok().flatten().expect("renders"))
        .collect();
    let totals = Totals::default();
    judge_states(&c, "todo-app, fixed", &states, &totals).expect("the real diffs pass");
    assert!(totals.changed.load(Ordering::Relaxed) == 2);
    // Step 2 diffed against step 0 instead of step 1.
    let wires = [
        json::full_json(&rendered[0].0),
        diff(&rendered[0].0, &rendered[1].0),
        diff(&rendered[0].0, &rendered[2].0),
    ];
    let steps: Vec<Value> = wires
        .iter()
        .zip(&rendered)
        .map(|(w, (_, html))| {
            let tree: Value = serde_json::from_str(w).expect("valid JSON");
            serde_json::json!({"tree": tree, "html": html})
        })
        .collect();
    let case = serde_json::json!({"name": "stale", "steps": steps}).to_string();
    let verdict = node_judge::verdict(&case)
        .expect("the judge answers")
        .expect("the judge rejects a stale diff");
    assert_eq!(verdict["step"], 2, "{verdict}");
}
