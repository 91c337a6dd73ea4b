'use strict';
// sagemaker-invoke overhead: throughput through the node at concurrency 16 ÷ the same SDK client
// called directly at concurrency 16, and added p50 latency at concurrency 1 (node − raw), both
// against the same emulator (in a child process) in the same run. The raw runs use the config
// node's own client, so the difference is what the node adds (mapping, queue, decode, Node-RED
// message passing).
const path = require('node:path');
const { InvokeEndpointCommand } = require('@aws-sdk/client-sagemaker-runtime');
const { root, startEmulatorProcess, startHelper, unspyNodes } = require('./lib/support');
const THROUGHPUT_N = 3000;
const LATENCY_N = 600;
const CONCURRENCY = 16;
const ROUNDS = 2;

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

module.exports = async function invokeBench() {
  const red = await startHelper();
  const { helper } = red;
  const configNode = require(path.join(root, 'nodes/sagemaker-config.js'));
  const invokeNode = require(path.join(root, 'nodes/sagemaker-invoke.js'));
  const emu = await startEmulatorProcess();
  const payload = { instances: [[0.1, 0.2, 0.3, 0.4]] };

  async function loadFlow(concurrency) {
    await helper.unload();
    await new Promise((resolve, reject) =>
      helper.load(
        [configNode, invokeNode],
        [
          { id: 't', type: 'tab' },
          { id: 'c1', type: 'sagemaker-config', region: 'us-east-1', credentialType: 'keys', endpoint: emu.url },
          { id: 'inv', z: 't', x: 0, y: 0, type: 'sagemaker-invoke', config: 'c1', endpointName: 'echo', endpointNameType: 'str', concurrency: String(concurrency), queueSize: '100000', wires: [['out']] },
          { id: 'out', z: 't', x: 0, y: 0, type: 'helper' },
        ],
        { c1: { accessKeyId: 'test', secretAccessKey: 'test' } },
        (err) => (err ? reject(err) : resolve()),
      ),
    );
    unspyNodes(red, ['inv']);
    return { inv: helper.getNode('inv'), out: helper.getNode('out'), client: helper.getNode('c1').runtimeClient() };
  }

  const input = () => ({ EndpointName: 'echo', Body: Buffer.from(JSON.stringify(payload)), ContentType: 'application/json' });
  async function rawThroughput(client, n) {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < n) {
          const out = await client.send(new InvokeEndpointCommand(input()));
          JSON.parse(Buffer.from(out.Body).toString('utf8'));
        }
      }),
    );
    return n / ((performance.now() - t0) / 1000);
  }
  function nodeThroughput(nodes, n) {
    return new Promise((resolve) => {
      let got = 0;
      const t0 = performance.now();
      const onOut = () => {
        if (++got === n) {
          nodes.out.removeListener('input', onOut);
          resolve(n / ((performance.now() - t0) / 1000));
        }
      };
      nodes.out.on('input', onOut);
      for (let i = 0; i < n; i++) nodes.inv.receive({ payload });
    });
  }
  async function rawLatencies(client, n) {
    const ms = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      const out = await client.send(new InvokeEndpointCommand(input()));
      JSON.parse(Buffer.from(out.Body).toString('utf8'));
      ms.push(performance.now() - t0);
    }
    return ms.sort((a, b) => a - b);
  }
  async function nodeLatencies(nodes, n) {
    const ms = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await new Promise((resolve) => {
        nodes.out.once('input', resolve);
        nodes.inv.receive({ payload });
      });
      ms.push(performance.now() - t0);
    }
    return ms.sort((a, b) => a - b);
  }

  try {
    let nodes = await loadFlow(CONCURRENCY);
    // warm-up: sockets, JIT
    await rawThroughput(nodes.client, 300);
    await nodeThroughput(nodes, 300);
    const raw = [];
    const viaNode = [];
    for (let r = 0; r < ROUNDS; r++) {
      raw.push(await rawThroughput(nodes.client, THROUGHPUT_N));
      viaNode.push(await nodeThroughput(nodes, THROUGHPUT_N));
    }
    nodes = await loadFlow(1);
    await rawLatencies(nodes.client, 100);
    await nodeLatencies(nodes, 100);
    const rawP50 = [];
    const nodeP50 = [];
    for (let r = 0; r < ROUNDS; r++) {
      rawP50.push(percentile(await rawLatencies(nodes.client, LATENCY_N), 0.5));
      nodeP50.push(percentile(await nodeLatencies(nodes, LATENCY_N), 0.5));
    }
    const rawTp = Math.max(...raw);
    const nodeTp = Math.max(...viaNode);
    const rawLat = Math.min(...rawP50);
    const nodeLat = Math.min(...nodeP50);
    return [
      { name: `throughput at concurrency ${CONCURRENCY} (node ÷ raw SDK)`, value: nodeTp, reference: rawTp, unit: 'req/s', target: 0.95, better: 'higher' },
      {
        name: 'p50 latency at concurrency 1 (node vs raw SDK)',
        value: nodeLat,
        reference: rawLat,
        unit: 'ms',
        extra: `added ${(nodeLat - rawLat).toFixed(3)} ms`,
        ratio: nodeLat / rawLat,
      },
      { name: 'added p50 latency at concurrency 1 (node − raw)', value: nodeLat - rawLat, reference: 0, ratio: nodeLat / rawLat, unit: 'ms', target: 0.3, targetOn: 'value', better: 'lower' },
    ];
  } finally {
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
    emu.child.kill();
  }
};
