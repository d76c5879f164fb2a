'use strict';
// chat on two replicas: browsers on different replicas see each other's messages live, in one
// order; a browser joining later on either replica sees the history.
const h = require('./lib/harness');
const rt = require('./lib/realtime');
const chat = require('./lib/chat');

h.run('replicas_chat', async ({ urls, browser, step, note }) => {
  h.assert(urls.length === 2, `expected two replica URLs, got ${urls.length}`);
  step('alice on replica 1, bob on replica 2');
  const a = await rt.open(await h.newContext(browser, {}, { note }), urls[0], 'alice (replica 1)', note);
  const b = await rt.open(await h.newContext(browser, {}, { note }), urls[1], 'bob (replica 2)', note);
  await chat.join(a, 'alice');
  await chat.join(b, 'bob');

  step('alice sends "hi": both show it');
  await chat.send(a, 'hi');
  await chat.expectMessages(a, [['alice', 'hi']], 'after sending');
  await chat.expectMessages(b, [['alice', 'hi']], 'after alice sent on replica 1');

  step('bob answers "hello": both show both, in order');
  await chat.send(b, 'hello');
  const both = [['alice', 'hi'], ['bob', 'hello']];
  await chat.expectMessages(b, both, 'after sending');
  const keysA = await chat.expectMessages(a, both, 'after bob sent on replica 2');

  step('carol joins later on replica 1: she sees the history, and her message reaches bob');
  const c = await rt.open(await h.newContext(browser, {}, { note }), urls[0], 'carol (replica 1)', note);
  await chat.join(c, 'carol');
  const keysC = await chat.expectMessages(c, both, 'right after joining');
  h.assert(JSON.stringify(keysA) === JSON.stringify(keysC), `message keys differ between replicas: ${keysA} vs ${keysC}`);
  await chat.send(c, 'hey');
  const all = [...both, ['carol', 'hey']];
  for (const p of [c, a, b]) await chat.expectMessages(p, all, 'after carol sent');
});
