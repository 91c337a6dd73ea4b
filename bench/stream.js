'use strict';
// sagemaker-stream overhead in the same run, against a minimal fast stand-in server in its own
// process (the emulator's own work would hide the client's):
// - per-part time: 10k parts through the node ÷ a hand-written Node-RED node around the same SDK
//   client (the fair peer), and ÷ the raw SDK's for-await loop;
// - time to first message vs the raw SDK's time to first part (median of many streams);
// - RSS growth over 100k parts with completion payload off (node) vs the raw for-await.
const path = require('node:path');
const v8 = require('node:v8');
const vm = require('node:vm');
const { InvokeEndpointWithResponseStreamCommand } = require('@aws-sdk/client-sagemaker-runtime');

const { root, startStandIn, startHelper, configFor, loadFlow, median } = require('./lib/support');
const PARTS = 10_000;
const ROUNDS = 11;
const TTFP_RUNS = 40;
const RSS_PARTS = 100_000;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

const mb = (n) => n / 1024 / 1024;

module.exports = async function streamBench() {
  const red = await startHelper();
  const { helper } = red;
  const configNode = require(path.join(root, 'nodes/sagemaker-config.js'));
  const streamNode = require(path.join(root, 'nodes/sagemaker-stream.js'));
  const handwritten = require('./lib/handwritten-stream');
  const emu = await startStandIn();

  let raw;
  async function rawStream(tokens) {
    const t0 = performance.now();
    const out = await raw.send(
      new InvokeEndpointWithResponseStreamCommand({
        EndpointName: 'text-generator',
        Body: 'bench',
        CustomAttributes: `format=text;tokens=${tokens}`,
      }),
    );
    let ttfp;
    let n = 0;
    for await (const e of out.Body) {
      if (e.PayloadPart) {
        if (n++ === 0) ttfp = performance.now() - t0;
      }
    }
    return { ms: performance.now() - t0, ttfp, n };
  }

  async function loadStreamFlow(extra) {
    await loadFlow(
      red,
      [configNode, streamNode, handwritten],
      configFor(emu.url),
      [
        {
          id: 's',
          type: 'sagemaker-stream',
          config: 'c1',
          endpointName: 'text-generator',
          endpointNameType: 'str',
          wires: [['parts'], ['done']],
          ...extra,
        },
        { id: 'peer', type: 'handwritten-stream', config: 'c1', endpointName: 'text-generator', wires: [['parts'], ['done']] },
        { id: 'parts', type: 'helper' },
        { id: 'done', type: 'helper' },
      ],
      ['s', 'peer'],
    );
    // The raw loop uses the node's own client (same settings, same sockets).
    raw = helper.getNode('c1').runtimeClient();
  }

  function nodeStream(tokens, id = 's') {
    return new Promise((resolve, reject) => {
      const t0 = performance.now();
      let ttfm;
      let n = 0;
      const parts = helper.getNode('parts');
      const onPart = () => {
        if (n++ === 0) ttfm = performance.now() - t0;
      };
      parts.on('input', onPart);
      helper.getNode('done').once('input', (msg) => {
        parts.off('input', onPart);
        resolve({ ms: performance.now() - t0, ttfp: ttfm, n, msg });
      });
      helper.getNode(id).receive({ payload: 'bench', headers: { 'x-amzn-sagemaker-custom-attributes': `format=text;tokens=${tokens}` } });
      setTimeout(() => reject(new Error('stream did not complete')), 120_000).unref();
    });
  }

  try {
    await loadStreamFlow({});
    // Warm-up both paths (JIT, sockets).
    for (let i = 0; i < 3; i++) {
      await rawStream(2000);
      await nodeStream(2000);
    }
    // Per-part time: paired rounds (raw, peer and node back to back, rotating which goes first);
    // each figure is the median of the per-round ratios.
    const sides = [() => rawStream(PARTS), () => nodeStream(PARTS, 'peer'), () => nodeStream(PARTS)];
    const perRound = [];
    for (let round = 0; round < ROUNDS; round++) {
      const ms = [];
      for (let i = 0; i < sides.length; i++) {
        const k = (round + i) % sides.length;
        const r = await sides[k]();
        if (r.n !== PARTS) throw new Error(`expected ${PARTS} parts, got ${r.n}`);
        ms[k] = r.ms;
      }
      perRound.push(ms);
    }
    const [rawMs, peerMs, nodeMs] = [0, 1, 2].map((k) => median(perRound.map((r) => r[k])));
    const nodeVsRaw = median(perRound.map((r) => r[2] / r[0]));
    const nodeVsPeer = median(perRound.map((r) => r[2] / r[1]));
    const perPartUs = median(perRound.map((r) => ((r[2] - r[0]) * 1000) / PARTS));

    // Time to first message vs raw time to first part.
    const rawT = [];
    const nodeT = [];
    for (let i = 0; i < TTFP_RUNS; i++) {
      rawT.push((await rawStream(3)).ttfp);
      nodeT.push((await nodeStream(3)).ttfp);
    }
    const rawTtfp = median(rawT);
    const nodeTtfp = median(nodeT);

    // RSS growth over 100k parts, completion payload off. Each side first runs one stream of
    // the same size so the heap reaches its working size; a second stream must then not grow it.
    async function growth(fn) {
      await fn();
      gc();
      const before = process.memoryUsage().rss;
      const result = await fn();
      gc();
      return { bytes: process.memoryUsage().rss - before, result };
    }
    const rawGrowth = (await growth(() => rawStream(RSS_PARTS))).bytes;
    await loadStreamFlow({ completionPayload: false });
    const nodeRun = await growth(() => nodeStream(RSS_PARTS));
    const nodeGrowth = nodeRun.bytes;
    if (nodeRun.result.n !== RSS_PARTS || nodeRun.result.msg.payload !== undefined) throw new Error('unexpected RSS run result');

    return [
      {
        name: `per-part time, ${PARTS} parts (node ÷ raw SDK for-await, median of ${ROUNDS} paired rounds)`,
        value: (nodeMs * 1000) / PARTS,
        reference: (rawMs * 1000) / PARTS,
        unit: 'µs/part',
        ratio: nodeVsRaw,
        extra: `overhead ${perPartUs.toFixed(2)} µs per part; round ratios ${perRound.map((r) => (r[2] / r[0]).toFixed(2)).join(' ')}`,
        target: 1.3,
        better: 'lower',
      },
      {
        name: `per-part time, ${PARTS} parts (node ÷ hand-written node, median of ${ROUNDS} paired rounds)`,
        value: (nodeMs * 1000) / PARTS,
        reference: (peerMs * 1000) / PARTS,
        unit: 'µs/part',
        ratio: nodeVsPeer,
        extra: `round ratios ${perRound.map((r) => (r[2] / r[1]).toFixed(2)).join(' ')}; hand-written ÷ raw ${median(perRound.map((r) => r[1] / r[0])).toFixed(3)}`,
        better: 'lower',
      },
      {
        name: `time to first message vs raw time to first part (median of ${TTFP_RUNS})`,
        value: nodeTtfp,
        reference: rawTtfp,
        unit: 'ms',
        extra: `+${(nodeTtfp - rawTtfp).toFixed(3)} ms (target ≤ +0.5 ms)`,
        ratio: nodeTtfp / rawTtfp,
        better: 'lower',
      },
      {
        name: 'time to first message − raw time to first part',
        value: nodeTtfp - rawTtfp,
        reference: rawTtfp,
        unit: 'ms',
        target: 0.5,
        targetOn: 'value',
        better: 'lower',
      },
      {
        name: `RSS growth over ${RSS_PARTS} parts, completion payload off (node vs raw SDK)`,
        value: mb(nodeGrowth),
        reference: mb(rawGrowth),
        unit: 'MB',
        ratio: nodeGrowth / Math.max(Math.abs(rawGrowth), 1024 * 1024),
        extra: 'ratio against max(|raw growth|, 1 MB)',
        target: 10,
        targetOn: 'value',
        better: 'lower',
      },
    ];
  } finally {
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
    emu.child.kill();
  }
};

if (require.main === module) {
  module.exports().then(
    (figures) => console.log(figures),
    (err) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}
