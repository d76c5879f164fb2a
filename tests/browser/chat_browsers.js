'use strict';
// chat, two browsers: the room's topic reaches every session, so a message sent in one browser
// shows live in the other; a browser that joins later sees the history.
const h = require('./lib/harness');
const rt = require('./lib/realtime');
const chat = require('./lib/chat');

h.run('chat_browsers', async ({ url, browser, step, note }) => {
  step('open two browsers; join as alice and bob');
  const { a, b } = await rt.openTwo(browser, url, 'browsers', note);
  await chat.join(a, 'alice');
  await chat.join(b, 'bob');

  step('alice sends "hi": both browsers show it');
  await chat.send(a, 'hi');
  await chat.expectMessages(a, [['alice', 'hi']], 'after sending');
  await chat.expectMessages(b, [['alice', 'hi']], 'after alice sent');

  step('bob answers "hello": both browsers show both messages in order');
  await chat.send(b, 'hello');
  const both = [['alice', 'hi'], ['bob', 'hello']];
  await chat.expectMessages(b, both, 'after sending');
  await chat.expectMessages(a, both, 'after bob sent');

  step('a third browser joins later as carol: it sees the history, and its message reaches the others');
  const contextC = await h.newContext(browser, {}, { note });
  const c = await rt.open(contextC, url, 'browser C', note);
  await chat.join(c, 'carol');
  await chat.expectMessages(c, both, 'right after joining');
  await chat.send(c, 'hey');
  const all = [...both, ['carol', 'hey']];
  for (const p of [c, a, b]) await chat.expectMessages(p, all, 'after carol sent');
});
