'use strict';
// live-dashboard, two browsers: both advance with no interaction, in lockstep; closing one does
// not affect the other.
const h = require('./lib/harness');
const rt = require('./lib/realtime');
const dashboard = require('./lib/dashboard');

h.run('live_dashboard_browsers', async ({ url, browser, step, note }) => {
  const { a, b, contextB } = await rt.openTwo(browser, url, 'browsers', note);
  step('both browsers advance by themselves');
  await dashboard.expectAdvancing([a, b], 2);
  step('both browsers show the same tick');
  await dashboard.expectLockstep(a, b);
  step('close browser B: browser A keeps advancing');
  await contextB.close();
  await dashboard.expectAdvancing([a], 2);
});
