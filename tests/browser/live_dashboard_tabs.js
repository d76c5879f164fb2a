'use strict';
// live-dashboard, two tabs of one browser: the shared ticker's out-of-band publish advances both
// with no interaction, in lockstep.
const h = require('./lib/harness');
const rt = require('./lib/realtime');
const dashboard = require('./lib/dashboard');

h.run('live_dashboard_tabs', async ({ url, browser, step, note }) => {
  const { a, b } = await rt.openTwo(browser, url, 'tabs', note);
  step('both tabs advance by themselves');
  await dashboard.expectAdvancing([a, b], 2);
  step('both tabs show the same tick');
  await dashboard.expectLockstep(a, b);
});
