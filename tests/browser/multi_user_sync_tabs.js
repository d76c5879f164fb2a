'use strict';
// multi-user-sync, two tabs of one browser (one session): a click in either tab shows in both
// (the self-topic publish), and a tab opened later starts at the current value.
const h = require('./lib/harness');
const rt = require('./lib/realtime');

const counter = (n) => new RegExp(`Counter:\\s*${n}(?!\\d)`);

h.run('multi_user_sync_tabs', async ({ url, browser, step, note }) => {
  step('open tab A, then tab B');
  const { a, b, contextA } = await rt.openTwo(browser, url, 'tabs', note);
  await rt.expectText(a, 'body', counter(0), 'initial render');
  await rt.expectText(b, 'body', counter(0), 'initial render');

  step('increment in tab A: both tabs show 1');
  await h.click(a.page, 'increment');
  await rt.expectText(a, 'body', counter(1), 'after its own click');
  await rt.expectText(b, 'body', counter(1), 'after the click in tab A (pushed to the session)');

  step('increment in tab B: both tabs show 2');
  await h.click(b.page, 'increment');
  await rt.expectText(b, 'body', counter(2), 'after its own click');
  await rt.expectText(a, 'body', counter(2), 'after the click in tab B');

  step('a third tab opened now shows 2 in its first HTML');
  const c = await rt.open(contextA, url, 'tab C', note);
  h.assert(/Counter:\s*<strong>2<\/strong>/.test(c.html), `tab C's first HTML does not show "Counter: 2": ${c.html}`);
  await rt.expectText(c, 'body', counter(2), 'once connected');

  step('increment in tab C: all three tabs show 3');
  await h.click(c.page, 'increment');
  for (const p of [c, a, b]) await rt.expectText(p, 'body', counter(3), 'after the click in tab C');
});
