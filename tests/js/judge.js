#!/usr/bin/env node
// The judge: the official client's own tree code decides whether a server's trees and
// diffs are right.
//
// Input (stdin): JSON lines, one case per line (blank lines are ignored):
//
//   {"name": "optional label", "steps": [{"tree": <tree>, "html": "<expected html>"}, ...]}
//
// * `steps[0].tree` is the first message's tree (a full tree with "s"); every later
//   `tree` is what the server sends next (a diff, or a full tree). Each is exactly the
//   value of the `"tree"` key of an UpdateResponse.
// * `html` is what the wrapper's inner HTML must be after applying that step: the
//   server's own full render of its new state.
// * A step may omit `html` to only apply the tree (no comparison).
//
// For each case a fresh `TreeRenderer` from `@livetemplate/client` (the pinned 0.25.1
// dist) is created and `applyUpdate(tree)` is called for each step; the returned
// `result.html` is compared with `html`.
//
// Output (stdout): one JSON line per case, in input order:
//
//   {"case": <index>, "name": ..., "ok": true, "steps": <n>}
//   {"case": <index>, "name": ..., "ok": false, "step": <i>, "message": "...",
//    "pos": <first differing char>, "expected": "<excerpt>", "got": "<excerpt>"}
//
// and a final summary line `N passed, N failed`. Exit status: 0 when every case
// matched, 1 on any mismatch or malformed input, 2 when the client package is missing.
//
// Usage: node tests/js/judge.js < cases.jsonl
// (install the client first: npm ci --prefix tests/js)
"use strict";

const path = require("path");
const readline = require("readline");

let TreeRenderer;
try {
  ({ TreeRenderer } = require(path.join(
    __dirname,
    "node_modules/@livetemplate/client/dist/state/tree-renderer.js",
  )));
} catch (err) {
  process.stderr.write(
    `judge: cannot load @livetemplate/client (${err.message}); run \`npm ci --prefix tests/js\`\n`,
  );
  process.exit(2);
}

// The renderer only needs these methods; keep the client silent.
const quietLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  isDebugEnabled() {
    return false;
  },
  child() {
    return quietLogger;
  },
};

const EXCERPT = 60;

function firstDifference(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) return i;
  }
  return a.length === b.length ? -1 : n;
}

function excerpt(s, pos) {
  const start = Math.max(0, pos - 20);
  return (start > 0 ? "…" : "") + s.slice(start, start + EXCERPT) + (start + EXCERPT < s.length ? "…" : "");
}

function runCase(input, index) {
  const name = input && typeof input.name === "string" ? input.name : undefined;
  if (!input || !Array.isArray(input.steps) || input.steps.length === 0) {
    return { case: index, name, ok: false, step: 0, message: "case must be an object with a non-empty `steps` array" };
  }
  const renderer = new TreeRenderer(quietLogger);
  for (let i = 0; i < input.steps.length; i++) {
    const step = input.steps[i];
    if (!step || typeof step.tree !== "object" || step.tree === null || Array.isArray(step.tree)) {
      return { case: index, name, ok: false, step: i, message: "`tree` must be a JSON object (never null or an array)" };
    }
    let html;
    try {
      html = renderer.applyUpdate(step.tree).html;
    } catch (err) {
      return { case: index, name, ok: false, step: i, message: `applyUpdate threw: ${err && err.stack ? err.stack : err}` };
    }
    if (step.html === undefined) continue;
    if (typeof step.html !== "string") {
      return { case: index, name, ok: false, step: i, message: "`html` must be a string" };
    }
    const pos = firstDifference(step.html, html);
    if (pos >= 0) {
      return {
        case: index,
        name,
        ok: false,
        step: i,
        message: `html differs at position ${pos} (expected length ${step.html.length}, got ${html.length})`,
        pos,
        expected: excerpt(step.html, pos),
        got: excerpt(html, pos),
      };
    }
  }
  return { case: index, name, ok: true, steps: input.steps.length };
}

// The reader may close its end early (e.g. a test process exiting): not an error here.
process.stdout.on("error", (err) => {
  if (err && err.code === "EPIPE") process.exit(process.exitCode || 0);
  throw err;
});

async function main() {
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  let index = 0;
  let passed = 0;
  let failed = 0;
  for await (const line of rl) {
    if (line.trim() === "") continue;
    let result;
    try {
      result = runCase(JSON.parse(line), index);
    } catch (err) {
      result = { case: index, ok: false, step: null, message: `input line is not valid JSON: ${err.message}` };
    }
    process.stdout.write(JSON.stringify(result) + "\n");
    if (result.ok) passed++;
    else failed++;
    index++;
  }
  process.stdout.write(`${passed} passed, ${failed} failed\n`);
  process.exitCode = failed > 0 ? 1 : 0;
}

main().catch((err) => {
  process.stderr.write(`judge: ${err && err.stack ? err.stack : err}\n`);
  process.exit(1);
});
