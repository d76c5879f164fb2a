'use strict';
// What the presence scenarios check: "N online" and the names in the list.

const rt = require('./realtime');

/** The names listed online in `p`, in order. */
async function names(p) {
  return p.page.$$eval('ul li[data-key]', (els) => els.map((el) => el.innerText.trim())).catch(() => []);
}

/** Waits until `p` shows "N online" and exactly the names `expected` (in any order). */
async function expectOnline(p, expected, what) {
  await rt.expectText(p, 'article', new RegExp(`(^|\\s)${expected.length}\\s+online`), what);
  const want = [...expected].sort().join(', ');
  await rt.eventually(async () => {
    const got = (await names(p)).sort().join(', ');
    return got === want || `expected the list [${want}], it shows [${got}]`;
  }, `${p.label}, ${what}`);
}

/** Joins as `name` and waits for "You are name". */
async function join(p, name) {
  await rt.submit(p, { name }, 'join');
  await rt.expectText(p, 'article', new RegExp(`You are\\s+${name}\\b`), `after joining as ${name}`);
}

module.exports = { expectOnline, join, names };
