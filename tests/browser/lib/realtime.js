'use strict';
// Helpers for the scenarios of the real-time examples: pages opened as tabs of one browser or
// as separate browsers, and waits on the text of a page (auto-waiting, with a modest timeout).

const h = require('./harness');

const WAIT_MS = Number(process.env.LT_WAIT_MS || 5000);

/** Opens `url` in a new page of `context`, watched as `label`; waits for the client to connect. */
async function open(context, url, label, note) {
  const page = await context.newPage();
  h.watchPage(page, label, { note });
  const response = await page.goto(url);
  h.assert(response && response.ok(), `${label}: GET ${url} answered ${response ? response.status() : 'nothing'}`);
  const html = await response.text();
  await h.waitForClient(page, `${label} to connect`);
  return { page, html, label };
}

/**
 * Opens `url` twice: as two tabs of one browser (`mode` = 'tabs': one context, one cookie jar,
 * one session) or in two browsers ('browsers': two contexts). Tab B opens after tab A, so that
 * it carries the session cookie tab A received.
 */
async function openTwo(browser, url, mode, note) {
  h.assert(mode === 'tabs' || mode === 'browsers', `unknown mode ${mode}`);
  const contextA = await h.newContext(browser, {}, { note });
  const contextB = mode === 'tabs' ? contextA : await h.newContext(browser, {}, { note });
  const [labelA, labelB] = mode === 'tabs' ? ['tab A', 'tab B'] : ['browser A', 'browser B'];
  const a = await open(contextA, url, labelA, note);
  const b = await open(contextB, url, labelB, note);
  return { a, b, contextA, contextB };
}

/** The innerText of the first element matching `selector`, or null. */
async function textOf(page, selector) {
  return page
    .evaluate((sel) => {
      const el = document.querySelector(sel);
      return el ? el.innerText : null;
    }, selector)
    .catch((err) => `unreadable: ${err.message}`);
}

function matches(selector, re) {
  return [selector, re.source, re.flags];
}

/** Waits until the text of `selector` in `p` (a page from `open`) matches `re`. */
async function expectText(p, selector, re, what, timeout = WAIT_MS) {
  try {
    await p.page.waitForFunction(
      ([sel, source, flags]) => {
        const el = document.querySelector(sel);
        return !!el && new RegExp(source, flags).test(el.innerText);
      },
      matches(selector, re),
      { timeout, polling: 25 },
    );
  } catch (err) {
    const actual = await textOf(p.page, selector);
    h.fail(`${p.label}, ${what}: expected ${selector} to match ${re}, it shows ${JSON.stringify(actual)}`);
  }
}

/**
 * Checks that the text of `selector` in `p` keeps matching `re` for `ms` milliseconds: for
 * something that must not happen (a push that must not arrive), there is nothing to wait for.
 */
async function expectStays(p, selector, re, ms, what) {
  const changed = await p.page
    .waitForFunction(
      ([sel, source, flags]) => {
        const el = document.querySelector(sel);
        return !el || !new RegExp(source, flags).test(el.innerText);
      },
      matches(selector, re),
      { timeout: ms, polling: 25 },
    )
    .then(
      () => true,
      () => false,
    );
  if (changed) {
    const actual = await textOf(p.page, selector);
    h.fail(`${p.label}, ${what}: ${selector} stopped matching ${re}, it shows ${JSON.stringify(actual)}`);
  }
}

/** The first number after `prefix` in the page's text, or null. */
async function numberAfter(p, prefix) {
  const text = await textOf(p.page, 'body');
  const m = new RegExp(`${prefix}\\s*(-?\\d+)`).exec(text || '');
  return m ? Number(m[1]) : null;
}

/** Waits until `check()` (async, returning true or a description of what is wrong) is true. */
async function eventually(check, what, timeout = WAIT_MS) {
  const deadline = Date.now() + timeout;
  let last = 'not checked';
  for (;;) {
    last = await check();
    if (last === true) return;
    if (Date.now() >= deadline) h.fail(`${what}: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Fills the inputs of `p` named in `fields` with their values, then clicks the button `button`. */
async function submit(p, fields, button) {
  for (const [name, value] of Object.entries(fields)) {
    const input = p.page.locator(`input[name="${name}"]`);
    h.assert((await input.count()) === 1, `${p.label}: expected one <input name="${name}">, found ${await input.count()}`);
    await input.fill(value, { timeout: WAIT_MS });
  }
  await h.click(p.page, button);
}

module.exports = { WAIT_MS, eventually, expectStays, expectText, numberAfter, open, openTwo, submit, textOf };
