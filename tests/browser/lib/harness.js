'use strict';
// Shared plumbing for the browser scenarios: launching Debian's Chromium through playwright-core,
// serving the pinned client bundle from node_modules instead of the CDN, waiting for the client,
// reading the counter, and the control channel to the process that owns the server.
//
// A scenario is `node <scenario>.js <page-url>`. It prints progress lines, then exactly one of
// `PASS <name>` (exit 0) or `FAIL <name>: <reason>` (exit 1). Exit 2 means bad usage or a
// missing dependency, exit 3 a scenario that ran out of time.

const fs = require('fs');
const path = require('path');
const readline = require('readline');

const CLIENT_VERSION = '0.25.1';
const CDN_PREFIX = `https://cdn.jsdelivr.net/npm/@livetemplate/client@${CLIENT_VERSION}/`;
const SCENARIO_TIMEOUT_MS = Number(process.env.LT_SCENARIO_TIMEOUT_MS || 20000);
const WAIT_MS = Number(process.env.LT_WAIT_MS || 5000);

/** Chromium flags known to work on a closed network, as root, without a GPU. */
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

class ScenarioFailure extends Error {}

function fail(message) {
  throw new ScenarioFailure(message);
}

function assert(condition, message) {
  if (!condition) fail(message);
}

function log(line) {
  process.stdout.write(`${line}\n`);
}

function loadPlaywright() {
  try {
    return require('playwright-core');
  } catch (err) {
    log(`FAIL setup: playwright-core is not installed: run \`npm ci --prefix tests/browser\` (${err.message})`);
    process.exit(2);
  }
}

function clientAsset(relative) {
  let pkgDir;
  try {
    pkgDir = path.dirname(require.resolve('@livetemplate/client/package.json'));
  } catch (err) {
    fail(`@livetemplate/client is not installed: run \`npm ci --prefix tests/browser\` (${err.message})`);
  }
  const version = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')).version;
  assert(version === CLIENT_VERSION, `installed @livetemplate/client is ${version}, expected ${CLIENT_VERSION}`);
  return fs.readFileSync(path.join(pkgDir, relative));
}

function chromiumPath() {
  const candidates = [process.env.LT_CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser'].filter(Boolean);
  const found = candidates.find((p) => fs.existsSync(p));
  if (!found) {
    log('FAIL setup: Chromium not found: run `scripts/test` (it installs Debian\'s `chromium`) or set LT_CHROMIUM');
    process.exit(2);
  }
  return found;
}

async function launchBrowser() {
  const { chromium } = loadPlaywright();
  // playwright gives every launch a fresh, private --user-data-dir, so scenarios can run in parallel.
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
}

/**
 * A browser context whose requests for the pinned client on the CDN are answered from node_modules.
 * Any other CDN request (another version, another file) is aborted and reported.
 */
async function newContext(browser, options = {}, scenario) {
  const context = await browser.newContext(options);
  const js = clientAsset('dist/livetemplate-client.browser.js');
  const css = clientAsset('livetemplate.css');
  await context.route('https://cdn.jsdelivr.net/**', (route) => {
    const url = route.request().url();
    if (url === `${CDN_PREFIX}dist/livetemplate-client.browser.js`) {
      return route.fulfill({ status: 200, contentType: 'application/javascript; charset=utf-8', body: js });
    }
    if (url === `${CDN_PREFIX}livetemplate.css`) {
      return route.fulfill({ status: 200, contentType: 'text/css; charset=utf-8', body: css });
    }
    if (scenario) scenario.note(`unexpected CDN request aborted: ${url}`);
    return route.abort();
  });
  return context;
}

/** Makes the client's heartbeat tick every `ms` (>= 1000) unless the page already sets it. */
async function setHeartbeat(context, ms) {
  await context.addInitScript((interval) => {
    const apply = () => {
      const el = document.querySelector('[data-lvt-id]');
      if (!el) return false;
      if (!el.hasAttribute('data-lvt-heartbeat-ms')) el.setAttribute('data-lvt-heartbeat-ms', String(interval));
      return true;
    };
    if (apply()) return;
    const observer = new MutationObserver(() => {
      if (apply()) observer.disconnect();
    });
    observer.observe(document, { childList: true, subtree: true });
  }, ms);
}

/** Records what a page did: console errors, page errors, main-frame navigations, POST requests. */
function watchPage(page, label, scenario) {
  const record = { navigations: 0, posts: [], label };
  page.on('request', (req) => {
    if (req.method() === 'POST') record.posts.push(`${req.url()} (${req.headers()['content-type'] || 'no content-type'})`);
  });
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') scenario.note(`[${label} console.${msg.type()}] ${msg.text()}`);
  });
  page.on('pageerror', (err) => scenario.note(`[${label} pageerror] ${err.message}`));
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) record.navigations += 1;
  });
  return record;
}

/** Waits until the client has received its first tree and has a transport. */
async function waitForClient(page, what = 'the client to connect') {
  try {
    await page.waitForFunction(
      () => {
        const c = window.liveTemplateClient;
        return !!c && typeof c.isReady === 'function' && c.isReady() && c.messageCount >= 1;
      },
      null,
      { timeout: WAIT_MS, polling: 50 },
    );
  } catch (err) {
    const state = await page
      .evaluate(() => {
        const c = window.liveTemplateClient;
        const w = document.querySelector('[data-lvt-id]');
        return JSON.stringify({
          client: !!c,
          wrapper: !!w,
          loading: w ? w.getAttribute('data-lvt-loading') : null,
          useHTTP: c ? c.useHTTP : null,
          messageCount: c ? c.messageCount : null,
        });
      })
      .catch((e) => `unavailable: ${e.message}`);
    fail(`timed out waiting for ${what}; client state ${state}`);
  }
}

/** The N of the first `Count: N` in the page's text, or null. */
async function readCount(page) {
  const text = await page.evaluate(() => (document.body ? document.body.innerText : ''));
  const m = /Count:\s*(-?\d+)/.exec(text);
  return m ? Number(m[1]) : null;
}

async function expectCount(page, expected, label) {
  try {
    await page.waitForFunction(
      (n) => {
        const m = /Count:\s*(-?\d+)/.exec(document.body ? document.body.innerText : '');
        return !!m && Number(m[1]) === n;
      },
      expected,
      { timeout: WAIT_MS, polling: 25 },
    );
  } catch (err) {
    const actual = await readCount(page).catch(() => 'unreadable');
    fail(`${label}: expected "Count: ${expected}", page shows ${actual === null ? 'no "Count: N"' : `"Count: ${actual}"`}`);
  }
}

async function click(page, name) {
  const button = page.locator(`button[name="${name}"]`);
  const n = await button.count();
  assert(n === 1, `expected one <button name="${name}">, found ${n}`);
  await button.click({ timeout: WAIT_MS });
}

// The control channel: the scenario asks the process that owns the server to do something
// (e.g. restart it) by printing `LT-CONTROL <command>` and waits for one line on stdin.
let stdinLines = null;
async function control(command) {
  if (!stdinLines) {
    const rl = readline.createInterface({ input: process.stdin });
    const queue = [];
    const waiters = [];
    rl.on('line', (line) => (waiters.length ? waiters.shift()(line) : queue.push(line)));
    rl.on('close', () => waiters.splice(0).forEach((w) => w(null)));
    stdinLines = () => (queue.length ? Promise.resolve(queue.shift()) : new Promise((r) => waiters.push(r)));
  }
  log(`LT-CONTROL ${command}`);
  const reply = await stdinLines();
  if (reply === null) fail(`no reply to control command "${command}" (stdin closed)`);
  if (!reply.startsWith('ok')) fail(`control command "${command}" failed: ${reply}`);
  return reply;
}

/**
 * Runs `body(ctx)` as the scenario `name` against the URL given on the command line.
 * `ctx` offers the URL (`url`; with several replicas of one app, `urls` holds each
 * replica's page URL, `url` being the first), a launched browser, `note()` for diagnostics printed on failure,
 * and `step()` for progress lines.
 */
function run(name, body) {
  const urls = process.argv.slice(2);
  const url = urls[0];
  if (!url || !urls.every((u) => /^https?:\/\//.test(u))) {
    log(`FAIL ${name}: usage: node ${path.basename(process.argv[1])} <page-url> [<page-url of another replica>…]`);
    process.exit(2);
  }
  const notes = [];
  const started = Date.now();
  const ctx = {
    url,
    urls,
    browser: null,
    note: (line) => notes.push(line),
    step: (line) => log(`step: [${Date.now() - started} ms] ${line}`),
  };
  const timer = setTimeout(() => {
    log(`FAIL ${name}: timed out after ${SCENARIO_TIMEOUT_MS} ms`);
    notes.forEach((n) => log(`note: ${n}`));
    process.exit(3);
  }, SCENARIO_TIMEOUT_MS);
  (async () => {
    let code = 0;
    try {
      ctx.browser = await launchBrowser();
      await body(ctx);
      log(`PASS ${name} (${Date.now() - started} ms)`);
    } catch (err) {
      code = 1;
      const reason = err instanceof ScenarioFailure ? err.message : `error: ${err && err.stack ? err.stack : err}`;
      log(`FAIL ${name}: ${reason}`);
      notes.forEach((n) => log(`note: ${n}`));
    } finally {
      if (ctx.browser) await ctx.browser.close().catch(() => {});
      clearTimeout(timer);
    }
    process.exit(code);
  })();
}

module.exports = {
  CLIENT_VERSION,
  assert,
  click,
  control,
  expectCount,
  fail,
  newContext,
  readCount,
  run,
  setHeartbeat,
  waitForClient,
  watchPage,
};
