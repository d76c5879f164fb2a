'use strict';
// greet-wall, two tabs of one browser (one session): a greeting in tab A sets the headline and
// the wall line in both tabs (sync); the server's hello reaches both tabs.
const h = require('./lib/harness');
const rt = require('./lib/realtime');

const HEARTBEAT_WAIT_MS = 4000;

h.run('greet_wall_tabs', async ({ url, browser, step, note }) => {
  const { a, b } = await rt.openTwo(browser, url, 'tabs', note);
  await rt.expectText(a, 'h3', /^Say hello$/, 'initial headline');
  await rt.expectText(b, 'h3', /^Say hello$/, 'initial headline');

  step('greet Ann in tab A: both tabs show the headline and the wall line');
  await rt.submit(a, { name: 'Ann' }, 'greet');
  for (const p of [a, b]) {
    await rt.expectText(p, 'h3', /^Hello, Ann!$/, 'after the greeting in tab A');
    await rt.expectText(p, 'ul', /^Ann was greeted$/, 'after the greeting in tab A');
  }

  step('greet Bo in tab B: both tabs follow');
  await rt.submit(b, { name: 'Bo' }, 'greet');
  for (const p of [b, a]) {
    await rt.expectText(p, 'h3', /^Hello, Bo!$/, 'after the greeting in tab B');
    await rt.expectText(p, 'ul', /^Ann was greeted\nBo was greeted$/, 'after the greeting in tab B');
  }

  step('the server says hi to both tabs');
  const hi = /The server said hi at \d\d:\d\d:\d\d UTC/;
  await rt.expectText(a, 'article', hi, 'after a heartbeat', HEARTBEAT_WAIT_MS);
  await rt.expectText(b, 'article', hi, 'after a heartbeat', HEARTBEAT_WAIT_MS);
});
