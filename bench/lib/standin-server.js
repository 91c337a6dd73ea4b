'use strict';
// A minimal, fast stand-in for SageMaker Runtime, run in its own process by the benchmarks that
// measure the client side: the emulator checks signatures, runs models and keeps statistics,
// and that cost would hide what the node itself adds. This server does nothing but answer:
// - POST /endpoints/<name>/invocations: echoes the body back with the request's content type;
// - POST /endpoints/<name>/invocations-response-stream: `tokens=N` parts (from the
//   X-Amzn-SageMaker-Custom-Attributes header, default 8), each a pre-encoded PayloadPart frame.
// It prints `stand-in listening on http://127.0.0.1:PORT` once ready.
const http = require('node:http');
const { EventStreamCodec } = require('@smithy/eventstream-codec');
const { fromUtf8, toUtf8 } = require('@smithy/util-utf8');

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const PART = Buffer.from(
  codec.encode({
    headers: {
      ':event-type': { type: 'string', value: 'PayloadPart' },
      ':content-type': { type: 'string', value: 'application/octet-stream' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: fromUtf8('{"token":{"text":" word"}}\n'),
  }),
);
// Frames are written in batches so a long stream costs a few writes, not one per part.
const BATCH = 256;
const PART_BATCH = Buffer.concat(Array.from({ length: BATCH }, () => PART));

let requestId = 0;

function tokensOf(req) {
  const m = /(?:^|;)\s*tokens=(\d+)/.exec(req.headers['x-amzn-sagemaker-custom-attributes'] || '');
  return m ? Number(m[1]) : 8;
}

function writeParts(res, n) {
  let left = n;
  const pump = () => {
    while (left > 0) {
      const take = Math.min(left, BATCH);
      left -= take;
      const chunk = take === BATCH ? PART_BATCH : PART_BATCH.subarray(0, take * PART.length);
      if (!res.write(chunk)) return res.once('drain', pump);
    }
    res.end();
  };
  pump();
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const id = `standin-${++requestId}`;
    if (req.url.endsWith('/invocations-response-stream')) {
      res.writeHead(200, {
        'content-type': 'application/vnd.amazon.eventstream',
        'x-amzn-sagemaker-content-type': 'application/jsonlines',
        'x-amzn-invoked-production-variant': 'AllTraffic',
        'x-amzn-requestid': id,
      });
      return writeParts(res, tokensOf(req));
    }
    const body = Buffer.concat(chunks);
    res.writeHead(200, {
      'content-type': req.headers['content-type'] || 'application/octet-stream',
      'content-length': body.length,
      'x-amzn-invoked-production-variant': 'AllTraffic',
      'x-amzn-requestid': id,
    });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  console.log(`stand-in listening on http://127.0.0.1:${server.address().port}`);
});
// Ends with its parent: the benches kill it, and a closed stdin means the parent is gone.
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
