'use strict';
// The reconnection example (examples/reconnection) with its Redis store: persisted fields
// (`counter`, `notes`) survive a dropped WebSocket and a killed and restarted server process;
// the unpersisted `draft` does not.
//
// The process that owns the server answers the control command `restart` by killing the server
// process and starting it again on the same port and Redis key prefix.
const h = require('./lib/harness');

const WAIT_MS = 5000;

async function text(page, id) {
  return page.evaluate((sel) => {
    const el = document.getElementById(sel);
    return el ? el.textContent : null;
  }, id);
}

/** Waits until `#counter`, `#notes` and `#draft` show `want`. */
async function expectForm(page, want, label) {
  try {
    await page.waitForFunction(
      (w) => ['counter', 'notes', 'draft'].every((id) => {
        const el = document.getElementById(id);
        return !!el && el.textContent === w[id];
      }),
      want,
      { timeout: WAIT_MS, polling: 25 },
    );
  } catch (err) {
    const shown = {
      counter: await text(page, 'counter'),
      notes: await text(page, 'notes'),
      draft: await text(page, 'draft'),
    };
    h.fail(`${label}: expected ${JSON.stringify(want)}, the page shows ${JSON.stringify(shown)}`);
  }
}

/** Counts lvt:disconnected / lvt:reconnected on the wrapper from now on. */
async function watchConnection(page) {
  await page.evaluate(() => {
    window.__ltEvents = { disconnected: 0, reconnected: 0 };
    const w = document.querySelector('[data-lvt-id]');
    w.addEventListener('lvt:disconnected', () => (window.__ltEvents.disconnected += 1));
    w.addEventListener('lvt:reconnected', () => (window.__ltEvents.reconnected += 1));
  });
}

async function waitEvent(page, name, label) {
  try {
    await page.waitForFunction((n) => window.__ltEvents[n] >= 1, name, { timeout: WAIT_MS, polling: 25 });
  } catch (err) {
    h.fail(`${label} (no lvt:${name})`);
  }
}

async function save(page, notes, draft) {
  await page.fill('input[name="notes"]', notes);
  await page.fill('input[name="draft"]', draft);
  await h.click(page, 'save');
}

h.run('reconnection_restart', async ({ url, browser, step, note }) => {
  const context = await h.newContext(browser, {}, { note });
  await h.setHeartbeat(context, 1000);
  const page = await context.newPage();
  const seen = h.watchPage(page, 'page', { note });

  step(`open ${url}`);
  await page.goto(url);
  await h.waitForClient(page);
  h.assert((await page.evaluate(() => window.liveTemplateClient.useHTTP)) === false, 'the client is not on a WebSocket');

  step('click +1 twice, save notes and a draft');
  await h.click(page, 'increment');
  await h.click(page, 'increment');
  await save(page, 'buy milk', 'half-typed');
  await expectForm(page, { counter: '2', notes: 'buy milk', draft: 'half-typed' }, 'after saving');

  step('drop the WebSocket; the client reconnects with the persisted fields only');
  await watchConnection(page);
  await page.evaluate(() => window.liveTemplateClient.ws.close());
  await waitEvent(page, 'disconnected', 'the client did not notice the closed socket');
  await waitEvent(page, 'reconnected', 'the client did not reconnect within 5 s');
  await h.waitForClient(page, 'the client to be ready after reconnecting');
  await expectForm(page, { counter: '2', notes: 'buy milk', draft: '' }, 'after the reconnect');

  step('type another draft, then kill and restart the server process');
  await save(page, 'buy milk', 'second draft');
  await expectForm(page, { counter: '2', notes: 'buy milk', draft: 'second draft' }, 'before the restart');
  await watchConnection(page);
  // Hold the page "hidden" while the port is closed so that no heartbeat tick finds it closed
  // (a failed reconnect would switch the client to HTTP for the rest of the page's life).
  await page.evaluate(() => Object.defineProperty(document, 'hidden', { configurable: true, get: () => true }));
  await h.control('restart');
  await waitEvent(page, 'disconnected', 'the client did not notice that the server went away');
  await page.evaluate(() => delete document.hidden);
  await waitEvent(page, 'reconnected', 'the client did not reconnect to the restarted server');
  await h.waitForClient(page, 'the client to be ready after the restart');
  h.assert((await page.evaluate(() => window.liveTemplateClient.useHTTP)) === false, 'the client fell back to HTTP');
  await expectForm(page, { counter: '2', notes: 'buy milk', draft: '' }, 'after the restart, without a reload');

  step('reload the page from the restarted server');
  const loads = seen.navigations;
  await page.reload();
  await h.waitForClient(page, 'the client after the reload');
  h.assert(seen.navigations > loads, 'the page did not reload');
  await expectForm(page, { counter: '2', notes: 'buy milk', draft: '' }, 'after the reload');

  step('one more click on the restarted server');
  await h.click(page, 'increment');
  await expectForm(page, { counter: '3', notes: 'buy milk', draft: '' }, 'after +1 on the restarted server');
});
