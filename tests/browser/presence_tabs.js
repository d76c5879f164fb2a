'use strict';
// presence, two tabs of one browser: each connection joins with its own name; joining and
// leaving show in the other tab; closing a tab removes it from the other tab's list.
const h = require('./lib/harness');
const rt = require('./lib/realtime');
const presence = require('./lib/presence');

h.run('presence_tabs', async ({ url, browser, step, note }) => {
  const { a, b } = await rt.openTwo(browser, url, 'tabs', note);
  await presence.expectOnline(a, [], 'before anyone joined');
  await presence.expectOnline(b, [], 'before anyone joined');

  step('tab A joins as ann: both tabs list her');
  await presence.join(a, 'ann');
  await presence.expectOnline(a, ['ann'], 'after joining');
  await presence.expectOnline(b, ['ann'], 'after ann joined');

  step('tab B joins as ben: both tabs show 2 online');
  await presence.join(b, 'ben');
  await presence.expectOnline(b, ['ann', 'ben'], 'after joining');
  await presence.expectOnline(a, ['ann', 'ben'], 'after ben joined');

  step('tab B leaves with the button, then joins again');
  await h.click(b.page, 'leave');
  await presence.expectOnline(b, ['ann'], 'after leaving');
  await presence.expectOnline(a, ['ann'], 'after ben left');
  await presence.join(b, 'ben');
  await presence.expectOnline(a, ['ann', 'ben'], 'after ben joined again');

  step('close tab B: tab A shows 1 online');
  await b.page.close();
  await presence.expectOnline(a, ['ann'], 'after tab B closed');
});
