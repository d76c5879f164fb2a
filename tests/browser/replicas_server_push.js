'use strict';
// server-push on two replicas, one browser (one session) with a tab on each: the job started on
// replica 1 reaches the tab on replica 2 without a click; one ticker serves the session on both
// replicas (both tabs count the same ticks) and stops when both tabs are closed.
const h = require('./lib/harness');
const rt = require('./lib/realtime');

const RESULT = /Result:\s*done after 2000 ms/;
const JOB_WAIT_MS = 6000;

h.run('replicas_server_push', async ({ urls, browser, step, note }) => {
  h.assert(urls.length === 2, `expected two replica URLs, got ${urls.length}`);
  const context = await h.newContext(browser, {}, { note });
  const a = await rt.open(context, urls[0], 'tab A (replica 1)', note);
  const b = await rt.open(context, urls[1], 'tab B (replica 2)', note);
  await rt.expectText(a, 'article', /No result yet\./, 'initial render');
  await rt.expectText(b, 'article', /No result yet\./, 'initial render');
  await h.control('tickers 1');

  step('both tabs count the same ticks of the one ticker');
  await rt.eventually(async () => {
    const [ta, tb] = [await rt.numberAfter(a, 'Server ticks:'), await rt.numberAfter(b, 'Server ticks:')];
    return (ta !== null && ta >= 2 && ta === tb) || `tab A shows ${ta} ticks, tab B ${tb}`;
  }, 'the ticks of one session ticker in both tabs');

  step('start the job on replica 1: the result reaches both tabs without a click');
  await h.click(a.page, 'start_job');
  await rt.expectText(a, 'article', /Working…/, 'right after the click');
  await rt.expectText(a, 'article', RESULT, 'when the job is done', JOB_WAIT_MS);
  await rt.expectText(b, 'article', RESULT, 'when the job started on replica 1 is done');

  step('close both tabs: the ticker stops');
  await a.page.close();
  await b.page.close();
  await h.control('tickers 0');
});
