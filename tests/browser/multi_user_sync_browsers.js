'use strict';
// multi-user-sync, two browsers (two sessions): the counter is shared by the server, so a second
// browser reads it on load and on its own clicks, but the self-topic publish stays within one
// session: the other browser is not pushed to.
const h = require('./lib/harness');
const rt = require('./lib/realtime');

const counter = (n) => new RegExp(`Counter:\\s*${n}(?!\\d)`);
const QUIET_MS = 700;

h.run('multi_user_sync_browsers', async ({ url, browser, step, note }) => {
  const contextA = await h.newContext(browser, {}, { note });
  const contextB = await h.newContext(browser, {}, { note });

  step('browser A opens two tabs and increments once');
  const a1 = await rt.open(contextA, url, 'browser A tab 1', note);
  const a2 = await rt.open(contextA, url, 'browser A tab 2', note);
  await h.click(a1.page, 'increment');
  await rt.expectText(a1, 'body', counter(1), 'after its own click');
  await rt.expectText(a2, 'body', counter(1), 'after the click in tab 1');

  step('browser B opens the page: it shows the shared value 1 on load');
  const b = await rt.open(contextB, url, 'browser B', note);
  h.assert(/Counter:\s*<strong>1<\/strong>/.test(b.html), `browser B's first HTML does not show "Counter: 1": ${b.html}`);
  await rt.expectText(b, 'body', counter(1), 'once connected');

  step('browser A increments: its tabs show 2, browser B is not pushed');
  await h.click(a1.page, 'increment');
  await rt.expectText(a1, 'body', counter(2), 'after its own click');
  await rt.expectText(a2, 'body', counter(2), 'after the click in tab 1');
  await rt.expectStays(b, 'body', counter(1), QUIET_MS, 'after a click in browser A (another session)');

  step('browser B increments: it reads the shared value (3); browser A is not pushed');
  await h.click(b.page, 'increment');
  await rt.expectText(b, 'body', counter(3), 'after its own click');
  await rt.expectStays(a1, 'body', counter(2), QUIET_MS, 'after a click in browser B (another session)');
  await rt.expectText(a2, 'body', counter(2), 'after a click in browser B (another session)');
});
