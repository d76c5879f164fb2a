'use strict';
// WebSocket refused: every WebSocket the page opens is closed before it opens, so the client
// falls back to HTTP mode (initial tree by GET, actions by POST with JSON) and clicks still
// update the count.
const h = require('./lib/harness');

h.run('ws_refused', async ({ url, browser, step, note }) => {
  const context = await h.newContext(browser, {}, { note });
  let refused = 0;
  await context.routeWebSocket(/.*/, (ws) => {
    refused += 1;
    ws.close({ code: 1008, reason: 'refused by the test' });
  });
  const page = await context.newPage();
  const seen = h.watchPage(page, 'page', { note });
  const posts = [];
  page.on('response', (res) => {
    const req = res.request();
    if (req.method() === 'POST') {
      posts.push({ status: res.status(), accept: req.headers().accept || '', type: req.headers()['content-type'] || '' });
    }
  });

  step(`open ${url} with WebSockets refused`);
  await page.goto(url);
  await h.waitForClient(page, 'the client to start in HTTP mode');
  h.assert(refused >= 1, 'the client never tried a WebSocket');
  h.assert((await page.evaluate(() => window.liveTemplateClient.useHTTP)) === true, 'the client is not in HTTP mode');
  await h.expectCount(page, 0, 'initial render');
  await page.evaluate(() => {
    window.__ltMarker = 'still-here';
  });
  const loads = seen.navigations;

  step('click increment (fetch POST)');
  await h.click(page, 'increment');
  await h.expectCount(page, 1, 'after increment over HTTP');
  await h.click(page, 'increment');
  await h.expectCount(page, 2, 'after the second increment over HTTP');
  await h.click(page, 'decrement');
  await h.expectCount(page, 1, 'after decrement over HTTP');

  const json = posts.filter((p) => p.accept.includes('application/json'));
  h.assert(json.length === 3, `expected 3 JSON POSTs, saw ${JSON.stringify(posts)}`);
  h.assert(json.every((p) => p.status === 200), `a JSON POST failed: ${JSON.stringify(json)}`);
  h.assert(seen.navigations === loads, 'the page navigated: the fallback did a form submission instead of a fetch');
  h.assert((await page.evaluate(() => window.__ltMarker)) === 'still-here', 'the page was reloaded');
});
