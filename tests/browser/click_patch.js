'use strict';
// Click → patch: a click runs the action over the WebSocket and the client patches the DOM in
// place. A marker stored on `window` must survive (a page load would wipe it), and the main
// frame must not navigate again after the first load.
const h = require('./lib/harness');

h.run('click_patch', async ({ url, browser, step, note }) => {
  const context = await h.newContext(browser, {}, { note });
  const page = await context.newPage();
  const seen = h.watchPage(page, 'page', { note });

  step(`open ${url}`);
  await page.goto(url);
  await h.waitForClient(page);
  h.assert(
    (await page.evaluate(() => window.liveTemplateClient.useHTTP)) === false,
    'the client did not connect over WebSocket (it fell back to HTTP mode)',
  );
  await h.expectCount(page, 0, 'initial render');
  await page.evaluate(() => {
    window.__ltMarker = 'still-here';
  });
  const loads = seen.navigations;
  const posts = seen.posts.length;

  step('click increment');
  await h.click(page, 'increment');
  await h.expectCount(page, 1, 'after increment');

  step('click increment again, then decrement');
  await h.click(page, 'increment');
  await h.expectCount(page, 2, 'after second increment');
  await h.click(page, 'decrement');
  await h.expectCount(page, 1, 'after decrement');

  const marker = await page.evaluate(() => window.__ltMarker);
  h.assert(marker === 'still-here', 'the window marker is gone: the page was reloaded instead of patched');
  h.assert(seen.navigations === loads, `the page navigated ${seen.navigations - loads} time(s) during the clicks`);
  h.assert(
    (await page.evaluate(() => window.liveTemplateClient.useHTTP)) === false,
    'the client left WebSocket mode during the clicks',
  );
  h.assert(seen.posts.length === posts, `the clicks went over HTTP: ${seen.posts.slice(posts).join(', ')}`);
});
