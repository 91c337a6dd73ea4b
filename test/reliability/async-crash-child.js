'use strict';
// Child process of async-crash.test.js: a real Node-RED (started from code, this package linked
// into the userDir as `npm install <path>` would) running the flow the test wrote to
// <userDir>/flows.json. Every accepted message, result and caught error is appended to the
// OUTCOMES file synchronously by a function node, so what is recorded is exactly what the flow
// saw. KILL_AT=<kind>:<n> makes the recorder SIGKILL this process right after recording the n-th
// message of that kind ('accepted' or 'result') — a kill -9 at a precise point of the flow.
// IPC: { type: 'ready', url } once the flows run; SIGTERM = clean stop.
const fs = require('node:fs');
const path = require('node:path');
const { startNodeRed } = require('../../scripts/start');

const root = path.join(__dirname, '..', '..');
const userDir = process.env.USER_DIR;
let red;

async function main() {
  const link = path.join(userDir, 'node_modules', 'node-red-contrib-sagemaker-runtime');
  if (!fs.existsSync(link)) {
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.writeFileSync(
      path.join(userDir, 'package.json'),
      JSON.stringify({
        name: 'rel-async-crash',
        version: '0.0.0',
        private: true,
        dependencies: { 'node-red-contrib-sagemaker-runtime': `file:${root}` },
      }),
    );
    fs.symlinkSync(root, link, 'dir');
  }
  red = await startNodeRed({
    userDir,
    quiet: true,
    settings: {
      functionGlobalContext: { fs, kill9: () => process.kill(process.pid, 'SIGKILL') },
      logging: { console: { level: 'error', metrics: false, audit: false } },
    },
  });
  process.send({ type: 'ready', url: red.url });
}

async function stop() {
  try {
    if (red) await red.close();
  } finally {
    process.exit(0);
  }
}
process.on('SIGTERM', stop);
process.on('disconnect', stop);

main().catch((err) => {
  process.send({ type: 'error', message: err.stack || String(err) });
  process.exit(1);
});
