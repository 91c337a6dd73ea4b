'use strict';
// The example "Chat with a streaming model" in a real browser: the Dashboard 2.0 page at
// /dashboard of the demo (emulator + Node-RED with every example) in Chromium. An answer grows
// in the page part by part, ends as the stream's completion, carries the history (the
// emulator's text-generator answers "Turn N:"), stays per tab, and a mid-stream failure shows
// as a readable error. Screenshots at phone and desktop widths go to test-output/dashboard/.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { requireBrowser, startDemoProcess, launchBrowser, root } = require('./harness');

const SHOTS = path.join(root, 'test-output', 'dashboard');
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

describe('chat example on Dashboard 2.0 in Chromium (e2e)', function () {
  this.timeout(60000);
  let demo;
  let browser;
  let userDir;
  const pageErrors = [];

  before(async function () {
    requireBrowser(this);
    this.timeout(120000);
    fs.rmSync(SHOTS, { recursive: true, force: true });
    fs.mkdirSync(SHOTS, { recursive: true });
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smr-chat-userdir-'));
    [demo, browser] = await Promise.all([
      startDemoProcess({ port: 0, emulatorPort: 0, userDir, quiet: true, settings: { editorTheme: { palette: { catalogues: [] } } } }),
      launchBrowser(DESKTOP),
    ]);
  });

  after(async function () {
    if (browser) await browser.close();
    if (demo) await demo.close();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  /**
   * Opens /dashboard in a new page; records the socket.io messages the page receives (to read
   * the completion the flow sent) and every state of the newest answer bubble, as the page
   * showed it, in window.__answers.
   */
  async function openChat(viewport = DESKTOP) {
    const page = browser.page.url() === 'about:blank' ? browser.page : await browser.context.newPage();
    await page.setViewportSize(viewport);
    page.on('pageerror', (err) => pageErrors.push(err.message));
    const received = [];
    page.on('websocket', (ws) => ws.on('framereceived', (f) => typeof f.payload === 'string' && received.push(f.payload)));
    await page.goto(new URL('dashboard', demo.url).href);
    try {
      await page.waitForSelector('.smr-chat .smr-chat-question input', { timeout: 30000 });
    } catch (err) {
      const file = await shot(page, `open-failed-${Date.now()}`);
      const shown = await page.evaluate(() => document.body.innerText.slice(0, 300)).catch(() => '?');
      throw new Error(`${err.message}\n  the page at ${page.url()} showed: ${JSON.stringify(shown)} (${file})`, { cause: err });
    }
    await page.evaluate(() => {
      window.__answers = [];
      const log = document.querySelector('.smr-chat-log');
      const record = () => {
        const all = log.querySelectorAll('.smr-chat-assistant');
        const a = all[all.length - 1];
        if (!a) return;
        const text = a.querySelector('.smr-chat-text').textContent.replace(/▍$/, '');
        const last = window.__answers[window.__answers.length - 1];
        const entry = { n: all.length, state: a.dataset.state, text };
        if (!last || last.n !== entry.n || last.state !== entry.state || last.text !== entry.text) window.__answers.push(entry);
      };
      new MutationObserver(record).observe(log, { subtree: true, childList: true, characterData: true, attributes: true });
    });
    /** The payloads of the messages with this topic that the flow sent to the page. */
    const fromFlow = (topic) =>
      received
        .filter((f) => f.startsWith('42'))
        .map((f) => JSON.parse(f.slice(2)))
        .filter(([event, msg]) => /^msg-input:/.test(event) && msg && msg.topic === topic)
        .map(([, msg]) => msg.payload);
    return { page, fromFlow };
  }

  async function ask(page, question) {
    const before = await page.locator('.smr-chat-assistant').count();
    await page.fill('.smr-chat-question input', question);
    await page.click('.smr-chat-send');
    const answer = page.locator('.smr-chat-assistant').nth(before);
    await page.waitForFunction(
      (n) => {
        const a = document.querySelectorAll('.smr-chat-assistant')[n];
        return a && a.dataset.state !== 'streaming';
      },
      before,
      { timeout: 30000 },
    );
    return {
      state: await answer.getAttribute('data-state'),
      text: (await answer.locator('.smr-chat-text').textContent()).replace(/▍$/, ''),
      error: (await answer.locator('.smr-chat-error').count()) ? await answer.locator('.smr-chat-error').textContent() : '',
      // The states this answer went through in the page, in order.
      states: (await page.evaluate(() => window.__answers)).filter((e) => e.n === before + 1),
    };
  }

  async function shot(page, name) {
    const file = path.join(SHOTS, `${name}.png`);
    await page.screenshot({ path: file });
    return file;
  }

  /** Elements that stick out of the page sideways (the page must fit a phone without scrolling). */
  function overflow(page) {
    return page.evaluate(() => {
      const w = document.documentElement.clientWidth;
      const out = [...document.querySelectorAll('.smr-chat *')]
        .filter((el) => el.getBoundingClientRect().right > w + 1)
        .map((el) => el.className);
      return { scrollWidth: document.documentElement.scrollWidth, width: w, out };
    });
  }

  let first;

  it('opens /dashboard with an empty conversation, a question field and a Send button', async function () {
    first = await openChat(DESKTOP);
    await first.page.locator('.smr-chat-empty').waitFor();
    assert.equal(await first.page.locator('.smr-chat-msg').count(), 0);
    assert.ok(await first.page.locator('.smr-chat-send').isVisible());
  });

  it('grows the answer in the page part by part, then shows exactly the completion of the stream', async function () {
    const a = await ask(first.page, 'What does the café serve?');
    assert.equal(a.state, 'done');
    const streaming = [...new Set(a.states.filter((s) => s.state === 'streaming' && s.text).map((s) => s.text))];
    assert.ok(streaming.length >= 3, `the answer changed ${streaming.length} times before the completion: ${JSON.stringify(streaming)}`);
    // Each step extends the one before: parts are appended in order.
    streaming.forEach((t, i) => i && assert.ok(t.startsWith(streaming[i - 1]), `"${t}" does not extend "${streaming[i - 1]}"`));
    const [completion] = first.fromFlow('done');
    assert.equal(typeof completion, 'string');
    assert.equal(a.text, completion);
    assert.equal(streaming[streaming.length - 1], completion, 'the parts shown add up to the completion');
    assert.match(completion, /^Turn 1:\s\S/);
  });

  it('sends the history with the next question (the model answers "Turn 2:"), and the first answer stays', async function () {
    const a = await ask(first.page, 'And for dessert?');
    assert.equal(a.state, 'done');
    assert.match(a.text, /^Turn 2:\s\S/);
    const texts = await first.page.locator('.smr-chat-msg .smr-chat-text').allTextContents();
    assert.deepEqual(
      texts.map((t) => t.slice(0, 7)),
      ['What do', 'Turn 1:', 'And for', 'Turn 2:'],
    );
    await shot(first.page, 'chat-1280');
    const o = await overflow(first.page);
    assert.deepEqual(o.out, [], `sticks out at 1280 px: ${o.out.join(', ')}`);
  });

  let second;

  it('gives a second tab its own empty conversation, whose first question is turn 1 again', async function () {
    second = await openChat(PHONE);
    await second.page.locator('.smr-chat-empty').waitFor();
    assert.equal(await second.page.locator('.smr-chat-msg').count(), 0);
    const a = await ask(second.page, 'Hello from the second tab');
    assert.match(a.text, /^Turn 1:\s/);
    await shot(second.page, 'chat-390');
    // Nothing of it reached the first tab.
    assert.equal(await first.page.locator('.smr-chat-msg').count(), 4);
    assert.deepEqual(first.fromFlow('done').length, 2);
  });

  it('shows a mid-stream failure as a readable error under the partial answer, and lets the user ask again', async function () {
    const { page } = second;
    await page.click('.smr-chat-endpoint');
    await page.locator('.v-overlay .v-list-item', { hasText: 'text-generator-flaky' }).click();
    await page.locator('.v-overlay .v-list-item').first().waitFor({ state: 'hidden' });
    const a = await ask(page, 'Tell me a story');
    assert.equal(a.state, 'error');
    assert.match(a.error, /^The answer stopped after 3 parts: /);
    assert.doesNotMatch(a.error, /\n\s+at |\[object Object\]|undefined/);
    assert.ok(a.text.length > 0, 'the parts that arrived stay in the page');
    assert.ok(await page.locator('.smr-chat-question input').isEnabled(), 'the question field is usable again');
    await shot(page, 'chat-error-390');
  });

  it('fits a phone (390 px) and a desktop (1280 px) without sideways scrolling', async function () {
    const { page } = second;
    const phone = await overflow(page);
    assert.ok(phone.scrollWidth <= PHONE.width, `the page is ${phone.scrollWidth} px wide at 390 px`);
    assert.deepEqual(phone.out, [], `sticks out at 390 px: ${phone.out.join(', ')}`);
    const send = await page.locator('.smr-chat-send').boundingBox();
    assert.ok(send.x + send.width <= PHONE.width && send.y + send.height <= PHONE.height, 'the Send button is on screen');
  });

  it('raises no script errors in the dashboard', function () {
    assert.deepEqual(pageErrors, []);
  });
});
