'use strict';
// Runs scripts/start.js's startDemo in its own process for the browser tests: the Node-RED
// runtime is one global per process, and the node tests' helper owns the one in mocha's.
// Options arrive as JSON in argv[2]; the addresses go back over IPC; disconnect = stop.
const { startDemo } = require('../../scripts/start');

const options = JSON.parse(process.argv[2] || '{}');
let demo;
const stop = async () => {
  const d = await demo;
  if (d) await d.close();
  process.exit(0);
};
process.on('disconnect', stop);
process.on('SIGTERM', stop);
process.on('message', async (m) => {
  if (m && m.type === 'stats') {
    const d = await demo;
    process.send({ type: 'stats', stats: d.emulator.stats() });
  }
});
demo = startDemo(options).then(
  (d) => {
    process.send({
      type: 'ready',
      url: d.url,
      emulatorUrl: d.emulator.url,
      mqttUrl: d.broker.url,
      s3Url: d.emulator.s3Url,
      region: d.emulator.region,
      tabs: d.tabs.map((t) => ({ id: t.id, label: t.label, name: t.name })),
    });
    return d;
  },
  (err) => {
    process.send({ type: 'error', message: err.message });
    process.exit(1);
  },
);
