'use strict';
// sagemaker-invoke-async polling cost and detection delay, 200 jobs pending at once.
// Also result source `sqs` (notifications through the emulator's SNS → SQS, no S3 listing) in the
// same run, with the output read from S3 and with the response included in the notification.
// Node: batched polling (one ListObjectsV2 per output/failure prefix per round) at a fixed
// interval. Reference, same interval, same emulator, same run: one HeadObject per job per round
// on the output and the failure location until one exists, then GetObject — the way the
// SageMaker Python SDK's AsyncPredictor waits (boto3 `object_exists` waiter; v3 watches the
// failure location too). Counted on each side's S3 client as the requests it sends: HeadObject +
// ListObjectsV2 + GetObject (the node's own PutObject of inputs is left out; the reference sends
// its inputs inline). The emulator and its S3 run in a child process, so their work does not
// slow either side down.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { InvokeEndpointAsyncCommand } = require('@aws-sdk/client-sagemaker-runtime');
const { GetObjectCommand, HeadObjectCommand, S3Client } = require('@aws-sdk/client-s3');

const { root, startEmulatorProcess, startHelper, CREDENTIALS, configFor, loadFlow } = require('./lib/support');
const JOBS = 200;
const INTERVAL_MS = 1000;
// Spread of job run times (ms): 5 s … 30 s, deterministic (real async jobs take minutes).
const delayOf = (i) => 5000 + ((i * 7919) % 25000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const READS = new Set(['HeadObjectCommand', 'ListObjectsV2Command', 'GetObjectCommand']);
/** Counts the read requests an S3 client sends (each attempt), by command. */
function countReads(client) {
  const counts = { total: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (READS.has(context.commandName)) {
        counts.total++;
        counts[context.commandName] = (counts[context.commandName] || 0) + 1;
      }
      return next(args);
    },
    { step: 'finalizeRequest', priority: 'low', name: 'benchCountReads' },
  );
  return counts;
}
function pct(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

module.exports = async function asyncBench() {
  const red = await startHelper();
  const { helper } = red;
  const configNode = require(path.join(root, 'nodes/sagemaker-config.js'));
  const asyncNode = require(path.join(root, 'nodes/sagemaker-invoke-async.js'));
  // Our own S3 directory, so the moment each output landed is in its description file.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smr-bench-async-'));
  const configFile = path.join(dir, '..', `${path.basename(dir)}.json`);
  // Endpoints that notify SNS topics (created below; topic ARNs are region + account + name).
  const topicArn = (name) => `arn:aws:sns:us-east-1:123456789012:${name}`;
  const notify = { successTopic: topicArn('bench-ok'), errorTopic: topicArn('bench-err') };
  fs.writeFileSync(
    configFile,
    JSON.stringify({
      s3: { directory: dir },
      endpoints: {
        'echo-notify': { model: 'echo', async: notify },
        'echo-notify-inc': { model: 'echo', async: { ...notify, includeInferenceResponseIn: ['SUCCESS_NOTIFICATION_TOPIC'] } },
      },
    }),
  );
  const emu = await startEmulatorProcess(['--config', configFile]);
  const landedAt = (loc) => {
    const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(loc);
    const hash = require('node:crypto').createHash('sha256').update(m[2], 'utf8').digest('hex');
    return JSON.parse(fs.readFileSync(path.join(dir, m[1], `${hash}.json`), 'utf8')).lastModified;
  };
  try {
    /** JOBS jobs through one sagemaker-invoke-async node: its S3 reads and the detection delays. */
    const runNode = async (node, config = {}) => {
      await loadFlow(
        red,
        [configNode, asyncNode],
        configFor(emu.url, { s3Endpoint: emu.s3Url, s3ForcePathStyle: true, ...config }),
        [
          { id: 'an', type: 'sagemaker-invoke-async', config: 'c1', endpointNameType: 'str', wires: [[], ['out']], ...node },
          { id: 'out', type: 'helper' },
        ],
        ['an'],
      );
      const counts = countReads(helper.getNode('c1').s3Client());
      const got = new Map();
      helper.getNode('out').on('input', (m) => got.set(m.index, { at: Date.now(), loc: m.sagemaker.outputLocation }));
      for (let i = 0; i < JOBS; i++) {
        helper
          .getNode('an')
          .receive({ payload: { i }, index: i, headers: { 'x-amzn-sagemaker-custom-attributes': `delay=${delayOf(i)}` } });
      }
      while (got.size < JOBS) await sleep(20);
      await helper.unload();
      return {
        reads: counts.total,
        lists: counts.ListObjectsV2Command || 0,
        delays: [...got.values()].map((a) => a.at - landedAt(a.loc)).sort((a, b) => a - b),
      };
    };

    // ---- the node, result source s3 (batched polling) ----
    const polled = await runNode({
      endpointName: 'echo',
      pollInterval: String(INTERVAL_MS / 1000),
      maxPollInterval: String(INTERVAL_MS / 1000),
    });

    // ---- the node, result source sqs: output read from S3, then included in the notification ----
    const { SQSClient, CreateQueueCommand, GetQueueAttributesCommand } = require('@aws-sdk/client-sqs');
    const { SNSClient, CreateTopicCommand, SubscribeCommand } = require('@aws-sdk/client-sns');
    const keys = CREDENTIALS.c1;
    const sqs = new SQSClient({ region: 'us-east-1', endpoint: emu.sqsUrl, credentials: keys });
    const sns = new SNSClient({ region: 'us-east-1', endpoint: emu.sqsUrl, credentials: keys });
    for (const t of ['bench-ok', 'bench-err']) await sns.send(new CreateTopicCommand({ Name: t }));
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'bench-results' }))).QueueUrl;
    const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }))).Attributes
      .QueueArn;
    for (const t of ['bench-ok', 'bench-err']) {
      await sns.send(
        new SubscribeCommand({ TopicArn: topicArn(t), Protocol: 'sqs', Endpoint: queueArn, Attributes: { RawMessageDelivery: 'true' } }),
      );
    }
    sqs.destroy();
    sns.destroy();
    const runSqs = (endpointName) => runNode({ endpointName, resultSource: 'sqs', queueUrl }, { sqsEndpoint: emu.sqsUrl });
    const viaS3 = await runSqs('echo-notify');
    const included = await runSqs('echo-notify-inc');

    // ---- reference: per-job HeadObject polling at the same interval ----
    const sm = new (require('@aws-sdk/client-sagemaker-runtime').SageMakerRuntimeClient)({
      region: 'us-east-1',
      endpoint: emu.url,
      credentials: keys,
    });
    // Enough sockets that every job really polls at the interval (the SDK's default is 50).
    const s3 = new S3Client({
      region: 'us-east-1',
      endpoint: emu.s3Url,
      forcePathStyle: true,
      credentials: keys,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { httpAgent: { maxSockets: 1000 } },
    });
    const refCounts = countReads(s3);
    const exists = async (loc) => {
      const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(loc);
      try {
        await s3.send(new HeadObjectCommand({ Bucket: m[1], Key: m[2] }));
        return true;
      } catch {
        return false;
      }
    };
    await Promise.all(
      Array.from({ length: JOBS }, async (_, i) => {
        const res = await sm.send(
          new InvokeEndpointAsyncCommand({
            EndpointName: 'echo',
            Body: Buffer.from(JSON.stringify({ i })),
            ContentType: 'application/json',
            CustomAttributes: `delay=${delayOf(i)}`,
          }),
        );
        for (;;) {
          await sleep(INTERVAL_MS);
          const [out, fail] = await Promise.all([exists(res.OutputLocation), exists(res.FailureLocation)]);
          if (out || fail) {
            const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(out ? res.OutputLocation : res.FailureLocation);
            const got = await s3.send(new GetObjectCommand({ Bucket: m[1], Key: m[2] }));
            await got.Body.transformToByteArray();
            return;
          }
        }
      }),
    );
    const refReads = refCounts.total;
    sm.destroy();
    s3.destroy();

    const perJobNode = polled.reads / JOBS;
    const perJobRef = refReads / JOBS;
    const p95 = pct(polled.delays, 0.95);
    return [
      {
        name: `S3 requests per completed job, ${JOBS} pending jobs, ${INTERVAL_MS} ms interval (per-job HeadObject polling ÷ node)`,
        value: perJobNode,
        reference: perJobRef,
        unit: 'requests/job',
        ratio: perJobRef / perJobNode,
        target: 10,
        better: 'higher',
        extra: `node ${polled.reads} (ListObjectsV2 ${polled.lists}), reference ${refReads}`,
      },
      {
        name: 'detection delay after the output lands, p95 (÷ poll interval)',
        value: p95,
        reference: INTERVAL_MS,
        unit: 'ms',
        target: 1,
        better: 'lower',
        extra: `median ${pct(polled.delays, 0.5)} ms, max ${polled.delays[polled.delays.length - 1]} ms`,
      },
      {
        name: `S3 requests per completed job, result source sqs, output read from S3 (÷ S3 polling, same run)`,
        value: viaS3.reads / JOBS,
        reference: perJobNode,
        unit: 'requests/job',
        target: 1,
        targetOn: 'value',
        better: 'lower',
        extra: `${viaS3.reads} GetObject, ${viaS3.lists} ListObjectsV2`,
      },
      {
        name: `S3 requests per completed job, result source sqs, response included in the notification (÷ S3 polling)`,
        value: included.reads / JOBS,
        reference: perJobNode,
        unit: 'requests/job',
        target: 0,
        targetOn: 'value',
        better: 'lower',
        extra: `${included.reads} requests`,
      },
      {
        name: 'detection delay after the output lands, p95, result source sqs (÷ S3 polling p95, same run)',
        value: pct(viaS3.delays, 0.95),
        reference: p95,
        unit: 'ms',
        target: 500,
        targetOn: 'value',
        better: 'lower',
        extra: `median ${pct(viaS3.delays, 0.5)} ms, max ${viaS3.delays[viaS3.delays.length - 1]} ms; included responses: p95 ${pct(included.delays, 0.95)} ms`,
      },
    ];
  } finally {
    await helper.unload().catch(() => {});
    await new Promise((r) => helper.stopServer(r));
    emu.child.kill();
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(configFile, { force: true });
  }
};
