'use strict';
// What the chat scenarios check: the message list, element by element.

const h = require('./harness');
const rt = require('./realtime');

/** The outerHTML of every message of `p`, in order. */
async function messages(p) {
  return p.page.$$eval('.messages p[data-key]', (els) => els.map((el) => el.outerHTML)).catch(() => []);
}

/**
 * Waits until `p` shows exactly the messages `expected` (pairs [user, text]), each rendered as
 * `<p data-key="…"><strong>user:</strong> text</p>`; returns their keys.
 */
async function expectMessages(p, expected, what) {
  const wanted = expected.map(([user, text]) => `<strong>${user}:</strong> ${text}`);
  try {
    await p.page.waitForFunction(
      (inner) => {
        const els = [...document.querySelectorAll('.messages p[data-key]')];
        return (
          els.length === inner.length &&
          els.every((el, i) => el.outerHTML === `<p data-key="${el.getAttribute('data-key')}">${inner[i]}</p>`)
        );
      },
      wanted,
      { timeout: rt.WAIT_MS, polling: 25 },
    );
  } catch (err) {
    h.fail(`${p.label}, ${what}: expected the messages ${JSON.stringify(wanted)}, it shows ${JSON.stringify(await messages(p))}`);
  }
  const keys = await p.page.$$eval('.messages p[data-key]', (els) => els.map((el) => el.getAttribute('data-key')));
  h.assert(new Set(keys).size === keys.length && keys.every((k) => k !== ''), `${p.label}: message keys not distinct: ${keys}`);
  return keys;
}

/** Joins the room as `name` and waits for "Posting as name". */
async function join(p, name) {
  await rt.submit(p, { username: name }, 'join');
  await rt.expectText(p, 'article', new RegExp(`Posting as\\s+${name}\\b`), `after joining as ${name}`);
}

/** Sends `text`. */
async function send(p, text) {
  await rt.submit(p, { text }, 'send');
}

module.exports = { expectMessages, join, messages, send };
