'use strict';
// sagemaker-invoke overhead, against a minimal fast stand-in server in its own process (the
// emulator's own work would hide the client's), inside one Node-RED runtime:
// - throughput at concurrency 16: the node ÷ a hand-written Node-RED node calling the same SDK
//   client (the fair peer: what a user would otherwise write), and the node ÷ the raw SDK loop;
// - added p50 latency at concurrency 1: node − raw SDK (and node − hand-written node).
// Each side keeps exactly CONCURRENCY requests outstanding. This machine's speed drifts by ±20 %
// over seconds, so each round measures all three sides back to back, rotating which goes first,
// and each figure is the median of the per-round ratios.
const path = require('node:path');
const { InvokeEndpointCommand } = require('@aws-sdk/client-sagemaker-runtime');
const { root, startStandIn, startHelper, configFor, loadFlow, median } = require('./lib/support');

// Many short rounds rather than a few long ones: the drift then hits both sides of a round alike.
const THROUGHPUT_N = 600;
const THROUGHPUT_ROUNDS = 31;
const LATENCY_N = 400;
const CONCURRENCY = 16;
const ROUNDS = 9;

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

module.exports = async function invokeBench() {
  const red = await startHelper();
  const { helper } = red;
  const configNode = require(path.join(root, 'nodes/sagemaker-config.js'));
  const invokeNode = require(path.join(root, 'nodes/sagemaker-invoke.js'));
  const handwritten = require('./lib/handwritten-invoke');
  const server = await startStandIn();
  const payload = { instances: [[0.1, 0.2, 0.3, 0.4]] };

  async function loadInvokeFlow(concurrency) {
    await loadFlow(
      red,
      [configNode, invokeNode, handwritten],
      configFor(server.url),
      [
        {
          id: 'inv',
          type: 'sagemaker-invoke',
          config: 'c1',
          endpointName: 'echo',
          endpointNameType: 'str',
          concurrency: String(concurrency),
          queueSize: '100000',
          wires: [['out']],
        },
        { id: 'peer', type: 'handwritten-invoke', config: 'c1', endpointName: 'echo', wires: [['peerOut']] },
        { id: 'out', type: 'helper' },
        { id: 'peerOut', type: 'helper' },
      ],
      ['inv', 'peer'],
    );
    const client = helper.getNode('c1').runtimeClient();
    return {
      node: { input: helper.getNode('inv'), output: helper.getNode('out') },
      peer: { input: helper.getNode('peer'), output: helper.getNode('peerOut') },
      client,
    };
  }

  const request = () => new InvokeEndpointCommand({ EndpointName: 'echo', Body: JSON.stringify(payload), ContentType: 'application/json' });
  const parse = (out) => JSON.parse(Buffer.from(out.Body).toString('utf8'));

  /** Requests per second and this process's CPU time per request (µs) since `t0`, `cpu0`. */
  const rates = (n, t0, cpu0) => {
    const cpu = process.cpuUsage(cpu0);
    return { perSecond: n / ((performance.now() - t0) / 1000), cpuUs: (cpu.user + cpu.system) / n };
  };

  async function rawThroughput(client, n) {
    let next = 0;
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next++ < n) parse(await client.send(request()));
      }),
    );
    return rates(n, t0, cpu0);
  }

  // CONCURRENCY messages outstanding; a new one goes in as each output comes out.
  function flowThroughput(side, n) {
    return new Promise((resolve) => {
      let got = 0;
      let sent = 0;
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      const onOut = () => {
        got++;
        if (sent < n) {
          sent++;
          side.input.receive({ payload });
        }
        if (got === n) {
          side.output.removeListener('input', onOut);
          resolve(rates(n, t0, cpu0));
        }
      };
      side.output.on('input', onOut);
      while (sent < Math.min(CONCURRENCY, n)) {
        sent++;
        side.input.receive({ payload });
      }
    });
  }

  async function rawLatencies(client, n) {
    const ms = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      parse(await client.send(request()));
      ms.push(performance.now() - t0);
    }
    return ms.sort((a, b) => a - b);
  }
  async function flowLatencies(side, n) {
    const ms = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await new Promise((resolve) => {
        side.output.once('input', resolve);
        side.input.receive({ payload });
      });
      ms.push(performance.now() - t0);
    }
    return ms.sort((a, b) => a - b);
  }

  /** Runs `measure` for each side in a rotating order per round; returns per-side arrays. */
  async function pairedRounds(sides, measure, rounds = ROUNDS) {
    const names = Object.keys(sides);
    const results = Object.fromEntries(names.map((k) => [k, []]));
    for (let r = 0; r < rounds; r++) {
      for (let i = 0; i < names.length; i++) {
        const name = names[(r + i) % names.length];
        results[name].push(await measure(sides[name]));
      }
    }
    return results;
  }
  const ratios = (a, b) => a.map((x, i) => x / b[i]);
  const diffs = (a, b) => a.map((x, i) => x - b[i]);

  try {
    let flow = await loadInvokeFlow(CONCURRENCY);
    // Warm-up: sockets, JIT.
    await rawThroughput(flow.client, 500);
    await flowThroughput(flow.peer, 500);
    await flowThroughput(flow.node, 500);
    const tp = await pairedRounds(
      { raw: flow.client, peer: flow.peer, node: flow.node },
      (side) => (side === flow.client ? rawThroughput(side, THROUGHPUT_N) : flowThroughput(side, THROUGHPUT_N)),
      THROUGHPUT_ROUNDS,
    );
    const perSecond = (side) => side.map((r) => r.perSecond);
    const cpuUs = (side) => side.map((r) => r.cpuUs);
    const nodeVsPeer = ratios(perSecond(tp.node), perSecond(tp.peer));
    const nodeVsRaw = ratios(perSecond(tp.node), perSecond(tp.raw));
    const cpuNodeVsPeer = ratios(cpuUs(tp.node), cpuUs(tp.peer));

    flow = await loadInvokeFlow(1);
    await rawLatencies(flow.client, 100);
    await flowLatencies(flow.peer, 100);
    await flowLatencies(flow.node, 100);
    const p50 = await pairedRounds({ raw: flow.client, peer: flow.peer, node: flow.node }, async (side) =>
      percentile(side === flow.client ? await rawLatencies(side, LATENCY_N) : await flowLatencies(side, LATENCY_N), 0.5),
    );
    const addedVsRaw = diffs(p50.node, p50.raw);
    const addedVsPeer = diffs(p50.node, p50.peer);
    const fmt = (xs) => xs.map((x) => x.toFixed(2)).join(' ');

    return [
      {
        name: `throughput at concurrency ${CONCURRENCY} (node ÷ hand-written node, median of ${THROUGHPUT_ROUNDS} paired rounds)`,
        value: median(perSecond(tp.node)),
        reference: median(perSecond(tp.peer)),
        unit: 'req/s',
        ratio: median(nodeVsPeer),
        extra: `round ratios ${fmt(nodeVsPeer)}`,
        target: 0.97,
        better: 'higher',
      },
      {
        name: `throughput at concurrency ${CONCURRENCY} (node ÷ raw SDK, median of ${THROUGHPUT_ROUNDS} paired rounds)`,
        value: median(perSecond(tp.node)),
        reference: median(perSecond(tp.raw)),
        unit: 'req/s',
        ratio: median(nodeVsRaw),
        extra: `round ratios ${fmt(nodeVsRaw)}; hand-written ÷ raw ${median(ratios(perSecond(tp.peer), perSecond(tp.raw))).toFixed(3)}`,
        better: 'higher',
      },
      {
        name: `client CPU time per message at concurrency ${CONCURRENCY} (node ÷ hand-written node, same rounds)`,
        value: median(cpuUs(tp.node)),
        reference: median(cpuUs(tp.peer)),
        unit: 'µs',
        ratio: median(cpuNodeVsPeer),
        extra: 'the whole process: Node-RED, the SDK and the node',
        better: 'lower',
      },
      {
        name: 'added p50 latency at concurrency 1 (node − raw SDK, median of paired rounds)',
        value: median(addedVsRaw),
        reference: median(p50.raw),
        ratio: median(p50.node) / median(p50.raw),
        unit: 'ms',
        extra: `node − hand-written node ${median(addedVsPeer).toFixed(3)} ms`,
        target: 0.15,
        targetOn: 'value',
        better: 'lower',
      },
    ];
  } finally {
    await helper.unload();
    await new Promise((r) => helper.stopServer(r));
    server.child.kill();
  }
};

if (require.main === module) {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  module.exports().then(
    (figures) => {
      for (const f of figures)
        console.log(
          `${f.name}: ${f.value.toFixed(3)} ${f.unit} vs ${f.reference.toFixed(3)} → ${(f.ratio ?? f.value / f.reference).toFixed(3)} ${f.extra ?? ''}`,
        );
      process.exit(0);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
