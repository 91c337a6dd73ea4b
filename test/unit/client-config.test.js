'use strict';
const assert = require('node:assert/strict');
const {
  parseSettings,
  defaultSessionName,
  stsEndpointFor,
  httpHandlerOptions,
  runtimeClientOptions,
  s3ClientOptions,
} = require('../../dist/lib/client-config.js');
const { memoizeCredentials, createCredentialProvider } = require('../../dist/lib/credentials.js');

const KEYS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'very-secret-value', sessionToken: 'token-value' };

function ok(raw, creds) {
  const r = parseSettings(raw, creds);
  assert.equal(r.ok, true, r.ok ? '' : JSON.stringify(r.problem));
  return r.settings;
}
// The text a user sees: the problem's code and params through the locale file.
const ERRORS = require('../../nodes/locales/en-US/sagemaker-config.json')['sagemaker-config'].errors;
function bad(raw, creds) {
  const r = parseSettings(raw, creds);
  assert.equal(r.ok, false, 'expected a problem');
  const message = ERRORS[r.problem.code].replace(/__(\w+)__/g, (m, k) => (k in r.problem.params ? String(r.problem.params[k]) : m));
  return { ...r.problem, message };
}

describe('client-config: parseSettings', function () {
  it('gives the documented defaults for an empty definition (chain, 70 s, 3 attempts, standard)', function () {
    const s = ok({});
    assert.equal(s.region, undefined);
    assert.equal(s.credentialType, 'chain');
    assert.equal(s.timeoutMs, 70000);
    assert.equal(s.maxAttempts, 3);
    assert.equal(s.retryMode, 'standard');
    assert.equal(s.s3ForcePathStyle, false);
    assert.equal(s.endpoint, undefined);
    assert.equal(s.assumeRole, undefined);
  });

  it('treats blank strings (an unset ${ENV} after substitution) as unset', function () {
    const s = ok({ region: '  ', endpoint: '', s3Endpoint: '', timeout: '', maxAttempts: '', retryMode: '', credentialType: '' });
    assert.equal(s.region, undefined);
    assert.equal(s.endpoint, undefined);
    assert.equal(s.timeoutMs, 70000);
    assert.equal(s.credentialType, 'chain');
  });

  it('accepts region names of every partition', function () {
    for (const region of ['us-east-1', 'eu-central-2', 'us-gov-west-1', 'cn-north-1', 'ap-southeast-4', 'us-isob-east-1', 'il-central-1']) {
      assert.equal(ok({ region }).region, region);
    }
  });

  it('rejects a malformed region, naming it', function () {
    for (const region of ['useast1', 'US-EAST-1', 'us-east', 'eu_west_1', 'https://x']) {
      const p = bad({ region });
      assert.equal(p.code, 'region');
      assert.match(p.message, new RegExp(region.replace(/[/.]/g, '\\$&')));
    }
  });

  it('keys mode needs both the access key id and the secret, and never echoes them', function () {
    assert.equal(bad({ credentialType: 'keys' }, {}).code, 'keysMissing');
    const p = bad({ credentialType: 'keys' }, { accessKeyId: 'AKID', secretAccessKey: '' });
    assert.equal(p.code, 'keysMissing');
    const q = bad({ credentialType: 'keys' }, { secretAccessKey: 'very-secret-value' });
    assert.doesNotMatch(q.message, /very-secret-value/);
    const s = ok({ credentialType: 'keys' }, KEYS);
    assert.deepEqual(s.keys, KEYS);
    assert.equal(ok({ credentialType: 'keys' }, { ...KEYS, sessionToken: '' }).keys.sessionToken, undefined);
  });

  it('profile mode needs a profile name', function () {
    assert.equal(bad({ credentialType: 'profile', profile: ' ' }).code, 'profileMissing');
    assert.equal(ok({ credentialType: 'profile', profile: 'dev' }).profile, 'dev');
  });

  it('rejects an unknown credential type', function () {
    assert.equal(bad({ credentialType: 'magic' }).code, 'credentialType');
  });

  it('iot: validates endpoint, role alias and certificate; PEM credentials win over file paths', function () {
    const raw = { credentialType: 'iot', iotCredentialEndpoint: 'abc.credentials.iot.us-east-1.amazonaws.com', iotRoleAlias: 'alias' };
    const p = bad({ ...raw, iotRoleAlias: '' }, { iotCert: 'C', iotKey: 'K' });
    assert.equal(p.code, 'iot');
    assert.match(p.message, /^AWS IoT certificate: IoT role alias is required/);
    assert.match(bad(raw, { iotCert: 'C' }).message, /private key is required/);
    const s = ok({ ...raw, iotThingName: 'thing', iotCertFile: '/c.pem', iotKeyFile: '/k.pem', iotCaFile: ' ' }, { iotKey: 'KEYPEM' });
    assert.deepEqual(s.iot, {
      endpoint: 'abc.credentials.iot.us-east-1.amazonaws.com',
      roleAlias: 'alias',
      thingName: 'thing',
      certFile: '/c.pem',
      key: 'KEYPEM',
    });
    // The key never shows in a problem text.
    assert.ok(!bad({ ...raw, iotCredentialEndpoint: 'http://x' }, { iotCert: 'C', iotKey: 'KEYPEM' }).message.includes('KEYPEM'));
  });

  it('assume role: validates the ARN, external id and session name; defaults the session name from the node id', function () {
    const s = ok({ id: 'a1b2c3d4.e5f6', roleArn: 'arn:aws:iam::123456789012:role/path/MyRole', externalId: 'ext-123' });
    assert.deepEqual(s.assumeRole, {
      roleArn: 'arn:aws:iam::123456789012:role/path/MyRole',
      externalId: 'ext-123',
      roleSessionName: 'node-red-a1b2c3d4.e5f6',
    });
    assert.equal(ok({ roleArn: 'arn:aws-us-gov:iam::123456789012:role/r', roleSessionName: 'mine' }).assumeRole.roleSessionName, 'mine');
    assert.equal(bad({ roleArn: 'arn:aws:iam::12345:role/r' }).code, 'roleArn');
    assert.equal(bad({ roleArn: 'arn:aws:iam::123456789012:user/u' }).code, 'roleArn');
    assert.equal(bad({ roleArn: 'arn:aws:iam::123456789012:role/r', externalId: 'x' }).code, 'externalId');
    assert.equal(bad({ roleArn: 'arn:aws:iam::123456789012:role/r', roleSessionName: 'has space' }).code, 'roleSessionName');
  });

  it('normalises endpoint URLs (trailing slash removed) and rejects malformed ones', function () {
    assert.equal(ok({ endpoint: 'http://127.0.0.1:9080/' }).endpoint, 'http://127.0.0.1:9080');
    assert.equal(
      ok({ endpoint: 'https://vpce-1.runtime.sagemaker.us-east-1.vpce.amazonaws.com/base//' }).endpoint,
      'https://vpce-1.runtime.sagemaker.us-east-1.vpce.amazonaws.com/base',
    );
    assert.equal(ok({ s3Endpoint: 'http://localhost:4569' }).s3Endpoint, 'http://localhost:4569');
    for (const endpoint of ['localhost:9080', 'ftp://x', 'http://', 'not a url', 'http://h/?q=1']) {
      const p = bad({ endpoint });
      assert.equal(p.code, 'endpoint');
      assert.match(p.message, /Endpoint URL/);
    }
    assert.match(bad({ s3Endpoint: 'nope' }).message, /S3 endpoint URL/);
  });

  it('takes an optional SQS endpoint (blank: the regional SQS) and gives SQS requests room for a 20 s long poll', function () {
    const { sqsClientOptions, sqsTimeoutMs } = require('../../dist/lib/client-config.js');
    assert.equal(ok({}).sqsEndpoint, undefined);
    const s = ok({ sqsEndpoint: 'http://127.0.0.1:9324/' });
    assert.equal(s.sqsEndpoint, 'http://127.0.0.1:9324');
    assert.match(bad({ sqsEndpoint: 'nope' }).message, /SQS endpoint URL/);
    const provider = async () => ({ accessKeyId: 'a', secretAccessKey: 'b' });
    assert.equal(sqsClientOptions(s, provider).endpoint, 'http://127.0.0.1:9324');
    assert.equal(sqsClientOptions(ok({}), provider).endpoint, undefined);
    assert.equal(sqsTimeoutMs({ timeoutMs: 5000 }), 30000);
    assert.equal(sqsTimeoutMs({ timeoutMs: 70000 }), 70000);
  });

  it('rejects URLs with a user name, password, query or fragment, echoing them without those parts', function () {
    const p = bad({ endpoint: 'http://user:hunter2@127.0.0.1:9080' });
    assert.equal(p.code, 'endpoint');
    assert.doesNotMatch(p.message, /hunter2|user:/);
    assert.match(p.message, /: http:\/\/\*\*\*@127\.0\.0\.1:9080$/);
    const q = bad({ endpoint: 'https://h.example/base?apikey=K3y-In-Query#frag-S3cret' });
    assert.doesNotMatch(q.message, /K3y|S3cret|apikey/);
    assert.match(q.message, /: https:\/\/h\.example\/base\?\*\*\*#\*\*\*$/);
  });

  it('timeout: seconds, fractional ≥ 0.1, ≤ 3600; blank = 70', function () {
    assert.equal(ok({ timeout: '0.1' }).timeoutMs, 100);
    assert.equal(ok({ timeout: 2.5 }).timeoutMs, 2500);
    assert.equal(ok({ timeout: '3600' }).timeoutMs, 3600000);
    for (const timeout of ['0', '0.05', '-1', 'abc', '3601']) assert.equal(bad({ timeout }).code, 'timeout');
  });

  it('maxAttempts: whole number 1–10; retryMode standard|adaptive', function () {
    assert.equal(ok({ maxAttempts: '1' }).maxAttempts, 1);
    assert.equal(ok({ maxAttempts: 10 }).maxAttempts, 10);
    for (const maxAttempts of ['0', '11', '2.5', 'x']) assert.equal(bad({ maxAttempts }).code, 'maxAttempts');
    assert.equal(ok({ retryMode: 'adaptive' }).retryMode, 'adaptive');
    assert.equal(bad({ retryMode: 'legacy' }).code, 'retryMode');
  });

  it('s3ForcePathStyle accepts true or "true"', function () {
    assert.equal(ok({ s3ForcePathStyle: true }).s3ForcePathStyle, true);
    assert.equal(ok({ s3ForcePathStyle: 'true' }).s3ForcePathStyle, true);
    assert.equal(ok({ s3ForcePathStyle: 'false' }).s3ForcePathStyle, false);
  });
});

describe('client-config: helpers', function () {
  it('defaultSessionName is node-red-<id>, cut to 64 characters with STS-safe characters', function () {
    assert.equal(defaultSessionName('abc'), 'node-red-abc');
    assert.equal(defaultSessionName('a b/c'), 'node-red-a-b-c');
    assert.equal(defaultSessionName('x'.repeat(100)).length, 64);
  });

  it('stsEndpointFor: SDK env vars win, a non-AWS custom endpoint serves STS, an AWS host does not', function () {
    assert.equal(stsEndpointFor({ endpoint: 'http://127.0.0.1:9080' }, {}), 'http://127.0.0.1:9080');
    assert.equal(stsEndpointFor({ endpoint: 'http://127.0.0.1:9080' }, { AWS_ENDPOINT_URL_STS: 'http://x' }), undefined);
    assert.equal(stsEndpointFor({ endpoint: 'http://127.0.0.1:9080' }, { AWS_ENDPOINT_URL: 'http://x' }), undefined);
    assert.equal(stsEndpointFor({ endpoint: 'https://runtime-fips.sagemaker.us-east-1.amazonaws.com' }, {}), undefined);
    assert.equal(stsEndpointFor({ endpoint: 'https://vpce-0a.runtime.sagemaker.cn-north-1.vpce.amazonaws.com.cn' }, {}), undefined);
    assert.equal(stsEndpointFor({}, {}), undefined);
  });

  it('every problem parseSettings reports has its text, with every placeholder filled, in the locale file', function () {
    const texts = ERRORS;
    const problems = [
      bad({ region: 'moon' }),
      bad({ credentialType: 'magic' }),
      bad({ credentialType: 'keys' }),
      bad({ credentialType: 'profile' }),
      bad({ credentialType: 'iot' }),
      bad({ roleArn: 'nope' }),
      bad({ roleArn: 'arn:aws:iam::123456789012:role/r', externalId: 'x' }),
      bad({ roleArn: 'arn:aws:iam::123456789012:role/r', roleSessionName: 'x' }),
      bad({ endpoint: 'ftp://x' }),
      bad({ timeout: '0' }),
      bad({ maxAttempts: '11' }),
      bad({ retryMode: 'fast' }),
    ];
    for (const p of problems) {
      assert.equal(typeof texts[p.code], 'string', `no locale text for ${p.code}`);
      for (const [, name] of texts[p.code].matchAll(/__(\w+)__/g)) assert.ok(name in p.params, `${p.code} leaves __${name}__`);
    }
    assert.deepEqual([...new Set(problems.map((p) => p.code))].length, problems.length);
  });

  it('the HTTP handler uses an idle socket timeout (not a total time limit) and keep-alive agents', function () {
    const o = httpHandlerOptions({ timeoutMs: 1500 });
    assert.equal(o.socketTimeout, 1500);
    assert.equal(o.connectionTimeout, 1500);
    assert.equal(o.requestTimeout, undefined);
    assert.equal(o.httpAgent.keepAlive, true);
    assert.ok(o.httpAgent.maxSockets >= 64);
    assert.equal(o.httpsAgent.keepAlive, true);
  });

  it('runtime client options carry region, endpoint, retries; profile only in profile mode', function () {
    const creds = async () => ({ accessKeyId: 'a', secretAccessKey: 'b' });
    const s = ok({ region: 'eu-west-1', endpoint: 'http://h:1/', maxAttempts: '5', retryMode: 'adaptive' });
    const o = runtimeClientOptions(s, creds);
    assert.deepEqual(
      { ...o, credentials: undefined },
      {
        region: 'eu-west-1',
        endpoint: 'http://h:1',
        maxAttempts: 5,
        retryMode: 'adaptive',
        credentials: undefined,
      },
    );
    assert.equal(runtimeClientOptions(ok({ credentialType: 'profile', profile: 'p' }), creds).profile, 'p');
    assert.equal('region' in runtimeClientOptions(ok({}), creds), false);
  });

  it('S3 options: a custom endpoint switches checksums to WHEN_REQUIRED; path style follows the flag', function () {
    const creds = async () => ({ accessKeyId: 'a', secretAccessKey: 'b' });
    const custom = s3ClientOptions(ok({ s3Endpoint: 'http://127.0.0.1:4569', s3ForcePathStyle: true }), creds);
    assert.equal(custom.endpoint, 'http://127.0.0.1:4569');
    assert.equal(custom.forcePathStyle, true);
    assert.equal(custom.requestChecksumCalculation, 'WHEN_REQUIRED');
    assert.equal(custom.responseChecksumValidation, 'WHEN_REQUIRED');
    const aws = s3ClientOptions(ok({ endpoint: 'http://127.0.0.1:9080' }), creds);
    assert.equal(aws.endpoint, undefined);
    assert.equal(aws.requestChecksumCalculation, undefined);
    assert.equal(aws.forcePathStyle, undefined);
  });
});

describe('credentials', function () {
  it('memoizeCredentials shares one resolution, refreshes near expiry and retries after a failure', async function () {
    let calls = 0;
    let now = 0;
    let fail = true;
    const provider = memoizeCredentials(
      async () => {
        calls += 1;
        if (fail) throw new Error('boom');
        return { accessKeyId: `k${calls}`, secretAccessKey: 's', expiration: new Date(now + 3600_000) };
      },
      () => now,
    );
    await assert.rejects(provider(), /boom/);
    fail = false;
    const [a, b] = await Promise.all([provider(), provider()]);
    assert.equal(a, b);
    assert.equal(calls, 2);
    now += 3600_000 - 60_000; // inside the 5-minute refresh margin
    const c = await provider();
    assert.notEqual(c.accessKeyId, a.accessKeyId);
  });

  it('keys mode resolves to the static keys', async function () {
    const c = await createCredentialProvider(ok({ credentialType: 'keys' }, KEYS))();
    assert.equal(c.accessKeyId, KEYS.accessKeyId);
    assert.equal(c.secretAccessKey, KEYS.secretAccessKey);
    assert.equal(c.sessionToken, KEYS.sessionToken);
  });
});
