'use strict';
// multi-user-sync on three replicas behind no load balancer: tabs of one browser (one session,
// the cookie is shared across ports) on different replicas count together, as on one instance.
const h = require('./lib/harness');
const rt = require('./lib/realtime');

const counter = (n) => new RegExp(`Counter:\\s*${n}(?!\\d)`);

h.run('replicas_multi_user_sync', async ({ urls, browser, step, note }) => {
  h.assert(urls.length === 3, `expected three replica URLs, got ${urls.length}`);
  const context = await h.newContext(browser, {}, { note });
  step('tab A on replica 1, tab B on replica 2');
  const a = await rt.open(context, urls[0], 'tab A (replica 1)', note);
  const b = await rt.open(context, urls[1], 'tab B (replica 2)', note);
  await rt.expectText(a, 'body', counter(0), 'initial render');
  await rt.expectText(b, 'body', counter(0), 'initial render');

  step('increment in tab A: both tabs show 1');
  await h.click(a.page, 'increment');
  await rt.expectText(a, 'body', counter(1), 'after its own click');
  await rt.expectText(b, 'body', counter(1), 'after the click on replica 1');

  step('increment in tab B: both tabs show 2');
  await h.click(b.page, 'increment');
  await rt.expectText(b, 'body', counter(2), 'after its own click');
  await rt.expectText(a, 'body', counter(2), 'after the click on replica 2');

  step('a tab opened later on replica 3 starts at 2; its click reaches the others');
  const c = await rt.open(context, urls[2], 'tab C (replica 3)', note);
  h.assert(/Counter:\s*<strong>2<\/strong>/.test(c.html), `tab C's first HTML does not show "Counter: 2": ${c.html}`);
  await h.click(c.page, 'increment');
  for (const p of [c, a, b]) await rt.expectText(p, 'body', counter(3), 'after the click on replica 3');

  step('another browser on replica 2 reads the shared value but is not pushed to');
  const other = await rt.open(await h.newContext(browser, {}, { note }), urls[1], 'browser B (replica 2)', note);
  await rt.expectText(other, 'body', counter(3), 'initial render');
  await h.click(a.page, 'increment');
  await rt.expectText(b, 'body', counter(4), 'after another click on replica 1');
  await rt.expectStays(other, 'body', counter(3), 500, 'another session is not pushed to');
});
