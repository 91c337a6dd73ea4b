'use strict';
// Browser-test plumbing: Debian's Chromium through playwright-core, the demo (emulator +
// Node-RED with every example) in a child process, screenshots under test-output/screenshots/
// (test-output/screenshots-node-red-5/ for the Node-RED 5 pass).
const { fork } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
// The Node-RED 5 pass (NODE_RED_PACKAGE=node-red-5) keeps its pictures next to Node-RED 4's.
const NODE_RED_PACKAGE = process.env.NODE_RED_PACKAGE || 'node-red';
const SCREENSHOTS = path.join(root, 'test-output', NODE_RED_PACKAGE === 'node-red' ? 'screenshots' : `screenshots-${NODE_RED_PACKAGE}`);
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/**
 * Call from a `before(function () {…})`: skips the suite (loudly) when Chromium is missing,
 * unless REQUIRE_BROWSER=1, which turns the absence into a failure.
 */
function requireBrowser(ctx) {
  if (fs.existsSync(CHROMIUM)) return;
  if (process.env.REQUIRE_BROWSER === '1') {
    throw new Error(`REQUIRE_BROWSER=1 but there is no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);
  }
  const bar = '!'.repeat(78);
  console.warn(
    `\n${bar}\n  BROWSER TESTS SKIPPED: no Chromium at ${CHROMIUM}.\n  Install it (apt-get install -y chromium) or set REQUIRE_BROWSER=1 to make this a failure.\n${bar}\n`,
  );
  ctx.skip();
}

/** Starts the demo in a child process; resolves to its addresses plus `stats()` and `close()`. */
function startDemoProcess(options) {
  const child = fork(path.join(__dirname, 'demo-child.js'), [JSON.stringify(options)], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    // The SDK's Node 20 end-of-support notice would repeat in every test run's output.
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
  });
  return new Promise((resolve, reject) => {
    const onExit = (code) => reject(new Error(`the demo process exited with ${code} before it was ready`));
    child.once('exit', onExit);
    child.once('message', (m) => {
      child.off('exit', onExit);
      if (m.type === 'error') return reject(new Error(`the demo did not start: ${m.message}`));
      const stats = () =>
        new Promise((res) => {
          const on = (r) => {
            if (r.type === 'stats') {
              child.off('message', on);
              res(r.stats);
            }
          };
          child.on('message', on);
          child.send({ type: 'stats' });
        });
      const close = () =>
        new Promise((res) => {
          if (child.exitCode !== null) return res();
          const t = setTimeout(() => child.kill('SIGKILL'), 10000);
          child.once('exit', () => {
            clearTimeout(t);
            res();
          });
          child.disconnect();
        });
      resolve({ ...m, child, stats, close });
    });
  });
}

/** Chromium with a fresh profile in a temp folder; resolves to `{ context, page, close() }`. */
async function launchBrowser(viewport = { width: 1600, height: 1000 }) {
  const { chromium } = require('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'smr-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ARGS,
    viewport,
    timeout: 30000,
  });
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(10000);
  const close = async () => {
    await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, page, close };
}

let shot = 0;
/** Empties the screenshot folder so a run's pictures are not mixed with an earlier run's. */
function resetScreenshots() {
  fs.rmSync(SCREENSHOTS, { recursive: true, force: true });
  shot = 0;
}

/** Saves a numbered screenshot of the page (or of one locator) and returns its path. */
async function screenshot(page, name, locator) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${String(++shot).padStart(2, '0')}-${name}.png`);
  await (locator || page).screenshot({ path: file });
  return file;
}

/**
 * Opens a sidebar tab ('debug', 'help', 'config', …) the way a user does, on either editor.
 * Node-RED 4 has one sidebar with a tab strip (`#red-ui-tab-<id>-link-button`); Node-RED 5 has
 * a sidebar on each side, each in two sections, opened from one button bar
 * (`button[data-tab-id]`, `.selected` while shown). There, clicking the button of a tab
 * already shown hides its section, so the button is clicked only when the tab is not shown.
 */
async function openSidebar(page, tab) {
  const strip = page.locator(`#red-ui-tab-${tab}-link-button`);
  if ((await strip.count()) > 0) {
    await strip.click();
    await page.waitForSelector(`#red-ui-tab-${tab}.active`, { state: 'attached' });
    return;
  }
  const button = page.locator(`.red-ui-sidebar-tab-bar button[data-tab-id="${tab}"]`);
  if (!(await button.evaluate((el) => el.classList.contains('selected')))) await button.click();
  await page.waitForSelector(`.red-ui-sidebar-tab-bar button[data-tab-id="${tab}"].selected`, { state: 'attached' });
}

module.exports = {
  resetScreenshots,
  requireBrowser,
  startDemoProcess,
  launchBrowser,
  screenshot,
  openSidebar,
  CHROMIUM,
  SCREENSHOTS,
  root,
};
