'use strict';
// greet-wall, two browsers (two sessions): a greeting reaches the other browser's wall (the
// shared topic), but the other browser keeps its own headline.
const h = require('./lib/harness');
const rt = require('./lib/realtime');

const QUIET_MS = 700;

h.run('greet_wall_browsers', async ({ url, browser, step, note }) => {
  const { a, b } = await rt.openTwo(browser, url, 'browsers', note);

  step('greet Ann in browser A: browser B gets the wall line, not the headline');
  await rt.submit(a, { name: 'Ann' }, 'greet');
  await rt.expectText(a, 'h3', /^Hello, Ann!$/, 'after its greeting');
  await rt.expectText(a, 'ul', /^Ann was greeted$/, 'after its greeting');
  await rt.expectText(b, 'ul', /^Ann was greeted$/, 'after the greeting in browser A');
  await rt.expectStays(b, 'h3', /^Say hello$/, QUIET_MS, 'after the greeting in browser A');

  step('greet Bo in browser B: both walls show both, each headline stays its own');
  await rt.submit(b, { name: 'Bo' }, 'greet');
  await rt.expectText(b, 'h3', /^Hello, Bo!$/, 'after its greeting');
  for (const p of [b, a]) await rt.expectText(p, 'ul', /^Ann was greeted\nBo was greeted$/, 'after the greeting in browser B');
  await rt.expectStays(a, 'h3', /^Hello, Ann!$/, QUIET_MS, 'after the greeting in browser B');

  step('a browser opened later shows the wall on load');
  const contextC = await h.newContext(browser, {}, { note });
  const c = await rt.open(contextC, url, 'browser C', note);
  h.assert(/<strong>Ann<\/strong> was greeted[\s\S]*<strong>Bo<\/strong> was greeted/.test(c.html), `browser C's first HTML lacks the wall: ${c.html}`);
  await rt.expectText(c, 'h3', /^Say hello$/, 'on load');
});
