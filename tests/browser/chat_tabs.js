'use strict';
// chat, two tabs of one browser: names are per connection, so the tabs chat as alice and bob;
// each message shows in both tabs; a tab that joins later sees the history.
const h = require('./lib/harness');
const rt = require('./lib/realtime');
const chat = require('./lib/chat');

h.run('chat_tabs', async ({ url, browser, step, note }) => {
  step('open two tabs; join as alice and bob');
  const { a, b, contextA } = await rt.openTwo(browser, url, 'tabs', note);
  await chat.join(a, 'alice');
  await chat.join(b, 'bob');
  await chat.expectMessages(a, [], 'before any message');

  step('alice sends "hi": both tabs show it');
  await chat.send(a, 'hi');
  const keysA = await chat.expectMessages(a, [['alice', 'hi']], 'after sending');
  const keysB = await chat.expectMessages(b, [['alice', 'hi']], 'after alice sent');
  h.assert(keysA.join() === keysB.join(), `the tabs key the message differently: ${keysA} / ${keysB}`);

  step('bob answers "hello": both tabs show both messages in order');
  await chat.send(b, 'hello');
  const both = [['alice', 'hi'], ['bob', 'hello']];
  await chat.expectMessages(b, both, 'after sending');
  await chat.expectMessages(a, both, 'after bob sent');

  step('a third tab joins later as carol: it sees the history');
  const c = await rt.open(contextA, url, 'tab C', note);
  await chat.join(c, 'carol');
  await chat.expectMessages(c, both, 'right after joining');
});
