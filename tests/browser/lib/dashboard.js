'use strict';
// What the live-dashboard scenarios check: the tick, the metrics and the pushes counter.

const h = require('./harness');
const rt = require('./realtime');

const PATIENCE_MS = 4000;

async function reading(p) {
  const text = (await rt.textOf(p.page, 'article')) || '';
  const num = (re) => {
    const m = re.exec(text);
    return m ? Number(m[1]) : null;
  };
  return {
    tick: num(/Tick\s+(\d+)/),
    requests: num(/Requests\s+(\d+)/),
    pushes: num(/Pushes received:\s*(\d+)/),
  };
}

/** Waits until every page's tick and pushes counter have grown by `steps`, and its requests too. */
async function expectAdvancing(pages, steps) {
  const start = await Promise.all(pages.map(reading));
  start.forEach((r, i) => h.assert(r.tick !== null && r.pushes !== null, `${pages[i].label}: no tick or pushes counter in ${JSON.stringify(r)}`));
  await Promise.all(
    pages.map((p, i) =>
      rt.eventually(
        async () => {
          const now = await reading(p);
          return (
            (now.tick >= start[i].tick + steps && now.pushes >= start[i].pushes + steps && now.requests > start[i].requests) ||
            `started at ${JSON.stringify(start[i])}, now ${JSON.stringify(now)}`
          );
        },
        `${p.label} advancing by ${steps} without interaction`,
        steps * 1000 + PATIENCE_MS,
      ),
    ),
  );
}

/** Waits until both pages show the same tick and the same requests. */
async function expectLockstep(a, b) {
  await rt.eventually(async () => {
    const [ra, rb] = [await reading(a), await reading(b)];
    return (ra.tick === rb.tick && ra.requests === rb.requests) || `${a.label} shows ${JSON.stringify(ra)}, ${b.label} ${JSON.stringify(rb)}`;
  }, 'both pages in lockstep');
}

module.exports = { expectAdvancing, expectLockstep, reading };
