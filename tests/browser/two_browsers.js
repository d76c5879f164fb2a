'use strict';
// Two separate browsers (two browser contexts, each with its own cookie jar) get different
// session cookies and never see each other's state.
const h = require('./lib/harness');

h.run('two_browsers', async ({ url, browser, step, note }) => {
  const ctxA = await h.newContext(browser, {}, { note });
  const ctxB = await h.newContext(browser, {}, { note });
  const a = await ctxA.newPage();
  const b = await ctxB.newPage();
  h.watchPage(a, 'browser A', { note });
  h.watchPage(b, 'browser B', { note });

  step('open the page in browser A and browser B');
  await Promise.all([a.goto(url), b.goto(url)]);
  await Promise.all([h.waitForClient(a, 'browser A to connect'), h.waitForClient(b, 'browser B to connect')]);

  step('compare session cookies');
  const jarA = await ctxA.cookies(url);
  const jarB = await ctxB.cookies(url);
  h.assert(jarA.length > 0, 'the server set no cookie in browser A (expected a session cookie)');
  h.assert(jarB.length > 0, 'the server set no cookie in browser B (expected a session cookie)');
  const render = (jar) => jar.map((c) => `${c.name}=${c.value}`).sort().join('; ');
  h.assert(render(jarA) !== render(jarB), `both browsers carry the same cookies: ${render(jarA)}`);
  for (const c of jarA) {
    const other = jarB.find((d) => d.name === c.name);
    h.assert(!other || other.value !== c.value, `cookie ${c.name} has the same value in both browsers`);
  }

  step('click increment twice in browser A, once in browser B');
  await h.expectCount(a, 0, 'browser A initial render');
  await h.expectCount(b, 0, 'browser B initial render');
  await h.click(a, 'increment');
  await h.expectCount(a, 1, 'browser A after one increment');
  await h.click(a, 'increment');
  await h.expectCount(a, 2, 'browser A after two increments');
  h.assert((await h.readCount(b)) === 0, `browser B changed to ${await h.readCount(b)} after clicks in browser A`);
  await h.click(b, 'increment');
  await h.expectCount(b, 1, 'browser B after its own increment');
});
