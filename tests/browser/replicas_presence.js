'use strict';
// presence on two replicas: visitors on different replicas list each other; a closed page on
// one replica disappears from the list on the other.
const h = require('./lib/harness');
const rt = require('./lib/realtime');
const presence = require('./lib/presence');

h.run('replicas_presence', async ({ urls, browser, step, note }) => {
  h.assert(urls.length === 2, `expected two replica URLs, got ${urls.length}`);
  const contextA = await h.newContext(browser, {}, { note });
  const contextB = await h.newContext(browser, {}, { note });
  const a = await rt.open(contextA, urls[0], 'ann (replica 1)', note);
  const b = await rt.open(contextB, urls[1], 'ben (replica 2)', note);

  step('ann joins on replica 1, ben on replica 2: both show 2 online');
  await presence.join(a, 'ann');
  await presence.expectOnline(b, ['ann'], 'after ann joined on replica 1');
  await presence.join(b, 'ben');
  await presence.expectOnline(a, ['ann', 'ben'], 'after ben joined on replica 2');
  await presence.expectOnline(b, ['ann', 'ben'], 'after joining');

  step('a page opened later on replica 2 lists both');
  const c = await rt.open(await h.newContext(browser, {}, { note }), urls[1], 'carl (replica 2)', note);
  await presence.expectOnline(c, ['ann', 'ben'], 'on load');

  step('ann leaves, then ben closes his page: the lists follow on both replicas');
  await h.click(a.page, 'leave');
  await presence.expectOnline(b, ['ben'], 'after ann left on replica 1');
  await presence.expectOnline(c, ['ben'], 'after ann left on replica 1');
  await b.page.close();
  await contextB.close();
  await presence.expectOnline(a, [], 'after ben closed on replica 2');
  await presence.expectOnline(c, [], 'after ben closed on replica 2');
});
