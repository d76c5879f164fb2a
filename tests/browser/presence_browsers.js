'use strict';
// presence, two browsers: both join and list each other; when one browser's page closes, the
// disconnect hook removes it from the other browser's list.
const h = require('./lib/harness');
const rt = require('./lib/realtime');
const presence = require('./lib/presence');

h.run('presence_browsers', async ({ url, browser, step, note }) => {
  const { a, b, contextB } = await rt.openTwo(browser, url, 'browsers', note);

  step('browser A joins as ann, browser B as ben: both show 2 online');
  await presence.join(a, 'ann');
  await presence.expectOnline(b, ['ann'], 'after ann joined');
  await presence.join(b, 'ben');
  await presence.expectOnline(a, ['ann', 'ben'], 'after ben joined');
  await presence.expectOnline(b, ['ann', 'ben'], 'after joining');

  step('a page opened later in a third browser lists both before joining');
  const contextC = await h.newContext(browser, {}, { note });
  const c = await rt.open(contextC, url, 'browser C', note);
  await presence.expectOnline(c, ['ann', 'ben'], 'on load');

  step('close browser B: the others show 1 online');
  await b.page.close();
  await contextB.close();
  await presence.expectOnline(a, ['ann'], 'after browser B closed');
  await presence.expectOnline(c, ['ann'], 'after browser B closed');
});
