'use strict';
// server-push, two tabs of one browser (one session): the job result is pushed to both tabs
// without another click, while "Working…" shows only in the tab that started the job; both tabs
// count the ticks of the session's one ticker, which stops once every tab is closed.
const h = require('./lib/harness');
const rt = require('./lib/realtime');

const RESULT = /Result:\s*done after 2000 ms/;
const JOB_WAIT_MS = 6000;

/** Records on the page whether "Working…" ever showed. */
async function watchWorking(p) {
  await p.page.evaluate(() => {
    window.__ltSawWorking = document.body.innerText.includes('Working');
    new MutationObserver(() => {
      if (document.body.innerText.includes('Working')) window.__ltSawWorking = true;
    }).observe(document.body, { childList: true, subtree: true, characterData: true });
  });
}

h.run('server_push_tabs', async ({ url, browser, step, note }) => {
  const { a, b } = await rt.openTwo(browser, url, 'tabs', note);
  await rt.expectText(a, 'article', /No result yet\./, 'initial render');
  await rt.expectText(b, 'article', /No result yet\./, 'initial render');
  await h.control('tickers 1');

  step('both tabs count the same ticks');
  await rt.eventually(async () => {
    const [ta, tb] = [await rt.numberAfter(a, 'Server ticks:'), await rt.numberAfter(b, 'Server ticks:')];
    return (ta !== null && ta >= 2 && ta === tb) || `tab A shows ${ta} ticks, tab B ${tb}`;
  }, 'the ticks of one session ticker in both tabs');

  step('start the job in tab A: "Working…" there only, then the result in both without a click');
  await watchWorking(b);
  await h.click(a.page, 'start_job');
  await rt.expectText(a, 'article', /Working…/, 'right after the click');
  await rt.expectText(a, 'article', RESULT, 'when the job is done', JOB_WAIT_MS);
  await rt.expectText(b, 'article', RESULT, 'when the job started in tab A is done');
  h.assert((await b.page.evaluate(() => window.__ltSawWorking)) === false, 'tab B showed "Working…" for the job of tab A');

  step('close both tabs: the ticker stops');
  await a.page.close();
  await b.page.close();
  await h.control('tickers 0');
});
