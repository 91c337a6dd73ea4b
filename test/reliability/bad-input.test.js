'use strict';
// Bad-input catalogue: each bad input to sagemaker-invoke, sagemaker-stream,
// sagemaker-invoke-async or sagemaker-config gets the exact user-facing message (on
// msg.sagemaker.error and, as `InputError: …`, on the Catch node's msg.error), the emulator
// receives no request (SageMaker or S3), and the runtime stays healthy: a good message then
// succeeds (through the same node when only the message was bad, else through a good node
// in the same flow).
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { helper, startEmulator, asyncNode, load, sleep, requestCount, KEYS } = require('./util');
const { emulatorConfig } = require('../support/emulator');

const BIG = Buffer.alloc(6_291_457, 0x61); // 6 MB + 1 byte
const circular = () => {
  const o = { a: 1 };
  o.self = o;
  return o;
};
const VISIBLE = 'must be visible US-ASCII characters (no control or non-ASCII characters)';
const NAME_RULE = 'use letters, digits and hyphens, starting and ending with a letter or digit (1–63 characters)';
const UNUSABLE = 'The sagemaker-config node cannot be used: ';

// kind: which worker node; props: its settings; config: changes to its config node; msg: the
// message; perMessage: the node itself must still work for a good message afterwards.
const CASES = [
  // --- msg.payload ----------------------------------------------------------------------------
  {
    kind: 'invoke',
    name: 'undefined payload',
    msg: () => ({}),
    expect: 'msg.payload is undefined: set it to the request body (object, array, string, number or Buffer)',
  },
  {
    kind: 'invoke',
    name: 'null payload',
    msg: () => ({ payload: null }),
    expect: 'msg.payload is null: set it to the request body (object, array, string, number or Buffer)',
  },
  {
    kind: 'invoke',
    name: 'empty string payload',
    msg: () => ({ payload: '' }),
    expect: 'msg.payload is empty: the request body must have at least one byte',
  },
  {
    kind: 'invoke',
    name: 'empty Buffer payload',
    msg: () => ({ payload: Buffer.alloc(0) }),
    expect: 'msg.payload is empty: the request body must have at least one byte',
  },
  {
    kind: 'invoke',
    name: 'payload of 6 MB + 1 byte',
    msg: () => ({ payload: BIG }),
    expect:
      'msg.payload is 6291457 bytes encoded, over the 6291456-byte (6 MB) limit of real-time inference; use sagemaker-invoke-async for larger inputs',
  },
  { kind: 'invoke', name: 'circular payload', msg: () => ({ payload: circular() }), expect: 'msg.payload contains a circular reference' },
  {
    kind: 'invoke',
    name: 'BigInt payload',
    msg: () => ({ payload: 10n }),
    expect: 'msg.payload is a BigInt, which cannot be encoded (convert it to a number or string)',
  },
  {
    kind: 'invoke',
    name: 'BigInt inside an object',
    msg: () => ({ payload: { reading: 10n } }),
    expect: 'msg.payload contains a BigInt, which JSON cannot represent (convert it to a number or string)',
  },
  {
    kind: 'invoke',
    name: 'function payload',
    msg: () => ({ payload: () => 1 }),
    expect: 'msg.payload is a function, which cannot be sent as a request body',
  },
  {
    kind: 'invoke',
    name: 'Symbol payload',
    msg: () => ({ payload: Symbol('x') }),
    expect: 'msg.payload is a symbol, which cannot be sent as a request body',
  },
  { kind: 'invoke', name: 'NaN payload', msg: () => ({ payload: NaN }), expect: 'msg.payload is NaN, which JSON cannot represent' },
  {
    kind: 'invoke',
    name: 'csv with a nested object',
    props: { requestFormat: 'csv' },
    msg: () => ({
      payload: [
        [1, 2],
        [3, { a: 1 }],
      ],
    }),
    expect: 'msg.payload: CSV row 2 column 2 is an object; cells must be numbers, strings or booleans',
    good: { payload: [1, 2] },
  },
  {
    kind: 'invoke',
    name: 'csv of an object',
    props: { requestFormat: 'csv' },
    msg: () => ({ payload: { a: 1 } }),
    expect: 'msg.payload: request format csv needs an array (one row) or an array of arrays (rows), got an object',
    good: { payload: [1, 2] },
  },
  {
    kind: 'invoke',
    name: 'csv cell Infinity',
    props: { requestFormat: 'csv' },
    msg: () => ({ payload: [1, Infinity] }),
    expect: 'msg.payload: CSV column 2 is Infinity; cells must be finite numbers, strings or booleans',
    good: { payload: [1, 2] },
  },
  {
    kind: 'invoke',
    name: 'json format with a string that is not JSON',
    props: { requestFormat: 'json' },
    msg: () => ({ payload: 'not json' }),
    expect: 'msg.payload is a string that is not valid JSON (request format json): "not json"',
  },
  // --- header values with control characters, limits --------------------------------------------
  {
    kind: 'invoke',
    name: 'Content-Type header with \\n (header injection)',
    msg: () => ({ payload: 'x', headers: { 'Content-Type': 'text/plain\nX-Injected: 1' } }),
    expect: `ContentType (msg.headers["Content-Type"]) ${VISIBLE}`,
  },
  {
    kind: 'invoke',
    name: 'Custom-Attributes header with \\r',
    msg: () => ({ payload: 'x', headers: { 'x-amzn-sagemaker-custom-attributes': 'a=1\rb=2' } }),
    expect: `CustomAttributes (msg.headers["X-Amzn-SageMaker-Custom-Attributes"]) ${VISIBLE}`,
  },
  {
    kind: 'invoke',
    name: 'Inference-Id header with \\0',
    msg: () => ({ payload: 'x', headers: { 'X-Amzn-SageMaker-Inference-Id': 'id\u0000x' } }),
    expect: `InferenceId (msg.headers["X-Amzn-SageMaker-Inference-Id"]) ${VISIBLE}`,
  },
  {
    kind: 'invoke',
    name: 'Custom-Attributes header of 1025 characters',
    msg: () => ({ payload: 'x', headers: { 'X-Amzn-SageMaker-Custom-Attributes': 'a'.repeat(1025) } }),
    expect: 'CustomAttributes (msg.headers["X-Amzn-SageMaker-Custom-Attributes"]) must be at most 1024 characters, got 1025',
  },
  {
    kind: 'invoke',
    name: 'Session-Id header with a space',
    msg: () => ({ payload: 'x', headers: { 'X-Amzn-SageMaker-Session-Id': 'bad session!' } }),
    expect:
      'SessionId (msg.headers["X-Amzn-SageMaker-Session-Id"]) must be NEW_SESSION or a session id (letters, digits and hyphens; without "; Expires=…"), got "bad session!"',
  },
  // --- endpoint name from TypedInputs -------------------------------------------------------------
  {
    kind: 'invoke',
    name: 'endpoint name from msg resolving to a number',
    props: { endpointName: 'topic', endpointNameType: 'msg' },
    msg: () => ({ payload: 'x', topic: 42 }),
    expect: 'Endpoint name must be a string, got number',
    good: { topic: 'echo' },
  },
  {
    kind: 'invoke',
    name: 'endpoint name from msg resolving to undefined',
    props: { endpointName: 'topic', endpointNameType: 'msg' },
    msg: () => ({ payload: 'x' }),
    expect: 'Endpoint name must be a string, got undefined',
    good: { topic: 'echo' },
  },
  {
    kind: 'invoke',
    name: 'endpoint name from flow context resolving to an object',
    props: { endpointName: 'ep', endpointNameType: 'flow' },
    setup: (w) => w.context().flow.set('ep', { name: 'echo' }),
    cleanup: (w) => w.context().flow.set('ep', 'echo'),
    msg: () => ({ payload: 'x' }),
    expect: 'Endpoint name must be a string, got an object',
  },
  {
    kind: 'invoke',
    name: 'endpoint name from global context resolving to a number',
    props: { endpointName: 'ep', endpointNameType: 'global' },
    setup: (w) => w.context().global.set('ep', 7),
    cleanup: (w) => w.context().global.set('ep', 'echo'),
    msg: () => ({ payload: 'x' }),
    expect: 'Endpoint name must be a string, got number',
  },
  {
    kind: 'invoke',
    name: 'endpoint name from an unset env variable',
    props: { endpointName: 'SMR_RELIABILITY_UNSET_VARIABLE', endpointNameType: 'env' },
    msg: () => ({ payload: 'x' }),
    expect: 'Endpoint name is empty: set it in the node or pass it in the message',
    cleanup: () => (process.env.SMR_RELIABILITY_UNSET_VARIABLE = 'echo'),
  },
  {
    kind: 'invoke',
    name: 'endpoint name from JSONata resolving to a number',
    props: { endpointName: '$exists(payload.ok) ? "echo" : 1 + 1', endpointNameType: 'jsonata' },
    msg: () => ({ payload: 'x' }),
    expect: 'Endpoint name must be a string, got number',
  },
  {
    kind: 'invoke',
    name: 'endpoint name from msg with a path traversal',
    props: { endpointName: 'topic', endpointNameType: 'msg' },
    msg: () => ({ payload: 'x', topic: 'echo/../x' }),
    expect: `Endpoint name "echo/../x" is not valid: ${NAME_RULE}`,
    good: { topic: 'echo' },
  },
  {
    kind: 'invoke',
    name: 'endpoint name of 64 characters',
    props: { endpointName: 'a'.repeat(64) },
    msg: () => ({ payload: 'x' }),
    expect: 'Endpoint name must be at most 63 characters, got 64',
    perMessage: false,
  },
  {
    kind: 'invoke',
    name: 'endpoint name with an underscore',
    props: { endpointName: 'bad_name' },
    msg: () => ({ payload: 'x' }),
    expect: `Endpoint name "bad_name" is not valid: ${NAME_RULE}`,
    perMessage: false,
  },
  {
    kind: 'invoke',
    name: 'empty endpoint name',
    props: { endpointName: '' },
    msg: () => ({ payload: 'x' }),
    expect: 'Endpoint name is empty: set it in the node or pass it in the message',
    perMessage: false,
  },
  // --- node settings out of range ---------------------------------------------------------------
  {
    kind: 'invoke',
    name: 'concurrency 0',
    props: { concurrency: '0' },
    msg: () => ({ payload: 'x' }),
    expect: 'Concurrency must be a whole number from 1 to 1000, got "0"',
    perMessage: false,
  },
  {
    kind: 'invoke',
    name: 'response format xml',
    props: { responseFormat: 'xml' },
    msg: () => ({ payload: 'x' }),
    expect: 'Response format must be one of auto, json, text, buffer, csv, got "xml"',
    perMessage: false,
  },
  {
    kind: 'invoke',
    name: 'request format yaml',
    props: { requestFormat: 'yaml' },
    msg: () => ({ payload: 'x' }),
    expect: 'Request format must be one of auto, json, jsonlines, csv, text, binary, got "yaml"',
    perMessage: false,
  },
  {
    kind: 'invoke',
    name: 'CustomAttributes setting with non-ASCII',
    props: { customAttributes: 'grüße' },
    msg: () => ({ payload: 'x' }),
    expect: `CustomAttributes ${VISIBLE}`,
    perMessage: false,
  },

  // --- sagemaker-stream ---------------------------------------------------------------------------
  {
    kind: 'stream',
    name: 'payload of 6 MB + 1 byte',
    msg: () => ({ payload: BIG }),
    expect:
      'msg.payload is 6291457 bytes encoded, over the 6291456-byte (6 MB) limit of real-time inference; use sagemaker-invoke-async for larger inputs',
  },
  { kind: 'stream', name: 'circular payload', msg: () => ({ payload: circular() }), expect: 'msg.payload contains a circular reference' },
  {
    kind: 'stream',
    name: 'empty payload',
    msg: () => ({ payload: '' }),
    expect: 'msg.payload is empty: the request body must have at least one byte',
  },
  {
    kind: 'stream',
    name: 'Session-Id NEW_SESSION (streams cannot open sessions)',
    msg: () => ({ payload: 'x', headers: { 'X-Amzn-SageMaker-Session-Id': 'NEW_SESSION' } }),
    expect:
      'SessionId (msg.headers["X-Amzn-SageMaker-Session-Id"]) cannot be NEW_SESSION for a streaming call (open the session with sagemaker-invoke)',
  },
  {
    kind: 'stream',
    name: 'Accept header with \\r\\n',
    msg: () => ({ payload: 'x', headers: { 'X-Amzn-SageMaker-Accept': 'application/json\r\nHost: evil' } }),
    expect: `Accept (msg.headers["Accept"]) ${VISIBLE}`,
  },
  {
    kind: 'stream',
    name: 'endpoint name from msg resolving to an object',
    props: { endpointName: 'topic', endpointNameType: 'msg' },
    msg: () => ({ payload: 'x', topic: { a: 1 } }),
    expect: 'Endpoint name must be a string, got an object',
    good: { topic: 'text-generator' },
  },
  {
    kind: 'stream',
    name: 'idle timeout 0',
    props: { idleTimeout: '0' },
    msg: () => ({ payload: 'x' }),
    expect: 'Idle timeout must be a number of seconds ≥ 0.1, got "0"',
    perMessage: false,
  },
  {
    kind: 'stream',
    name: 'split mode word',
    props: { split: 'word' },
    msg: () => ({ payload: 'x' }),
    expect: 'Split must be part or line, got "word"',
    perMessage: false,
  },
  {
    kind: 'stream',
    name: 'decode mode xml',
    props: { decode: 'xml' },
    msg: () => ({ payload: 'x' }),
    expect: 'Decode must be string, buffer or json, got "xml"',
    perMessage: false,
  },

  // --- sagemaker-invoke-async -----------------------------------------------------------------------
  {
    kind: 'async',
    name: 's3:// URI with a .. segment',
    msg: () => ({ payload: 'x', inputLocation: 's3://input-bucket/../x' }),
    expect: 'msg.inputLocation must not contain "." or ".." path segments',
  },
  {
    kind: 'async',
    name: 's3:// URI with a one-letter bucket and traversal',
    msg: () => ({ payload: 'x', inputLocation: 's3://b/../x' }),
    expect: 'msg.inputLocation names an invalid bucket "b" (the name must be 3–63 characters)',
  },
  {
    kind: 'async',
    name: 'http:// input location',
    msg: () => ({ payload: 'x', inputLocation: 'http://example.com/k' }),
    expect: 'msg.inputLocation must be an S3 URI like s3://bucket/key, got "http://example.com/k"',
  },
  {
    kind: 'async',
    name: 's3:/ input location (one slash)',
    msg: () => ({ payload: 'x', inputLocation: 's3:/b/k' }),
    expect: 'msg.inputLocation must be an S3 URI like s3://bucket/key, got "s3:/b/k"',
  },
  {
    kind: 'async',
    name: 's3:// URI with an upper-case bucket',
    msg: () => ({ payload: 'x', inputLocation: 's3://B_AD/k' }),
    expect:
      'msg.inputLocation names an invalid bucket "B_AD" (the name may contain only lower-case letters, digits, "." and "-", and must start and end with a letter or digit)',
  },
  {
    kind: 'async',
    name: 'input location that is a number',
    msg: () => ({ payload: 'x', inputLocation: 42 }),
    expect: 'msg.inputLocation must be an s3:// URI string, got number',
  },
  {
    kind: 'async',
    name: 'InputLocation header with a . segment',
    msg: () => ({ payload: 'x', headers: { 'X-Amzn-SageMaker-InputLocation': 's3://input-bucket/a/./b' } }),
    expect: 'InputLocation (msg.headers["X-Amzn-SageMaker-InputLocation"]) must not contain "." or ".." path segments',
  },
  {
    kind: 'async',
    name: 'RequestTTLSeconds header 21601',
    msg: () => ({ payload: 'x', headers: { 'X-Amzn-SageMaker-RequestTTLSeconds': '21601' } }),
    expect:
      'RequestTTLSeconds (msg.headers["X-Amzn-SageMaker-RequestTTLSeconds"]) must be a whole number of seconds from 60 to 21600, got "21601"',
  },
  {
    kind: 'async',
    name: 'InvocationTimeoutSeconds header 0',
    msg: () => ({ payload: 'x', headers: { 'X-Amzn-SageMaker-InvocationTimeoutSeconds': '0' } }),
    expect:
      'InvocationTimeoutSeconds (msg.headers["X-Amzn-SageMaker-InvocationTimeoutSeconds"]) must be a whole number of seconds from 1 to 3600, got "0"',
  },
  {
    kind: 'async',
    name: 'Filename header with two dots',
    msg: () => ({ payload: 'x', headers: { 'X-Amzn-SageMaker-Filename': 'a.b.c' } }),
    expect:
      'Filename (msg.headers["X-Amzn-SageMaker-Filename"]) must start with a letter or digit and be letters, digits, - _ and at most one dot, got "a.b.c"',
  },
  {
    kind: 'async',
    name: 'S3OutputPathExtension header with ..',
    msg: () => ({ payload: 'x', headers: { 'X-Amzn-SageMaker-S3OutputPathExtension': '../other' } }),
    expect: 'S3OutputPathExtension (msg.headers["X-Amzn-SageMaker-S3OutputPathExtension"]) must not contain ".." path segments',
  },
  {
    kind: 'async',
    name: 'inline payload over 128,000 bytes with no bucket',
    msg: () => ({ payload: Buffer.alloc(128_001, 0x62) }),
    expect:
      'msg.payload is 128001 bytes encoded, over the 128,000-byte limit for an inline async request: set "Input bucket" in the node so the payload is uploaded to S3, or pass an s3:// URI of the input in msg.inputLocation',
  },
  {
    kind: 'async',
    name: 'empty payload',
    msg: () => ({ payload: Buffer.alloc(0) }),
    expect: 'msg.payload is empty: the request body must have at least one byte',
  },
  {
    kind: 'async',
    name: 'RequestTTLSeconds setting 59',
    props: { requestTTLSeconds: '59' },
    msg: () => ({ payload: 'x' }),
    expect: 'RequestTTLSeconds must be a whole number of seconds from 60 to 21600, got "59"',
    perMessage: false,
  },
  {
    kind: 'async',
    name: 'InvocationTimeoutSeconds setting 3601',
    props: { invocationTimeoutSeconds: '3601' },
    msg: () => ({ payload: 'x' }),
    expect: 'InvocationTimeoutSeconds must be a whole number of seconds from 1 to 3600, got "3601"',
    perMessage: false,
  },
  {
    kind: 'async',
    name: 'poll interval 0',
    props: { pollInterval: '0' },
    msg: () => ({ payload: 'x' }),
    expect: 'pollInterval must be a number of seconds ≥ 0.1, got "0"',
    perMessage: false,
  },

  // --- sagemaker-config (seen through an invoke node) ------------------------------------------------
  {
    kind: 'invoke',
    name: 'config: malformed region',
    config: { region: 'not a region!' },
    msg: () => ({ payload: 'x' }),
    expect: `${UNUSABLE}Region "not a region!" is not a region name such as us-east-1`,
    perMessage: false,
  },
  {
    kind: 'invoke',
    name: 'config: ftp:// endpoint URL',
    config: { endpoint: 'ftp://127.0.0.1/x' },
    msg: () => ({ payload: 'x' }),
    expect: `${UNUSABLE}Endpoint URL must be an http:// or https:// URL without user name, password, query or fragment: ftp://127.0.0.1/x`,
    perMessage: false,
  },
  {
    kind: 'invoke',
    name: 'config: endpoint URL with a password (not echoed)',
    config: { endpoint: 'http://user:hunter2-secret@127.0.0.1:1/' },
    msg: () => ({ payload: 'x' }),
    expect: `${UNUSABLE}Endpoint URL must be an http:// or https:// URL without user name, password, query or fragment: http://***@127.0.0.1:1`,
    perMessage: false,
  },
  {
    kind: 'invoke',
    name: 'config: endpoint URL with an API key in the query and a fragment (not echoed)',
    config: { endpoint: 'https://127.0.0.1:1/base?apikey=Qu3ry-S3cret#Fr4g-S3cret' },
    msg: () => ({ payload: 'x' }),
    expect: `${UNUSABLE}Endpoint URL must be an http:// or https:// URL without user name, password, query or fragment: https://127.0.0.1:1/base?***#***`,
    perMessage: false,
  },
  {
    kind: 'invoke',
    name: 'config: S3 endpoint that is not a URL',
    config: { s3Endpoint: 'not a url' },
    msg: () => ({ payload: 'x' }),
    expect: `${UNUSABLE}S3 endpoint URL must be an http:// or https:// URL without user name, password, query or fragment: not a url`,
    perMessage: false,
  },
  {
    kind: 'invoke',
    name: 'config: keys mode with no keys',
    creds: {},
    msg: () => ({ payload: 'x' }),
    expect: `${UNUSABLE}Credential type "keys" needs an access key ID and a secret access key`,
    perMessage: false,
  },
  {
    kind: 'invoke',
    name: 'config: keys mode with no secret',
    creds: { accessKeyId: 'AKIDONLY' },
    msg: () => ({ payload: 'x' }),
    expect: `${UNUSABLE}Credential type "keys" needs an access key ID and a secret access key`,
    perMessage: false,
  },
  {
    kind: 'invoke',
    name: 'config: profile mode with no profile name',
    config: { credentialType: 'profile' },
    msg: () => ({ payload: 'x' }),
    expect: `${UNUSABLE}Credential type "profile" needs a profile name`,
    perMessage: false,
  },
  {
    kind: 'invoke',
    name: 'config: timeout 0',
    config: { timeout: '0' },
    msg: () => ({ payload: 'x' }),
    expect: `${UNUSABLE}Timeout "0" must be a number of seconds from 0.1 to 3600 (blank = 70)`,
    perMessage: false,
  },
  {
    kind: 'invoke',
    name: 'config: max attempts 11',
    config: { maxAttempts: '11' },
    msg: () => ({ payload: 'x' }),
    expect: `${UNUSABLE}Max attempts "11" must be a whole number from 1 to 10 (blank = 3)`,
    perMessage: false,
  },
  {
    kind: 'invoke',
    name: 'config: retry mode fast',
    config: { retryMode: 'fast' },
    msg: () => ({ payload: 'x' }),
    expect: `${UNUSABLE}Retry mode "fast" must be standard or adaptive`,
    perMessage: false,
  },
  {
    kind: 'invoke',
    name: 'config: role ARN that is not an ARN',
    config: { roleArn: 'admin' },
    msg: () => ({ payload: 'x' }),
    expect: `${UNUSABLE}Role ARN "admin" is not an IAM role ARN such as arn:aws:iam::123456789012:role/name`,
    perMessage: false,
  },
  {
    kind: 'invoke',
    name: 'config: no config node selected',
    props: { config: 'missing-config' },
    msg: () => ({ payload: 'x' }),
    expect: 'No sagemaker-config node is selected, or it is not deployed',
    perMessage: false,
  },
  {
    kind: 'invoke',
    name: 'config: unknown profile',
    config: { credentialType: 'profile', profile: 'no-such-profile' },
    msg: () => ({ payload: 'x' }),
    expect: 'Could not resolve credentials using profile: [no-such-profile] in configuration/credentials file(s).',
    errorName: 'CredentialsProviderError',
    perMessage: false,
  },
];

const TYPES = { invoke: 'sagemaker-invoke', stream: 'sagemaker-stream', async: 'sagemaker-invoke-async' };
const GOOD_ENDPOINT = { invoke: 'echo', stream: 'text-generator', async: 'echo' };

function flowFor(emu, c) {
  const worker = {
    id: 'w',
    type: TYPES[c.kind],
    config: 'c1',
    endpointName: GOOD_ENDPOINT[c.kind],
    endpointNameType: 'str',
    wires: c.kind === 'invoke' ? [['out']] : [['out'], ['out2']],
    ...(c.kind === 'async' ? { waitForResult: false } : {}),
    ...c.props,
  };
  return [
    emulatorConfig(emu, c.config),
    { id: 'cg', type: 'sagemaker-config', region: 'us-east-1', credentialType: 'keys', endpoint: emu.url },
    worker,
    { id: 'out', type: 'helper' },
    { id: 'out2', type: 'helper' },
    // One catch node for both (the test helper registers a core type once per node of it).
    { id: 'catch', type: 'catch', scope: ['w', 'g'], uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper' },
    { id: 'g', type: 'sagemaker-invoke', config: 'cg', endpointName: 'echo', endpointNameType: 'str', wires: [['gout']] },
    { id: 'gout', type: 'helper' },
  ];
}

/**
 * Records every message the helper nodes receive, in order (one persistent listener each:
 * Node-RED's Node does not support several `once('input')` listeners reliably).
 */
function recorder(names) {
  const events = [];
  for (const name of names) helper.getNode(name).on('input', (m) => events.push([name, m]));
  return {
    /** The first [name, msg] at index ≥ since among `wanted`. */
    async next(since, wanted, ms = 10000) {
      const end = Date.now() + ms;
      for (;;) {
        const hit = events.slice(since).find(([n]) => wanted.includes(n));
        if (hit) return hit;
        if (Date.now() > end) throw new Error(`nothing reached ${wanted.join(' / ')} within ${ms} ms`);
        await sleep(5);
      }
    },
    get length() {
      return events.length;
    },
  };
}

/** Waits until the emulator's request counts have not moved for 300 ms (at most 5 s). */
async function settled(emu) {
  const end = Date.now() + 5000;
  let last = requestCount(emu);
  let since = Date.now();
  while (Date.now() - since < 300 && Date.now() < end) {
    await sleep(20);
    const now = requestCount(emu);
    if (now !== last) {
      last = now;
      since = Date.now();
    }
  }
}

describe('reliability: bad-input catalogue', function () {
  this.timeout(20000);
  let emu;
  let tmp;
  const savedEnv = {};
  const ENV = ['AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_PROFILE', 'SMR_RELIABILITY_UNSET_VARIABLE'];
  const cases = CASES.filter((c) => c.kind !== 'async' || asyncNode);
  let asyncJobRan = false;

  before(async function () {
    emu = await startEmulator({ port: 0 });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'smr-bad-input-'));
    for (const k of ENV) savedEnv[k] = process.env[k];
    // An empty shared-files setup, so "unknown profile" is unknown on every machine.
    process.env.AWS_SHARED_CREDENTIALS_FILE = path.join(tmp, 'credentials');
    process.env.AWS_CONFIG_FILE = path.join(tmp, 'config');
    fs.writeFileSync(process.env.AWS_SHARED_CREDENTIALS_FILE, '[other]\naws_access_key_id = x\naws_secret_access_key = y\n');
    fs.writeFileSync(process.env.AWS_CONFIG_FILE, '');
    delete process.env.AWS_PROFILE;
    delete process.env.SMR_RELIABILITY_UNSET_VARIABLE;
  });
  before(function (done) {
    helper.startServer(done);
  });
  afterEach(function () {
    return helper.unload();
  });
  after(async function () {
    for (const k of ENV) {
      if (savedEnv[k] === undefined) delete process.env[k];
      else process.env[k] = savedEnv[k];
    }
    fs.rmSync(tmp, { recursive: true, force: true });
    await new Promise((r) => helper.stopServer(r));
    await emu.close();
  });

  it(`has at least 40 cases across the three worker nodes and the config node (${CASES.length})`, function () {
    console.log(
      `      bad-input catalogue: ${CASES.length} cases (${['invoke', 'stream', 'async'].map((k) => `${k} ${CASES.filter((c) => c.kind === k && !c.name.startsWith('config:')).length}`).join(', ')}, config ${CASES.filter((c) => c.name.startsWith('config:')).length})`,
    );
    assert.ok(CASES.length >= 40);
  });

  for (const c of cases) {
    it(`${TYPES[c.kind]}: ${c.name} → "${c.expect}", no request sent, runtime healthy after`, async function () {
      await load(flowFor(emu, c), { c1: c.creds ?? KEYS, cg: KEYS });
      const w = helper.getNode('w');
      if (c.setup) c.setup(w);
      const rec = recorder(['out', 'out2', 'caught', 'gout']);
      if (asyncJobRan) await settled(emu); // the emulator may still be writing that job's result to S3
      asyncJobRan = c.kind === 'async';
      const before = requestCount(emu);
      w.receive(c.msg());
      const [where, m] = await rec.next(0, ['caught', 'out', 'out2']);
      assert.equal(where, 'caught', `expected an error, got a message on ${where}`);
      assert.equal(m.sagemaker.error.message, c.expect);
      const name = c.errorName ?? 'InputError';
      assert.equal(m.sagemaker.error.name, name);
      assert.equal(m.error.message, `${name}: ${c.expect}`);
      await sleep(20);
      assert.equal(requestCount(emu), before, 'the emulator received a request');

      // Still healthy: a good message succeeds.
      const perMessage = c.perMessage !== false;
      const target = perMessage ? w : helper.getNode('g');
      if (c.cleanup) c.cleanup(w);
      const since = rec.length;
      target.receive({ payload: c.kind === 'stream' && perMessage ? 'hello' : { ok: 1 }, ...(perMessage ? c.good : {}) });
      const [okWhere, okMsg] = await rec.next(since, perMessage ? ['out', 'out2', 'caught'] : ['gout', 'caught']);
      assert.equal(okWhere, perMessage ? 'out' : 'gout', `good message failed: ${okMsg.error?.message}`);
      assert.ok(requestCount(emu) > before);
    });
  }

  it('sagemaker-invoke: Authorization and Host in msg.headers are not forwarded; the SDK signs and the request succeeds', async function () {
    await load(flowFor(emu, { kind: 'invoke' }), { c1: KEYS, cg: KEYS });
    const n = emu.received().length;
    const rec = recorder(['out', 'caught']);
    helper.getNode('w').receive({
      payload: { a: 1 },
      headers: {
        Authorization: 'AWS4-HMAC-SHA256 Credential=AKIAFORGED/20200101/us-east-1/sagemaker/aws4_request, SignedHeaders=host, Signature=00',
        Host: 'evil.example.com',
        'X-Amz-Security-Token': 'forged-token',
        'X-Amz-Date': '20000101T000000Z',
      },
    });
    const [where, m] = await rec.next(0, ['out', 'caught']);
    assert.equal(where, 'out', m.error?.message);
    assert.deepEqual(m.payload, { a: 1 });
    const got = emu
      .received()
      .slice(n)
      .filter((r) => r.operation === 'InvokeEndpoint');
    assert.equal(got.length, 1);
    const h = got[0].headers;
    assert.match(h.authorization, /^AWS4-HMAC-SHA256 Credential=test\//);
    assert.doesNotMatch(h.authorization, /AKIAFORGED/);
    assert.equal(h.host, new URL(emu.url).host);
    assert.equal(h['x-amz-security-token'], undefined);
    assert.notEqual(h['x-amz-date'], '20000101T000000Z');
  });
});
