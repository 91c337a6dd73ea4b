'use strict';
// Micro-batching in sagemaker-invoke: messages per second through the node with batch size 50
// vs batch size 1 (batching off), both at concurrency 4 against the same emulator (in a child
// process) scoring 16-sample readings with the sensor-anomaly model; and the p95 latency a
// message gains by waiting for its batch, at a steady feed below capacity, against the batch
// window plus one request's time.
const path = require('node:path');
const { root, startEmulatorProcess, startHelper, configFor, loadFlow, median } = require('./lib/support');

const CONCURRENCY = 4;
const BATCH = 50;
const WINDOW_MS = 20;
const THROUGHPUT_N = 3000;
const OUTSTANDING = 400; // messages kept in flight by the feed, the same for both sides
const ROUNDS = 5;
const LATENCY_N = 300;
const FEED_PER_MS = 0.1; // 100 messages/s: batch size 1 keeps up without queueing, so the difference is the wait for the batch

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function row(i) {
  return Array.from({ length: 16 }, (_, k) => 2 + 0.05 * Math.sin(i + k) + (k === 15 && i % 97 === 0 ? 7 : 0));
}

module.exports = async function batchBench() {
  const red = await startHelper();
  const { helper } = red;
  const configNode = require(path.join(root, 'nodes/sagemaker-config.js'));
  const invokeNode = require(path.join(root, 'nodes/sagemaker-invoke.js'));
  const emu = await startEmulatorProcess();

  async function loadBatchFlow(batchSize) {
    await loadFlow(
      red,
      [configNode, invokeNode],
      configFor(emu.url),
      [
        {
          id: 'inv',
          type: 'sagemaker-invoke',
          config: 'c1',
          endpointName: 'sensor-anomaly',
          endpointNameType: 'str',
          requestFormat: 'json',
          concurrency: String(CONCURRENCY),
          queueSize: '100000',
          batchSize: String(batchSize),
          batchWindow: String(WINDOW_MS),
          wires: [['out']],
        },
        { id: 'out', type: 'helper' },
      ],
      ['inv'],
    );
    return { inv: helper.getNode('inv'), out: helper.getNode('out') };
  }

  // Saturated feed: OUTSTANDING messages outstanding, a new one sent as each output arrives.
  function throughput(nodes, n) {
    return new Promise((resolve) => {
      let got = 0;
      let sent = 0;
      const t0 = performance.now();
      const onOut = () => {
        got++;
        if (sent < n) nodes.inv.receive({ payload: row(sent++) });
        if (got === n) {
          nodes.out.removeListener('input', onOut);
          resolve(n / ((performance.now() - t0) / 1000));
        }
      };
      nodes.out.on('input', onOut);
      while (sent < Math.min(OUTSTANDING, n)) nodes.inv.receive({ payload: row(sent++) });
    });
  }

  // Steady feed at FEED_PER_MS; each message's latency from receive to output.
  function latencies(nodes, n) {
    return new Promise((resolve) => {
      const ms = [];
      const t0 = performance.now();
      let sent = 0;
      const onOut = (msg) => {
        ms.push(performance.now() - msg.t);
        if (ms.length === n) {
          clearInterval(timer);
          nodes.out.removeListener('input', onOut);
          resolve(ms.sort((a, b) => a - b));
        }
      };
      nodes.out.on('input', onOut);
      const timer = setInterval(() => {
        const due = Math.min(n, Math.floor((performance.now() - t0) * FEED_PER_MS));
        while (sent < due) nodes.inv.receive({ payload: row(sent++), t: performance.now() });
      }, 2);
    });
  }

  // One request's time: a single message with batching off, one at a time.
  async function oneRequest(nodes, n) {
    const ms = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await new Promise((resolve) => {
        nodes.out.once('input', resolve);
        nodes.inv.receive({ payload: row(i) });
      });
      ms.push(performance.now() - t0);
    }
    return ms.sort((a, b) => a - b);
  }

  try {
    let batched = await loadBatchFlow(BATCH);
    await throughput(batched, 1000);
    let single = await loadBatchFlow(1);
    await throughput(single, 500);
    const ratios = [];
    const tpBatched = [];
    const tpSingle = [];
    // Paired rounds, alternating which side goes first (this machine's speed drifts).
    for (let r = 0; r < ROUNDS; r++) {
      const sides = r % 2 === 0 ? [1, BATCH] : [BATCH, 1];
      const res = {};
      for (const size of sides) {
        const nodes = await loadBatchFlow(size);
        res[size] = await throughput(nodes, size === 1 ? THROUGHPUT_N / 3 : THROUGHPUT_N);
      }
      tpSingle.push(res[1]);
      tpBatched.push(res[BATCH]);
      ratios.push(res[BATCH] / res[1]);
    }

    const added = [];
    const p95b = [];
    const p95s = [];
    const req = [];
    for (let r = 0; r < 3; r++) {
      single = await loadBatchFlow(1);
      req.push(percentile(await oneRequest(single, 200), 0.5));
      const s = percentile(await latencies(single, LATENCY_N), 0.95);
      batched = await loadBatchFlow(BATCH);
      const b = percentile(await latencies(batched, LATENCY_N), 0.95);
      p95s.push(s);
      p95b.push(b);
      added.push(b - s);
    }
    const requestMs = median(req);
    const addedP95 = median(added);
    return [
      {
        name: `messages/s at concurrency ${CONCURRENCY}, batch size ${BATCH} ÷ batch size 1 (sensor-anomaly, median of ${ROUNDS} paired rounds)`,
        value: median(tpBatched),
        reference: median(tpSingle),
        unit: 'msg/s',
        ratio: median(ratios),
        extra: `round ratios ${ratios.map((x) => x.toFixed(2)).join(' ')}`,
        target: 5,
        better: 'higher',
      },
      {
        name: `added p95 latency per message, batch ${BATCH} window ${WINDOW_MS} ms vs batch 1, steady ${FEED_PER_MS * 1000} msg/s (median of 3)`,
        value: addedP95,
        reference: WINDOW_MS + requestMs,
        unit: 'ms',
        extra: `p95 ${median(p95b).toFixed(1)} ms batched vs ${median(p95s).toFixed(1)} ms single; target = window ${WINDOW_MS} ms + one request ${requestMs.toFixed(2)} ms`,
        target: 1,
        better: 'lower',
      },
    ];
  } finally {
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
    emu.child.kill();
  }
};
