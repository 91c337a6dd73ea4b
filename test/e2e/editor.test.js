'use strict';
// The real Node-RED editor in Chromium, driven like a user: palette, drag and drop, edit forms,
// deploy, inject, debug sidebar, help, export. Against the demo (scripts/start.js: emulator +
// Node-RED with every example) in a child process. The steps build on each other (one page);
// each saves screenshots under test-output/screenshots/.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const {
  resetScreenshots,
  requireBrowser,
  startDemoProcess,
  launchBrowser,
  screenshot,
  openSidebar: showSidebarTab,
  root,
} = require('./harness');

const WORKERS = ['sagemaker-invoke', 'sagemaker-stream', 'sagemaker-invoke-async'];
const IN_PALETTE = [...WORKERS, 'sagemaker-async-results'];
const TYPES = ['sagemaker-config', ...IN_PALETTE];
// The help sections of each node; sagemaker-async-results has no input.
const HELP_SECTIONS = { 'sagemaker-config': [], 'sagemaker-async-results': ['Outputs', 'Details'] };
const MODULE = require('../../package.json').name;
// A key pair the e2e emulator accepts; distinctive so a leak into an export is found.
const KEY_ID = 'AKIAE2EKEYID7Q3X';
const SECRET = 'S3cr3t-e2e-XYZ';
const CONFIG_NAME = 'e2e emulator';

/** The first paragraph of a node's help file, as plain text. */
function helpFirstParagraph(type) {
  const html = fs.readFileSync(path.join(root, 'nodes', 'locales', 'en-US', `${type}.html`), 'utf8');
  const m = /<p>([\s\S]*?)<\/p>/i.exec(html);
  assert.ok(m, `nodes/locales/en-US/${type}.html has no <p> paragraph`);
  return m[1]
    .replace(/<[^>]+>/g, '')
    .replace(/&[a-z]+;/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const squash = (s) => s.replace(/\s+/g, ' ').trim();
const ENDPOINT_INPUT = '#node-input-endpointName + .red-ui-typedInput-container input.red-ui-typedInput-input';

describe('editor in Chromium (e2e)', function () {
  this.timeout(60000);
  let demo;
  let browser;
  let page;
  let userDir;
  const pageErrors = [];
  let flowTab; // the tab the test builds its own flow on
  let invokeId;
  let configId;

  before(async function () {
    requireBrowser(this);
    this.timeout(120000);
    resetScreenshots();
    userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'smr-e2e-userdir-'));
    [demo, browser] = await Promise.all([
      startDemoProcess({
        port: 0,
        emulatorPort: 0,
        userDir,
        quiet: true,
        emulator: { credentials: [{ accessKeyId: KEY_ID, secretAccessKey: SECRET }] },
        // No palette catalogue download: the tests run offline.
        settings: { editorTheme: { palette: { catalogues: [] } } },
      }),
      launchBrowser(),
    ]);
    page = browser.page;
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // Node-RED 5 on Node 20 (here, not on its supported Node 22) pins an "unsupported version of
    // Node.js" notice over the top of the workspace and the edit trays' title bars, for good.
    await page.addInitScript(() => {
      new MutationObserver(() => {
        for (const n of document.querySelectorAll('.red-ui-notification')) {
          if (/unsupported version of Node\.js/i.test(n.textContent)) n.remove();
        }
      }).observe(document, { childList: true, subtree: true });
    });
    await page.goto(demo.url);
    await page.waitForSelector('#red-ui-palette .red-ui-palette-node[data-palette-type="inject"]', { timeout: 30000 });
    await page.waitForFunction(() => window.RED && RED.nodes && RED.workspaces && RED.workspaces.active());
    await screenshot(page, 'editor-loaded');
  });

  after(async function () {
    if (browser) await browser.close();
    if (demo) await demo.close();
    if (userDir) fs.rmSync(userDir, { recursive: true, force: true });
  });

  // --- helpers -------------------------------------------------------------------------------

  async function chartBox() {
    return page.locator('#red-ui-workspace-chart').boundingBox();
  }

  /** Drags a palette entry onto the workspace at (x, y) of the chart; returns the new node's id. */
  async function dragFromPalette(type, x, y) {
    const src = page.locator(`#red-ui-palette .red-ui-palette-node[data-palette-type="${type}"]`);
    await src.scrollIntoViewIfNeeded();
    const s = await src.boundingBox();
    const c = await chartBox();
    const before = await page.evaluate((t) => RED.nodes.filterNodes({ type: t }).map((n) => n.id), type);
    await page.mouse.move(s.x + s.width / 2, s.y + s.height / 2);
    await page.mouse.down();
    await page.mouse.move(s.x + s.width / 2 + 30, s.y + s.height / 2, { steps: 5 });
    await page.mouse.move(c.x + x, c.y + y, { steps: 15 });
    await page.mouse.up();
    const after = await page.evaluate((t) => RED.nodes.filterNodes({ type: t }).map((n) => n.id), type);
    const added = after.filter((id) => !before.includes(id));
    assert.equal(added.length, 1, `dragging ${type} from the palette added ${added.length} nodes`);
    return added[0];
  }

  /** Draws a wire with the mouse from a node's output port to another's input port. */
  async function wire(from, to) {
    const out = await page.locator(`[id="${from}"] .red-ui-flow-port-output`).first().boundingBox();
    const inp = await page.locator(`[id="${to}"] .red-ui-flow-port-input`).first().boundingBox();
    await page.mouse.move(out.x + out.width / 2, out.y + out.height / 2);
    await page.mouse.down();
    await page.mouse.move(inp.x + inp.width / 2, inp.y + inp.height / 2, { steps: 10 });
    await page.mouse.up();
    const linked = await page.evaluate(([a, b]) => RED.nodes.filterLinks({ source: { id: a }, target: { id: b } }).length, [from, to]);
    assert.equal(linked, 1, `no wire from ${from} to ${to}`);
  }

  /** Waits until the topmost edit tray has finished sliding in. */
  async function trayOpened() {
    await page.waitForFunction(
      () => {
        const trays = document.querySelectorAll('#red-ui-editor-stack .red-ui-tray');
        const t = trays[trays.length - 1];
        if (!t) return false;
        const left = t.getBoundingClientRect().left;
        const stable = window.__trayLeft === left;
        window.__trayLeft = left;
        return stable;
      },
      null,
      { polling: 100 },
    );
  }

  async function deploy() {
    await page.click('#red-ui-header-button-deploy');
    // A confirmation dialog here means invalid or unknown nodes in the flows.
    const confirm = page.locator('.red-ui-editor-dialog:visible, #red-ui-deploy-dialog-confirm-deploy-deploy:visible');
    const done = page.waitForSelector('#red-ui-header-button-deploy.disabled', { state: 'attached', timeout: 15000 });
    const which = await Promise.race([
      done.then(() => 'deployed'),
      confirm
        .first()
        .waitFor({ timeout: 15000 })
        .then(() => 'confirm'),
    ]);
    if (which === 'confirm') {
      const text = squash(await page.locator('.ui-dialog:visible').first().innerText());
      await screenshot(page, 'deploy-confirm');
      assert.fail(`deploying asked for confirmation: ${text}`);
    }
  }

  const openSidebar = (tab) => showSidebarTab(page, tab);

  async function clearDebug() {
    await openSidebar('debug');
    await page.click('#red-ui-sidebar-debug-clear');
    await page.waitForFunction(() => document.querySelectorAll('.red-ui-debug-msg').length === 0);
  }

  // A failed step must not leave a dialog open over the next test's clicks.
  afterEach(async function () {
    if (!page) return;
    for (let i = 0; i < 3 && (await page.locator('#red-ui-editor-stack .red-ui-tray, .ui-dialog:visible').count()) > 0; i++) {
      const cancel = page
        .locator(
          '#node-config-dialog-cancel:visible, #node-dialog-cancel:visible, .ui-dialog:visible button:has-text("Cancel"), .ui-dialog:visible button:has-text("Close")',
        )
        .first();
      if ((await cancel.count()) > 0) await cancel.click().catch(() => {});
      else await page.keyboard.press('Escape');
      await page.waitForTimeout(300);
    }
  });

  // --- tests ---------------------------------------------------------------------------------

  it('shows invoke, stream, async and async-results nodes in the palette under AWS, each with its own SVG icon', async function () {
    const icons = [];
    for (const type of IN_PALETTE) {
      const entry = page.locator(`#red-ui-palette .red-ui-palette-node[data-palette-type="${type}"]`);
      assert.equal(await entry.count(), 1, `${type} is not in the palette (listed in package.json node-red.nodes?)`);
      await entry.scrollIntoViewIfNeeded();
      assert.ok(await entry.isVisible(), `${type} is not in the palette`);
      const category = await entry.evaluate(
        (el) => el.closest('.red-ui-palette-category').querySelector('.red-ui-palette-header span').textContent,
      );
      assert.equal(category.trim().toLowerCase(), 'aws', `${type} is in category ${category}`);
      const label = squash(await entry.locator('.red-ui-palette-label').innerText());
      assert.ok(label && !label.includes(type.replace('sagemaker-', 'sagemaker ')), `${type} shows no palette label of its own (${label})`);
      const icon = await entry.locator('.red-ui-palette-icon-container').getAttribute('data-palette-icon');
      assert.equal(icon, `icons/${MODULE}/${type}.svg`);
      const res = await page.request.get(new URL(icon, demo.url).href);
      assert.equal(res.status(), 200, `icon ${icon} is not served`);
      const svg = await res.text();
      assert.match(svg, /<svg[\s>]/, `icon ${icon} is not an SVG`);
      icons.push(svg);
    }
    assert.equal(new Set(icons).size, icons.length, 'the node icons are not distinct');
    assert.equal(
      await page.locator('#red-ui-palette .red-ui-palette-node[data-palette-type="sagemaker-config"]').count(),
      0,
      'the config node is in the palette',
    );
    await page.locator('#red-ui-palette-search input').pressSequentially('sagemaker');
    await page.waitForTimeout(300); // the palette filter is debounced
    // Node-RED 5's #red-ui-palette is as tall as its search box (the entries overflow it into a
    // section of the left sidebar): picture that section there.
    const section = page.locator('.red-ui-sidebar-section:has(#red-ui-palette)');
    await screenshot(page, 'palette-aws', (await section.count()) > 0 ? section : page.locator('#red-ui-palette'));
    await page.locator('#red-ui-palette-search input').fill('');
    await page.locator('#red-ui-palette-search input').press('Backspace');
  });

  it('configures a dragged sagemaker-invoke with a new sagemaker-config, deploys, and shows the answer in the debug sidebar', async function () {
    // A new, empty tab for our own flow.
    await page.click('.red-ui-tab-button.red-ui-tabs-add a');
    flowTab = await page.evaluate(() => RED.workspaces.active());
    invokeId = await dragFromPalette('sagemaker-invoke', 330, 120);
    await screenshot(page, 'invoke-dropped');

    await page.dblclick(`[id="${invokeId}"] .red-ui-flow-node`);
    await page.waitForSelector('#node-input-config', { state: 'attached' });
    await trayOpened();
    await screenshot(page, 'invoke-form-new');

    // Node-RED 4 has a "+" (add a config node) beside the select; 3.x a pencil on "Add new…".
    if ((await page.locator('#node-input-btn-config-add').count()) > 0) {
      await page.click('#node-input-btn-config-add');
    } else {
      await page.selectOption('#node-input-config', '_ADD_');
      await page.click('#node-input-lookup-config');
    }
    await page.waitForSelector('#node-config-input-credentialType');
    await trayOpened();
    const title = squash(await page.locator('#red-ui-editor-stack .red-ui-tray:last-child .red-ui-tray-titlebar').first().innerText());
    assert.match(title, /Add new SageMaker config node/, `the config dialog title reads "${title}"`);
    await page.fill('#node-config-input-name', CONFIG_NAME);
    await page.fill('#node-config-input-region', 'us-east-1');
    await page.click('#sagemaker-config-advanced-toggle');
    for (const mode of ['chain', 'profile', 'iot', 'keys']) {
      await page.selectOption('#node-config-input-credentialType', mode);
      await screenshot(page, `config-form-${mode}`, page.locator('#red-ui-editor-stack .red-ui-tray').last());
    }
    await page.click('#sagemaker-config-advanced-toggle');
    await page.fill('#node-config-input-region', 'us-east-1');
    await page.selectOption('#node-config-input-credentialType', 'keys');
    await page.fill('#node-config-input-accessKeyId', KEY_ID);
    await page.fill('#node-config-input-secretAccessKey', SECRET);
    assert.equal(await page.getAttribute('#node-config-input-secretAccessKey', 'type'), 'password');
    if (!(await page.isVisible('#node-config-input-endpoint'))) await page.click('#sagemaker-config-advanced-toggle');
    await page.fill('#node-config-input-endpoint', demo.emulatorUrl);
    if (await page.isVisible('#sagemaker-config-test')) {
      const result = await testConnection();
      await screenshot(page, 'config-form-tested');
      assert.match(result, /123456789012/, `Test connection did not report the emulator's account: ${result}`);
    } else {
      await screenshot(page, 'config-form');
    }
    await page.click('#node-config-dialog-ok');
    await page.waitForSelector('#node-config-input-credentialType', { state: 'detached' });

    // Endpoint name is a TypedInput: the original input is hidden, the visible one follows it.
    // The config is not deployed yet: the list comes from the keys just typed (ListEndpoints).
    const endpointInput = page.locator(ENDPOINT_INPUT);
    await endpointInput.click();
    await endpointInput.press('ArrowDown');
    const menu = page.locator('.red-ui-autoComplete-container:visible');
    await menu.waitFor({ timeout: 15000 });
    await page.waitForFunction(() => /text-generator/.test(document.querySelector('.red-ui-autoComplete-container')?.innerText || ''));
    const offered = squash(await menu.innerText());
    await screenshot(page, 'invoke-endpoint-list');
    for (const name of ['echo', 'sensor-anomaly', 'text-generator'])
      assert.match(offered, new RegExp(name), `the endpoint list lacks ${name}: ${offered}`);
    await endpointInput.pressSequentially('e');
    await page.waitForFunction(
      () => !/sensor-anomaly/.test(document.querySelector('.red-ui-autoComplete-container')?.innerText || 'sensor-anomaly'),
    );
    const narrowed = (await menu.innerText()).split(/\s+/).filter(Boolean);
    assert.ok(narrowed.includes('echo') && narrowed.every((n) => n.startsWith('e')), `typing "e" offers ${narrowed.join(', ')}`);
    await screenshot(page, 'invoke-endpoint-list-e');
    await menu.getByText('echo', { exact: true }).click();
    assert.equal(await endpointInput.inputValue(), 'echo');
    assert.ok((await demo.stats()).requests.ListEndpoints >= 1, 'the emulator saw no ListEndpoints');
    await screenshot(page, 'invoke-form-configured');
    await page.click('#node-dialog-ok');
    await page.waitForSelector('#node-input-config', { state: 'detached' });

    const node = await page.evaluate((id) => {
      const n = RED.nodes.node(id);
      const c = RED.nodes.node(n.config);
      return {
        label: RED.utils.getNodeLabel(n),
        endpointName: n.endpointName,
        config: n.config,
        configType: c && c.type,
        configName: c && c.name,
        valid: n.valid,
      };
    }, invokeId);
    configId = node.config;
    assert.equal(node.configType, 'sagemaker-config');
    assert.equal(node.configName, CONFIG_NAME);
    assert.equal(node.endpointName, 'echo');
    assert.equal(node.valid, true, 'the configured invoke node is flagged invalid');
    assert.match(node.label, /echo/, `the node label does not show the endpoint name: ${node.label}`);

    // Inject and debug through Import (clipboard JSON), wired to the invoke node with the mouse.
    const probe = [
      {
        id: 'e2e0inject000001',
        type: 'inject',
        z: flowTab,
        name: 'e2e probe',
        props: [{ p: 'payload' }],
        repeat: '',
        crontab: '',
        once: false,
        onceDelay: 0.1,
        topic: '',
        payload: '{"sensor":"e2e-probe","value":42}',
        payloadType: 'json',
        x: 0,
        y: 0,
        wires: [],
      },
      {
        id: 'e2e0debug0000001',
        type: 'debug',
        z: flowTab,
        name: 'e2e answer',
        active: true,
        tosidebar: true,
        console: false,
        tostatus: false,
        complete: 'true',
        targetType: 'full',
        statusVal: '',
        statusType: 'auto',
        x: 560,
        y: 0,
        wires: [],
      },
    ];
    await page.click('#red-ui-header-button-sidemenu');
    await page.click('#menu-item-import');
    await page.fill('#red-ui-clipboard-dialog-import-text', JSON.stringify(probe));
    await page.press('#red-ui-clipboard-dialog-import-text', 'End'); // validation runs on keyup
    await page.click('#red-ui-clipboard-dialog-ok');
    const c = await chartBox();
    await page.mouse.move(c.x + 100, c.y + 220, { steps: 5 });
    await page.mouse.click(c.x + 100, c.y + 220);
    const ids = await page.evaluate(
      (z) => ({
        inject: RED.nodes.filterNodes({ z, type: 'inject' }).find((n) => n.name === 'e2e probe').id,
        debug: RED.nodes.filterNodes({ z, type: 'debug' }).find((n) => n.name === 'e2e answer').id,
      }),
      flowTab,
    );
    await wire(ids.inject, invokeId);
    await wire(invokeId, ids.debug);
    await screenshot(page, 'flow-wired');

    await deploy();
    await clearDebug();
    await screenshot(page, 'deployed');
    await page.click(`[id="${ids.inject}"] .red-ui-flow-node-button`);
    const msg = page.locator(`.red-ui-debug-msg-node-${ids.debug}`).first();
    await msg.waitFor({ timeout: 15000 });
    // A whole-msg debug shows a collapsed `object`: open it, then payload and sagemaker.
    if ((await msg.locator('.red-ui-debug-msg-top-level.collapsed').count()) > 0) {
      await msg.locator('.red-ui-debug-msg-object-handle').first().click();
    }
    for (const key of ['payload', 'sagemaker']) {
      await msg
        .locator('.red-ui-debug-msg-object-key:visible', { hasText: new RegExp(`^${key}$`) })
        .first()
        .click();
    }
    await msg.locator('text=e2e-probe').first().waitFor();
    const text = squash(await msg.innerText());
    await screenshot(page, 'debug-answer');
    assert.match(text, /e2e-probe/, `the debug sidebar does not show the echoed payload: ${text}`);
    assert.match(text, /value: 42/);
    assert.match(text, /endpointName: "echo"/);
    const stats = await demo.stats();
    assert.ok((stats.requests.InvokeEndpoint || 0) >= 1, 'the emulator saw no InvokeEndpoint');
  });

  it('lists the new sagemaker-config in the configuration nodes sidebar', async function () {
    assert.ok(configId, 'needs the config node of the previous test');
    await openSidebar('config');
    const entry = page.locator('#red-ui-sidebar .red-ui-palette-node-config:visible', { hasText: CONFIG_NAME });
    await entry.first().waitFor();
    const types = await page.locator('#red-ui-sidebar li.red-ui-palette-node-config-type:visible').allInnerTexts();
    assert.ok(types.includes('sagemaker-config'), `config sidebar lists types ${types.join(', ')}`);
    await screenshot(page, 'config-sidebar');
  });

  it('edits the deployed sagemaker-config from the configuration nodes sidebar: its settings shown, the secret key withheld, Test connection with the stored secret', async function () {
    assert.ok(configId, 'needs the config node of the earlier test');
    await openSidebar('config');
    await page.locator('#red-ui-sidebar .red-ui-palette-node-config:visible', { hasText: CONFIG_NAME }).first().dblclick();
    await page.waitForSelector('#node-config-input-credentialType');
    await trayOpened();
    assert.equal(await page.inputValue('#node-config-input-name'), CONFIG_NAME);
    assert.equal(await page.inputValue('#node-config-input-credentialType'), 'keys');
    // The access key ID (a text credential) comes back from the runtime; the secret stays there.
    await page.waitForFunction((id) => document.querySelector('#node-config-input-accessKeyId').value === id, KEY_ID);
    const shown = await page.inputValue('#node-config-input-secretAccessKey');
    assert.ok(shown && !shown.includes(SECRET), `the secret key field holds ${shown}`);
    if (!(await page.isVisible('#sagemaker-config-test'))) await page.click('#sagemaker-config-advanced-toggle');
    const result = await testConnection();
    await screenshot(page, 'config-edit-tested', page.locator('#red-ui-editor-stack .red-ui-tray').last());
    assert.match(result, /123456789012/, `Test connection with the stored secret did not reach the emulator: ${result}`);
    await page.click('#node-config-dialog-cancel');
    await page.waitForSelector('#node-config-input-credentialType', { state: 'detached' });
  });

  /** Clicks Test connection in the open config form; resolves with the answer it shows. */
  async function testConnection() {
    await page.click('#sagemaker-config-test');
    await page.waitForFunction(
      () => /\d{12}|fail/i.test(document.querySelector('#sagemaker-config-test-result')?.textContent || ''),
      null,
      { timeout: 15000 },
    );
    return page.textContent('#sagemaker-config-test-result');
  }

  /** Opens a node's edit form (on its tab) and waits for the tray. */
  async function openForm(id) {
    await page.evaluate((nid) => {
      const n = RED.nodes.node(nid);
      RED.workspaces.show(n.z);
      RED.editor.edit(n);
    }, id);
    await page.waitForSelector('#node-input-endpointName', { state: 'attached' });
    await trayOpened();
  }

  async function trayShot(name) {
    // A tall viewport so the whole form is in the picture.
    await page.setViewportSize({ width: 1600, height: 1500 });
    await screenshot(page, name, page.locator('#red-ui-editor-stack .red-ui-tray').last());
    await page.setViewportSize({ width: 1600, height: 1000 });
  }

  const isInvalid = (sel) => page.locator(sel).evaluate((el) => el.classList.contains('input-error'));
  const endpointInvalid = () =>
    page.locator('#node-input-endpointName + .red-ui-typedInput-container').evaluate((el) => el.classList.contains('input-error'));

  async function typeInto(sel, value) {
    await page.fill(sel, value);
    await page.locator(sel).dispatchEvent('change');
  }

  const FORMS = {
    'sagemaker-invoke': {
      toggle: '#sagemaker-invoke-advanced-toggle',
      basic: ['#node-input-requestFormat', '#node-input-responseFormat'],
      advanced: '#node-input-concurrency',
      bad: [
        ['#node-input-concurrency', '0'],
        ['#node-input-queueSize', '-1'],
      ],
    },
    'sagemaker-stream': {
      toggle: '#sagemaker-stream-advanced-toggle',
      basic: ['#node-input-decode', '#node-input-split'],
      advanced: '#node-input-idleTimeout',
      bad: [['#node-input-idleTimeout', '0.05']],
    },
    'sagemaker-invoke-async': {
      toggle: '#sagemaker-invoke-async-advanced-toggle',
      basic: ['#node-input-inputBucket', '#node-input-waitForResult'],
      advanced: '#node-input-requestTTLSeconds',
      bad: [
        ['#node-input-requestTTLSeconds', '30'],
        ['#node-input-invocationTimeoutSeconds', '3601'],
        ['#node-input-pollInterval', '0'],
      ],
    },
  };

  for (const type of WORKERS) {
    it(`groups ${type}'s form into basic fields and a collapsed Advanced section, and flags invalid values in red`, async function () {
      const id =
        type === 'sagemaker-invoke' && invokeId
          ? invokeId
          : await page.evaluate((t) => {
              const n = RED.nodes
                .filterNodes({ type: t })
                .find((x) => (x.endpointNameType || 'str') === 'str' && !/\$\{/.test(x.endpointName || ''));
              return n && n.id;
            }, type);
      assert.ok(id, `no ${type} node to open`);
      const form = FORMS[type];
      await openForm(id);
      // An example with advanced values set opens with the section expanded: collapse it first.
      if (await page.isVisible(form.advanced)) await page.click(form.toggle);
      for (const sel of form.basic) assert.ok(await page.isVisible(sel), `${sel} is not among ${type}'s basic fields`);
      if (type === 'sagemaker-invoke-async') {
        // The example's node predates the result source: its form shows the default, S3.
        assert.equal(await page.inputValue('#node-input-resultSource'), 's3');
      }
      assert.equal(await page.isVisible(form.advanced), false, `${form.advanced} is not under Advanced`);
      const order = await page.evaluate(
        ([basic, toggle, adv]) => {
          const pos = (sel) => document.querySelector(sel).compareDocumentPosition(document.querySelector(toggle));
          return {
            basicBefore: basic.every((b) => pos(b) & Node.DOCUMENT_POSITION_FOLLOWING),
            advancedAfter: !!(pos(adv) & Node.DOCUMENT_POSITION_PRECEDING),
          };
        },
        [form.basic, form.toggle, form.advanced],
      );
      assert.deepEqual(order, { basicBefore: true, advancedAfter: true }, `${type}: basic fields first, then Advanced`);
      await page.evaluate(() => document.activeElement && document.activeElement.blur());
      await trayShot(`${type}-form-basic`);
      await page.click(form.toggle);
      assert.ok(await page.isVisible(form.advanced), `Advanced does not open in ${type}`);
      await trayShot(`${type}-form-advanced`);

      assert.equal(await endpointInvalid(), false, `${type}: a valid endpoint name is flagged`);
      await page.locator(ENDPOINT_INPUT).fill('bad_name!');
      await page.locator(ENDPOINT_INPUT).press('End');
      await page.locator('#node-input-name').click();
      await page.waitForFunction(
        () => document.querySelector('#node-input-endpointName + .red-ui-typedInput-container').classList.contains('input-error'),
        null,
        { timeout: 5000 },
      );
      await page.locator(ENDPOINT_INPUT).fill('x'.repeat(64));
      await page.locator('#node-input-name').click();
      assert.ok(await endpointInvalid(), `${type}: a 64-character endpoint name is not flagged`);
      await page.locator(ENDPOINT_INPUT).fill('${ENDPOINT}-name');
      await page.locator('#node-input-name').click();
      assert.equal(await endpointInvalid(), false, `${type}: a name with \${ENV} is flagged`);
      await page.locator(ENDPOINT_INPUT).fill('bad_name!');
      await page.locator('#node-input-name').click();
      if (type === 'sagemaker-invoke-async' && !(await page.isChecked('#node-input-waitForResult')))
        await page.check('#node-input-waitForResult');
      for (const [sel, value] of form.bad) {
        await typeInto(sel, value);
        assert.ok(await isInvalid(sel), `${type}: ${sel} = ${value} is not flagged`);
      }
      await trayShot(`${type}-form-invalid`);
      await page.click('#node-dialog-cancel');
      await page.waitForSelector('#node-input-endpointName', { state: 'detached' });
      const after = await page.evaluate((nid) => RED.nodes.node(nid).endpointName, id);
      assert.notEqual(after, 'bad_name!', 'Cancel kept the edit');
    });
  }

  it('shows the stream example sending parts to the debug sidebar', async function () {
    const target = await page.evaluate(() => {
      const streams = RED.nodes.filterNodes({ type: 'sagemaker-stream' }).filter((n) => !/flaky/.test(n.endpointName || ''));
      for (const s of streams) {
        // An inject node upstream of the stream node, on the same tab.
        const seen = new Set();
        let frontier = [s.id];
        while (frontier.length) {
          const next = [];
          for (const id of frontier) {
            for (const l of RED.nodes.filterLinks({ target: { id } })) {
              if (seen.has(l.source.id)) continue;
              seen.add(l.source.id);
              if (l.source.type === 'inject') return { tab: s.z, inject: l.source.id, stream: s.id };
              next.push(l.source.id);
            }
          }
          frontier = next;
        }
      }
      return null;
    });
    assert.ok(target, 'no example has an inject node wired to a sagemaker-stream node');
    await page.click(`#red-ui-tab-${target.tab.replace(/\./g, '-')} a`);
    await page.waitForFunction((z) => RED.workspaces.active() === z, target.tab);
    await clearDebug();
    await screenshot(page, 'stream-example');
    await page.click(`[id="${target.inject}"] .red-ui-flow-node-button`);
    // Debug nodes on the example's tab; at least a few parts plus the completion message.
    const fromTab = await page.evaluate((z) => RED.nodes.filterNodes({ z, type: 'debug' }).map((n) => n.id), target.tab);
    const selector = fromTab.map((id) => `.red-ui-debug-msg-node-${id}`).join(', ');
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length >= 3, selector, { timeout: 20000 });
    await page.waitForTimeout(1000); // let the rest of the stream arrive for the screenshot
    await screenshot(page, 'stream-parts');
    const count = await page.locator(selector).count();
    assert.ok(count >= 3, `only ${count} debug messages from the stream example`);
  });

  for (const type of TYPES) {
    it(`shows the help of ${type} in the help sidebar`, async function () {
      const expected = helpFirstParagraph(type);
      await openSidebar('help');
      const label = await page.evaluate((t) => {
        const d = RED.nodes.getType(t);
        const l = typeof d.paletteLabel === 'function' ? d.paletteLabel.call(d) : d.paletteLabel;
        return l || t;
      }, type);
      const exact = new RegExp(`^\\s*${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
      const item = page.locator('#red-ui-sidebar .red-ui-treeList-label:visible', { hasText: exact });
      if ((await item.count()) === 0) {
        await page.locator('#red-ui-sidebar .red-ui-treeList-label:visible', { hasText: MODULE }).first().click();
      }
      await item.first().click();
      const panel = page.locator('#red-ui-sidebar .red-ui-help:visible', { hasText: expected.slice(0, 40) }).first();
      await panel.waitFor();
      const help = squash(await panel.innerText());
      // A tall window so the whole help text is in the picture. Node-RED 5 shows the help in a
      // section of fixed height above the debug messages: hide those (their button) meanwhile.
      const debugShown = page.locator('.red-ui-sidebar-tab-bar button[data-tab-id="debug"].selected');
      const hideDebug = (await debugShown.count()) > 0;
      if (hideDebug) await debugShown.click();
      await page.setViewportSize({ width: 1600, height: 4200 });
      await screenshot(page, `help-${type}`, page.locator('#red-ui-sidebar'));
      await page.setViewportSize({ width: 1600, height: 1000 });
      if (hideDebug) await openSidebar('debug');
      // Node-RED styles <code> nowrap: a long header name would run off the sidebar.
      const overflow = await panel.evaluate((el) => {
        const right = el.getBoundingClientRect().right;
        return [...el.querySelectorAll('*')]
          .filter((c) => c.getBoundingClientRect().right > right + 1)
          .map((c) => c.textContent.slice(0, 60));
      });
      assert.deepEqual(overflow, [], `the help of ${type} runs off the sidebar`);
      assert.ok(
        help.includes(expected),
        `the help sidebar for ${type} lacks its first paragraph:\n  expected: ${expected}\n  shown: ${help.slice(0, 300)}`,
      );
      for (const section of HELP_SECTIONS[type] || ['Inputs', 'Outputs', 'Details']) {
        assert.ok(help.includes(section), `the help of ${type} has no ${section} section`);
      }
    });
  }

  it("exports the flows without the config node's access key or secret", async function () {
    assert.ok(configId, 'needs the config node of the earlier test');
    await page.click('#red-ui-header-button-sidemenu');
    await page.click('#menu-item-export');
    await page.click('#red-ui-clipboard-dialog-export-rng-full');
    await page.locator('.ui-dialog:visible .red-ui-tab a', { hasText: /^JSON$/ }).click();
    await page.click('#red-ui-clipboard-dialog-export-fmt-full');
    await page.waitForSelector('#red-ui-clipboard-dialog-export-text:visible');
    await screenshot(page, 'export-dialog');
    // The text Download and Copy to clipboard hand out.
    const exported = await page.inputValue('#red-ui-clipboard-dialog-export-text');
    await page.click('.ui-dialog:visible button:has-text("Cancel")');
    const nodes = JSON.parse(exported);
    const config = nodes.find((n) => n.id === configId);
    assert.ok(config, 'the export lacks the config node');
    assert.equal(config.credentialType, 'keys');
    for (const secret of [SECRET, KEY_ID]) {
      assert.ok(!exported.includes(secret), `the export contains ${secret}`);
    }
    // Nor what the runtime stored: flows.json on disk, and the admin API's flows.
    const res = await page.request.get(new URL('flows', demo.url).href);
    const served = await res.text();
    const onDisk = fs.readFileSync(path.join(userDir, 'flows.json'), 'utf8');
    const credFile = fs.readFileSync(path.join(userDir, 'flows_cred.json'), 'utf8');
    for (const secret of [SECRET, KEY_ID]) {
      assert.ok(!served.includes(secret), `GET /flows contains ${secret}`);
      assert.ok(!onDisk.includes(secret), `flows.json contains ${secret}`);
      assert.ok(!credFile.includes(secret), `flows_cred.json holds ${secret} unencrypted`);
    }
  });

  it('loads the editor with no script errors', function () {
    assert.deepEqual(pageErrors, []);
  });
});
