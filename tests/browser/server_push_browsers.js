'use strict';
// server-push, two browsers (two sessions): each session has its own ticker, and a job result
// is pushed to the session that started the job only.
const h = require('./lib/harness');
const rt = require('./lib/realtime');

const RESULT = /Result:\s*done after 2000 ms/;
const JOB_WAIT_MS = 6000;

h.run('server_push_browsers', async ({ url, browser, step, note }) => {
  const contextA = await h.newContext(browser, {}, { note });
  const contextB = await h.newContext(browser, {}, { note });

  step('browser A opens the page and counts 3 ticks');
  const a = await rt.open(contextA, url, 'browser A', note);
  await rt.expectText(a, 'article', /Server ticks:\s*[3-9]/, 'after three seconds', JOB_WAIT_MS);

  step('browser B opens the page: its own ticker starts from 1');
  const b = await rt.open(contextB, url, 'browser B', note);
  await rt.expectText(b, 'article', /Server ticks:\s*[1-9]/, 'after its first tick');
  const [ta, tb] = [await rt.numberAfter(a, 'Server ticks:'), await rt.numberAfter(b, 'Server ticks:')];
  h.assert(ta - tb >= 2, `browser B shows ${tb} ticks and browser A ${ta}: not counted by a ticker of its own`);
  await h.control('tickers 2');

  step('start the job in browser A: the result reaches A only');
  await h.click(a.page, 'start_job');
  await rt.expectText(a, 'article', /Working…/, 'right after the click');
  await rt.expectText(a, 'article', RESULT, 'when the job is done', JOB_WAIT_MS);
  await rt.expectStays(b, 'article', /No result yet\./, 700, 'after the job of browser A finished');

  step('close browser B: its ticker stops, browser A keeps ticking');
  await contextB.close();
  await h.control('tickers 1');
  const before = await rt.numberAfter(a, 'Server ticks:');
  await rt.expectText(a, 'article', new RegExp(`Server ticks:\\s*(?!${before}\\b)\\d+`), 'after browser B closed');
});
