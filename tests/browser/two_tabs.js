'use strict';
// Two tabs of one browser (one context, so one cookie jar): each WebSocket connection has its
// own state. A click in tab A changes A only; a click in tab B then starts from B's own count.
const h = require('./lib/harness');

h.run('two_tabs', async ({ url, browser, step, note }) => {
  const context = await h.newContext(browser, {}, { note });
  const a = await context.newPage();
  const b = await context.newPage();
  h.watchPage(a, 'tab A', { note });
  h.watchPage(b, 'tab B', { note });

  step('open the page in tab A and tab B');
  await Promise.all([a.goto(url), b.goto(url)]);
  await Promise.all([h.waitForClient(a, 'tab A to connect'), h.waitForClient(b, 'tab B to connect')]);
  await h.expectCount(a, 0, 'tab A initial render');
  await h.expectCount(b, 0, 'tab B initial render');

  step('click increment twice in tab A');
  await a.bringToFront();
  await h.click(a, 'increment');
  await h.expectCount(a, 1, 'tab A after one increment');
  await h.click(a, 'increment');
  await h.expectCount(a, 2, 'tab A after two increments');

  step('tab B is unchanged; its own increment starts from its own count');
  h.assert((await h.readCount(b)) === 0, `tab B changed to ${await h.readCount(b)} after clicks in tab A`);
  await b.bringToFront();
  await h.click(b, 'increment');
  await h.expectCount(b, 1, 'tab B after its own increment (a shared counter would show 3)');
  await h.expectCount(a, 2, 'tab A after the click in tab B');
});
