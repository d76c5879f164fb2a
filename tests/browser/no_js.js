'use strict';
// JavaScript disabled: the increment button submits its <form method="POST"> natively, the
// server answers 303 See Other, and the browser's follow-up GET shows the new count.
const h = require('./lib/harness');

h.run('no_js', async ({ url, browser, step, note }) => {
  const context = await h.newContext(browser, { javaScriptEnabled: false }, { note });
  const page = await context.newPage();
  h.watchPage(page, 'page', { note });
  const exchanges = [];
  page.on('response', (res) => {
    const req = res.request();
    if (req.url().startsWith(url.replace(/[?#].*$/, '').replace(/\/$/, ''))) {
      exchanges.push({ method: req.method(), status: res.status(), type: req.resourceType(), url: req.url() });
    }
  });

  step(`open ${url} without JavaScript`);
  const first = await page.goto(url);
  h.assert(first && first.status() === 200, `GET answered ${first ? first.status() : 'nothing'}`);
  await h.expectCount(page, 0, 'initial render');
  h.assert(
    (await page.evaluate(() => typeof window.liveTemplateClient)) === 'undefined',
    'the client ran although JavaScript is disabled',
  );

  step('click increment (native form POST)');
  exchanges.length = 0;
  await Promise.all([page.waitForNavigation({ timeout: 5000 }), h.click(page, 'increment')]);
  await h.expectCount(page, 1, 'after the form POST');

  const post = exchanges.find((e) => e.method === 'POST');
  h.assert(post, `no POST was sent; saw ${JSON.stringify(exchanges)}`);
  h.assert(post.status === 303, `the POST was answered ${post.status}, expected 303 See Other`);
  const follow = exchanges.find((e) => e.method === 'GET' && e.type === 'document');
  h.assert(follow && follow.status === 200, `no 200 GET followed the 303; saw ${JSON.stringify(exchanges)}`);

  step('decrement the same way');
  await Promise.all([page.waitForNavigation({ timeout: 5000 }), h.click(page, 'decrement')]);
  await h.expectCount(page, 0, 'after the second form POST');
});
