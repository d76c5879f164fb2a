'use strict';
// Server restarted: the process that owns the server stops it and starts it again on the same
// port (control command `restart`). The client notices the closed socket, reconnects on its next
// heartbeat tick (set to 1 s here), receives a fresh full tree, and clicks work again over the
// new WebSocket, all without a page load.
//
// Heartbeat ticks are skipped while `document.hidden` is true; the scenario holds the page
// "hidden" during the restart so that no tick can land while the port is closed (a reconnect
// that fails there would drop the client into HTTP mode for the rest of the page's life).
const h = require('./lib/harness');

h.run('server_restart', async ({ url, browser, step, note }) => {
  const context = await h.newContext(browser, {}, { note });
  await h.setHeartbeat(context, 1000);
  const page = await context.newPage();
  const seen = h.watchPage(page, 'page', { note });

  step(`open ${url}`);
  await page.goto(url);
  await h.waitForClient(page);
  h.assert((await page.evaluate(() => window.liveTemplateClient.useHTTP)) === false, 'the client is not on a WebSocket');
  await h.expectCount(page, 0, 'initial render');
  await h.click(page, 'increment');
  await h.expectCount(page, 1, 'after increment before the restart');
  const messagesBefore = await page.evaluate(() => window.liveTemplateClient.messageCount);
  await page.evaluate(() => {
    window.__ltMarker = 'still-here';
    window.__ltEvents = { disconnected: 0, reconnected: 0 };
    const w = document.querySelector('[data-lvt-id]');
    w.addEventListener('lvt:disconnected', () => (window.__ltEvents.disconnected += 1));
    w.addEventListener('lvt:reconnected', () => (window.__ltEvents.reconnected += 1));
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
  });
  const loads = seen.navigations;
  const posts = seen.posts.length;

  step('restart the server on the same port');
  await h.control('restart');
  try {
    await page.waitForFunction(() => window.__ltEvents.disconnected >= 1, null, { timeout: 5000, polling: 25 });
  } catch (err) {
    h.fail('the client did not notice that the server went away (no lvt:disconnected)');
  }

  step('let the heartbeat run again; wait for the reconnect');
  await page.evaluate(() => delete document.hidden);
  try {
    await page.waitForFunction(() => window.__ltEvents.reconnected >= 1, null, { timeout: 5000, polling: 25 });
  } catch (err) {
    h.fail('the client did not reconnect within 5 s after the restart (no lvt:reconnected)');
  }
  await h.waitForClient(page, 'the client to be ready after reconnecting');
  const after = await page.evaluate(() => ({
    useHTTP: window.liveTemplateClient.useHTTP,
    messages: window.liveTemplateClient.messageCount,
  }));
  h.assert(after.useHTTP === false, 'the client reconnected in HTTP mode instead of over a WebSocket');
  h.assert(after.messages > messagesBefore, 'no new tree arrived after the reconnect');

  step('click increment on the restarted server');
  const n = await h.readCount(page);
  h.assert(n !== null, 'the page shows no "Count: N" after the reconnect');
  await h.click(page, 'increment');
  await h.expectCount(page, n + 1, 'after increment on the restarted server');
  h.assert((await page.evaluate(() => window.liveTemplateClient.useHTTP)) === false, 'the click went over HTTP');
  h.assert(seen.navigations === loads, 'the page was reloaded during the restart');
  h.assert((await page.evaluate(() => window.__ltMarker)) === 'still-here', 'the page was reloaded during the restart');
  h.assert(seen.posts.length === posts, `the clicks went over HTTP: ${seen.posts.slice(posts).join(', ')}`);
});
