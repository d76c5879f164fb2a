'use strict';
// greet-wall, validation: an empty name and "admin" are refused with a message by the field;
// the headline and the wall stay as they were; a valid name then clears the message.
const h = require('./lib/harness');
const rt = require('./lib/realtime');

h.run('greet_wall_validation', async ({ url, browser, step, note }) => {
  const { a, b } = await rt.openTwo(browser, url, 'tabs', note);

  step('an empty name is refused');
  await rt.submit(a, { name: '' }, 'greet');
  await rt.expectText(a, 'form', /Please enter a name/, 'after greeting nobody');
  await rt.expectText(a, 'h3', /^Say hello$/, 'after greeting nobody');
  h.assert((await rt.textOf(a.page, 'ul')).trim() === '', `the wall is not empty: ${await rt.textOf(a.page, 'ul')}`);

  step('"admin" is refused');
  await rt.submit(a, { name: 'admin' }, 'greet');
  await rt.expectText(a, 'form', /"admin" is reserved/, 'after greeting admin');
  await rt.expectText(a, 'h3', /^Say hello$/, 'after greeting admin');

  step('a valid name clears the message; the other tab never showed it');
  await rt.submit(a, { name: 'Cy' }, 'greet');
  await rt.expectText(a, 'h3', /^Hello, Cy!$/, 'after a valid greeting');
  await rt.expectText(a, 'form', /^(?![\s\S]*(Please enter a name|is reserved))/, 'after a valid greeting');
  await rt.expectText(b, 'h3', /^Hello, Cy!$/, 'after the valid greeting in tab A');
  await rt.expectText(b, 'form', /^(?![\s\S]*(Please enter a name|is reserved))/, 'after the greetings in tab A');
});
