'use strict';
// The config node's Test connection no longer ships @aws-sdk/client-sts: lib/sts picks the STS
// endpoint and reads GetCallerIdentity's XML itself. These tests hold it to the SDK's own STS
// client (a dev dependency): the same endpoint for every partition, FIPS and dual-stack choice and
// configured-endpoint variable, the same request on the wire, the same answer and errors.
const assert = require('node:assert/strict');
const http = require('node:http');
const { STSClient, GetCallerIdentityCommand } = require('@aws-sdk/client-sts');
const { stsTarget, getCallerIdentity } = require('../../dist/lib/sts.js');
const { ServiceError } = require('../../dist/lib/signed-request.js');

const KEYS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'very-secret-value' };
const REGIONS = [
  'us-east-1',
  'eu-central-1',
  'ap-southeast-2',
  'me-central-1',
  'il-central-1',
  'mx-central-1',
  'cn-north-1',
  'cn-northwest-1',
  'us-gov-west-1',
  'us-iso-east-1',
  'us-isob-east-1',
  'eu-isoe-west-1',
  'us-isof-south-1',
  'eusc-de-east-1',
  'aws-global',
  'aws-cn-global',
  'aws-us-gov-global',
  'xx-unknown-1',
];
const ENV_VARS = ['AWS_ENDPOINT_URL', 'AWS_ENDPOINT_URL_STS', 'AWS_IGNORE_CONFIGURED_ENDPOINT_URLS'];

/** What the SDK's STS client resolves (its endpoint rules, no request sent). */
function sdkEndpoint(params) {
  const client = new STSClient({ region: params.Region, credentials: KEYS });
  try {
    const e = client.config.endpointProvider({ UseGlobalEndpoint: false, UseFIPS: false, UseDualStack: false, ...params });
    const auth = e.properties && e.properties.authSchemes && e.properties.authSchemes[0];
    return { url: e.url.href.replace(/\/$/, ''), signingRegion: (auth && auth.signingRegion) || params.Region };
  } finally {
    client.destroy();
  }
}

/** A 127.0.0.1 server that records each request and answers with `reply(req, body)`. */
async function recorder(reply) {
  const seen = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      seen.push({ method: req.method, url: req.url, headers: req.headers, body });
      const { status, headers, text } = reply(req, body);
      res.writeHead(status, headers);
      res.end(text);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, seen, close: () => new Promise((resolve) => server.close(resolve)) };
}

const IDENTITY_XML =
  '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n  <GetCallerIdentityResult>\n' +
  '    <Arn>arn:aws:sts::123456789012:assumed-role/A&amp;B/s&#101;ssion</Arn>\n    <UserId>AROAEXAMPLE:session</UserId>\n    <Account>123456789012</Account>\n' +
  '  </GetCallerIdentityResult>\n  <ResponseMetadata>\n    <RequestId>rid-1</RequestId>\n  </ResponseMetadata>\n</GetCallerIdentityResponse>\n';
const errorXml = (code, message) =>
  `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n  <Error>\n    <Type>Sender</Type>\n    <Code>${code}</Code>\n` +
  `    <Message>${message}</Message>\n  </Error>\n  <RequestId>rid-2</RequestId>\n</ErrorResponse>\n`;

describe('sts: where GetCallerIdentity goes (as the SDK STS client decides)', function () {
  for (const region of REGIONS) {
    it(`${region}: regional, FIPS, dual-stack and both`, function () {
      for (const [UseFIPS, UseDualStack] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ]) {
        assert.deepEqual(
          stsTarget({ region, useFips: UseFIPS, useDualstack: UseDualStack }, {}),
          sdkEndpoint({ Region: region, UseFIPS, UseDualStack }),
          `FIPS ${UseFIPS}, dual-stack ${UseDualStack}`,
        );
      }
    });
  }

  it('a custom endpoint (the emulator) is used as is, signed for the region; with FIPS or dual-stack it fails as in the SDK', function () {
    const Endpoint = 'http://127.0.0.1:9080';
    assert.deepEqual(stsTarget({ endpoint: Endpoint, region: 'eu-west-1' }, {}), { url: Endpoint, signingRegion: 'eu-west-1' });
    assert.equal(sdkEndpoint({ Region: 'eu-west-1', Endpoint }).url, Endpoint);
    assert.throws(
      () => stsTarget({ endpoint: Endpoint, region: 'eu-west-1', useFips: true }, {}),
      /^Error: Invalid Configuration: FIPS and custom endpoint are not supported$/,
    );
    assert.throws(
      () => sdkEndpoint({ Region: 'eu-west-1', Endpoint, UseFIPS: true }),
      /Invalid Configuration: FIPS and custom endpoint are not supported/,
    );
    assert.throws(
      () => stsTarget({ endpoint: Endpoint, region: 'eu-west-1', useDualstack: true }, {}),
      /^Error: Invalid Configuration: Dualstack and custom endpoint are not supported$/,
    );
    assert.throws(
      () => sdkEndpoint({ Region: 'eu-west-1', Endpoint, UseDualStack: true }),
      /Invalid Configuration: Dualstack and custom endpoint are not supported/,
    );
  });

  it('AWS_ENDPOINT_URL_STS, then AWS_ENDPOINT_URL, unless AWS_IGNORE_CONFIGURED_ENDPOINT_URLS; the config node’s endpoint first', function () {
    const r = 'us-west-2';
    assert.equal(
      stsTarget({ region: r }, { AWS_ENDPOINT_URL_STS: 'http://sts.local', AWS_ENDPOINT_URL: 'http://all.local' }).url,
      'http://sts.local',
    );
    assert.equal(stsTarget({ region: r }, { AWS_ENDPOINT_URL: 'http://all.local' }).url, 'http://all.local');
    assert.equal(
      stsTarget({ region: r }, { AWS_ENDPOINT_URL_STS: 'http://sts.local', AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'TRUE' }).url,
      'https://sts.us-west-2.amazonaws.com',
    );
    assert.equal(
      stsTarget({ region: r, endpoint: 'http://emu.local' }, { AWS_ENDPOINT_URL_STS: 'http://sts.local' }).url,
      'http://emu.local',
    );
  });
});

describe('sts: GetCallerIdentity on the wire, beside the SDK STS client', function () {
  let saved;
  beforeEach(function () {
    saved = Object.fromEntries(ENV_VARS.map((k) => [k, process.env[k]]));
    for (const k of ENV_VARS) delete process.env[k];
  });
  afterEach(function () {
    for (const k of ENV_VARS) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
  });

  async function both(reply, { env = {} } = {}) {
    const server = await recorder(reply);
    try {
      Object.assign(process.env, Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.replace('$URL', server.url)])));
      const sdk = new STSClient({
        region: 'eu-west-1',
        credentials: KEYS,
        maxAttempts: 1,
        ...(env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL ? {} : { endpoint: server.url }),
      });
      const settle = (p) =>
        p.then(
          (value) => ({ value }),
          (error) => ({ error }),
        );
      const theirs = await settle(sdk.send(new GetCallerIdentityCommand({})));
      sdk.destroy();
      const target = stsTarget({
        endpoint: env.AWS_ENDPOINT_URL_STS || env.AWS_ENDPOINT_URL ? undefined : server.url,
        region: 'eu-west-1',
      });
      const ours = await settle(getCallerIdentity({ target, credentials: KEYS }));
      return { theirs, ours, seen: server.seen };
    } finally {
      await server.close();
    }
  }

  it('sends the same signed Query request and reads the same identity (XML entities included)', async function () {
    const { theirs, ours, seen } = await both(() => ({
      status: 200,
      headers: { 'content-type': 'text/xml', 'x-amzn-requestid': 'rid-1' },
      text: IDENTITY_XML,
    }));
    assert.ifError(theirs.error);
    assert.ifError(ours.error);
    for (const k of ['Account', 'Arn', 'UserId']) assert.equal(ours.value[k], theirs.value[k], k);
    assert.equal(ours.value.Arn, 'arn:aws:sts::123456789012:assumed-role/A&B/session');
    const [sdkReq, ourReq] = seen;
    assert.equal(ourReq.method, sdkReq.method);
    assert.equal(ourReq.url, sdkReq.url);
    assert.equal(ourReq.body, sdkReq.body);
    assert.equal(ourReq.headers['content-type'], sdkReq.headers['content-type']);
    const scope = (h) => /Credential=[^/]+\/\d{8}\/([^,]+),/.exec(h.authorization)[1];
    assert.equal(scope(ourReq.headers), scope(sdkReq.headers));
    assert.equal(scope(ourReq.headers), 'eu-west-1/sts/aws4_request');
  });

  it('goes to AWS_ENDPOINT_URL_STS when it is set, as the SDK does', async function () {
    const { theirs, ours, seen } = await both(() => ({ status: 200, headers: { 'content-type': 'text/xml' }, text: IDENTITY_XML }), {
      env: { AWS_ENDPOINT_URL_STS: '$URL', AWS_ENDPOINT_URL: 'http://127.0.0.1:9/' },
    });
    assert.ifError(theirs.error);
    assert.ifError(ours.error);
    assert.equal(seen.length, 2);
  });

  it('turns STS XML errors into errors named for the code, with message, HTTP status and request id, as the SDK does', async function () {
    const cases = [
      [403, 'SignatureDoesNotMatch', 'The request signature we calculated does not match the signature you provided.'],
      [403, 'InvalidClientTokenId', 'The security token included in the request is invalid.'],
      [400, 'ExpiredToken', 'The security token included in the request is expired &amp; gone'],
    ];
    for (const [status, code, message] of cases) {
      const { theirs, ours } = await both(() => ({
        status,
        headers: { 'content-type': 'text/xml', 'x-amzn-requestid': 'rid-2' },
        text: errorXml(code, message),
      }));
      assert.ok(ours.error instanceof ServiceError, String(ours.error));
      assert.equal(ours.error.name, theirs.error.name);
      assert.equal(ours.error.message, theirs.error.message);
      assert.equal(ours.error.$metadata.httpStatusCode, theirs.error.$metadata.httpStatusCode);
      assert.equal(ours.error.$metadata.requestId, theirs.error.$metadata.requestId);
    }
  });

  it('an answer that is not STS XML fails with the HTTP status, never as a success', async function () {
    const { ours } = await both(() => ({ status: 502, headers: { 'content-type': 'text/html' }, text: '<html>Bad gateway</html>' }));
    assert.equal(ours.error.name, 'HTTP502');
    assert.equal(ours.error.$metadata.httpStatusCode, 502);
    const ok = await both(() => ({ status: 200, headers: { 'content-type': 'text/html' }, text: '<html>captive portal</html>' }));
    assert.equal(ok.ours.error.name, 'SerializationException');
  });
});
