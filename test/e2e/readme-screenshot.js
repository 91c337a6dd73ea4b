#!/usr/bin/env node
'use strict';
// Regenerates docs/editor.png, the README's picture of the editor: the demo with the
// "Invoke a JSON model" example open, its inject clicked, the answer in the debug sidebar.
// Run: npm run build && node test/e2e/readme-screenshot.js
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startDemoProcess, launchBrowser, openSidebar, root } = require('./harness');

const TAB = process.argv[2] || 'Invoke a JSON model';
const OUT = path.join(root, 'docs', 'editor.png');

(async () => {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smr-shot-'));
  const demo = await startDemoProcess({
    port: 0,
    emulatorPort: 0,
    userDir,
    quiet: true,
    settings: { editorTheme: { palette: { catalogues: [] } } },
  });
  const browser = await launchBrowser({ width: 1280, height: 720 });
  try {
    const { page } = browser;
    await page.goto(demo.url);
    await page.waitForSelector('#red-ui-palette .red-ui-palette-node[data-palette-type="sagemaker-invoke"]', { timeout: 30000 });
    const tab = demo.tabs.find((t) => t.label === TAB || t.name === TAB);
    if (!tab) throw new Error(`no example tab "${TAB}" (have: ${demo.tabs.map((t) => t.label).join(', ')})`);
    await page.click(`#red-ui-tab-${tab.id.replace(/\./g, '-')} a`);
    // Show the AWS palette section next to the flow.
    await page.locator('#red-ui-palette .red-ui-palette-node[data-palette-type="sagemaker-invoke"]').scrollIntoViewIfNeeded();
    await openSidebar(page, 'debug');
    const injects = await page.evaluate((z) => RED.nodes.filterNodes({ z, type: 'inject' }).map((n) => n.id), tab.id);
    for (const id of injects) await page.click(`[id="${id}"] .red-ui-flow-node-button`);
    await page.waitForSelector('.red-ui-debug-msg');
    await page.waitForTimeout(1500); // notifications fade, statuses settle
    await page.evaluate(() => document.querySelectorAll('.red-ui-notification').forEach((n) => n.remove()));
    fs.mkdirSync(path.dirname(OUT), { recursive: true });
    await page.screenshot({ path: OUT });
    console.log(`${path.relative(process.cwd(), OUT)}: ${Math.round(fs.statSync(OUT).size / 1024)} KB`);
  } finally {
    await browser.close();
    await demo.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
})().catch((err) => {
  console.error(err.message);
  process.exit(1);
});
