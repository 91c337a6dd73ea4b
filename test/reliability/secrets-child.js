'use strict';
// Child process of secrets.test.js: the emulator (with distinctive key pairs) and a real
// Node-RED started from code (userDir with this package installed as a link, a
// credentialSecret, adminAuth, every log line captured). Node-RED is one runtime per process,
// and mocha's belongs to the test helper (test/security uses it too). Options arrive as JSON in
// argv[2] (adminAuth optional; emulatorUrlEnv: a variable to set to the emulator's URL); IPC: 'ready',
// then { type: 'collect' } → { logs, sessionTokens, stats }; disconnect = stop.
const fs = require('node:fs');
const path = require('node:path');
const { startNodeRed } = require('../../scripts/start');
const { startEmulator } = require('../../dist/emulator');

const root = path.join(__dirname, '..', '..');
const opts = JSON.parse(process.argv[2]);
const logs = [];
let emu;
let red;

async function main() {
  emu = await startEmulator({
    port: 0,
    credentials: opts.keyPairs,
    iot: true,
    endpoints: {
      faulty: { model: 'echo', faults: [{ kind: 'model-error', originalMessage: 'model failed on purpose' }] },
      throttled: { model: 'echo', faults: [{ kind: 'throttle' }] },
      'gen-error': { model: 'text-generator', faults: [{ kind: 'stream-error', afterParts: 2 }] },
    },
  });
  // For config nodes that read the emulator's address as ${NAME}, as the examples do.
  if (opts.emulatorUrlEnv) process.env[opts.emulatorUrlEnv] = emu.url;
  // The package as an installed module of the userDir (what `npm install <path>` makes).
  const { userDir } = opts;
  fs.mkdirSync(path.join(userDir, 'node_modules'), { recursive: true });
  fs.writeFileSync(
    path.join(userDir, 'package.json'),
    JSON.stringify({
      name: 'rel-secrets',
      version: '0.0.0',
      private: true,
      dependencies: { 'node-red-contrib-sagemaker-runtime': `file:${root}` },
    }),
  );
  fs.symlinkSync(root, path.join(userDir, 'node_modules', 'node-red-contrib-sagemaker-runtime'), 'dir');

  const capture = () => (m) => logs.push(JSON.stringify(m));
  red = await startNodeRed({
    userDir,
    quiet: true,
    settings: {
      credentialSecret: opts.credentialSecret,
      adminAuth: opts.adminAuth,
      logging: { console: { level: 'off' }, capture: { level: 'trace', metrics: false, audit: true, handler: capture } },
    },
  });
  const device = await emu.iot.issueDeviceCertificate('rel-thing');
  process.send({
    type: 'ready',
    url: red.url,
    emulatorUrl: emu.url,
    s3Url: emu.s3Url,
    iot: { endpoint: emu.iot.endpoint, ca: emu.iot.ca, cert: device.cert, key: device.key },
  });
}

process.on('message', (m) => {
  if (m && m.type === 'collect') {
    const tokens = new Set();
    for (const r of emu.received()) if (r.headers['x-amz-security-token']) tokens.add(r.headers['x-amz-security-token']);
    process.send({ type: 'collected', logs, sessionTokens: [...tokens], stats: emu.stats() });
  }
});

async function stop() {
  try {
    if (red) await red.close();
    if (emu) await emu.close();
  } finally {
    process.exit(0);
  }
}
process.on('disconnect', stop);
process.on('SIGTERM', stop);

main().catch((err) => {
  process.send({ type: 'error', message: err.stack || String(err) });
  process.exit(1);
});
