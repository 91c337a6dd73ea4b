'use strict';
const assert = require('node:assert/strict');
const {
  validateIotSettings,
  parseIotEndpoint,
  parseCredentials,
  fromIotCertificate,
  IotCredentialsError,
} = require('../../dist/lib/iot-credentials.js');

const good = {
  endpoint: 'c1a2b3.credentials.iot.eu-west-1.amazonaws.com',
  roleAlias: 'sagemaker-invoke',
  thingName: 'gateway-01',
  hasCert: true,
  hasKey: true,
};

describe('iot-credentials settings', function () {
  it('accepts a complete configuration with or without a thing name', function () {
    assert.equal(validateIotSettings(good), undefined);
    assert.equal(validateIotSettings({ ...good, thingName: '' }), undefined);
  });

  it('requires the credential endpoint and says how to find it', function () {
    assert.match(
      validateIotSettings({ ...good, endpoint: '' }),
      /endpoint is required.*describe-endpoint --endpoint-type iot:CredentialProvider/,
    );
  });

  it('rejects an http:// endpoint, a path, and a non-host', function () {
    assert.match(validateIotSettings({ ...good, endpoint: 'http://x.example.com' }), /must use https/);
    assert.match(validateIotSettings({ ...good, endpoint: 'https://x.example.com/role-aliases' }), /without a path/);
    assert.match(validateIotSettings({ ...good, endpoint: 'not a host' }), /not a host name/);
  });

  it('requires a role alias matching [\\w=,@-]{1,128}', function () {
    assert.match(validateIotSettings({ ...good, roleAlias: '' }), /role alias is required/);
    assert.match(validateIotSettings({ ...good, roleAlias: 'has space' }), /role alias must be 1-128/);
    assert.match(validateIotSettings({ ...good, roleAlias: 'a'.repeat(129) }), /role alias must be 1-128/);
    assert.equal(validateIotSettings({ ...good, roleAlias: 'a'.repeat(128) }), undefined);
  });

  it('rejects a thing name outside [a-zA-Z0-9:_-]{1,128}', function () {
    assert.match(validateIotSettings({ ...good, thingName: 'bad/name' }), /thing name must be 1-128/);
  });

  it('requires a certificate and a private key', function () {
    assert.match(validateIotSettings({ ...good, hasCert: false }), /certificate is required/);
    assert.match(validateIotSettings({ ...good, hasKey: false }), /private key is required/);
  });
});

describe('iot-credentials endpoint parsing', function () {
  it('takes a host name, host:port, or an https URL with a trailing slash', function () {
    assert.deepEqual(parseIotEndpoint('abc.credentials.iot.us-east-1.amazonaws.com'), {
      host: 'abc.credentials.iot.us-east-1.amazonaws.com',
      port: 443,
    });
    assert.deepEqual(parseIotEndpoint('127.0.0.1:8443'), { host: '127.0.0.1', port: 8443 });
    assert.deepEqual(parseIotEndpoint(' https://abc.example.com/ '), { host: 'abc.example.com', port: 443 });
  });
});

describe('iot-credentials response parsing', function () {
  it('turns the credentials document into an SDK identity with a Date expiration', function () {
    const c = parseCredentials(
      JSON.stringify({
        credentials: { accessKeyId: 'ASIAX', secretAccessKey: 'sec', sessionToken: 'tok', expiration: '2030-01-02T03:04:05Z' },
      }),
    );
    assert.deepEqual(c, {
      accessKeyId: 'ASIAX',
      secretAccessKey: 'sec',
      sessionToken: 'tok',
      expiration: new Date('2030-01-02T03:04:05Z'),
    });
  });

  it('fails clearly on a body that is not JSON or lacks a field', function () {
    assert.throws(() => parseCredentials('<html>'), /not JSON/);
    assert.throws(() => parseCredentials('{"credentials":{"accessKeyId":"A"}}'), /no usable credentials/);
    assert.throws(
      () =>
        parseCredentials(
          JSON.stringify({
            credentials: { accessKeyId: 'A', secretAccessKey: 'S', sessionToken: 'T', expiration: 'soon' },
          }),
        ),
      /no usable credentials/,
    );
  });
});

describe('fromIotCertificate', function () {
  it('refuses unusable settings when the provider is built, before any network call', function () {
    assert.throws(() => fromIotCertificate({ endpoint: '', roleAlias: 'a', cert: 'x', key: 'y' }), IotCredentialsError);
  });

  it('names an unreadable certificate file by path without reading any key', async function () {
    const provider = fromIotCertificate({ endpoint: '127.0.0.1:1', roleAlias: 'a', certFile: '/nonexistent/device.pem.crt', key: 'k' });
    await assert.rejects(provider(), (err) => {
      assert.equal(err.name, 'IotCredentialsError');
      assert.match(err.message, /cannot read the IoT certificate file \/nonexistent\/device\.pem\.crt: ENOENT/);
      return true;
    });
  });

  it('never echoes PEM text it could not use', async function () {
    const key = '-----BEGIN PRIVATE KEY-----\nTk9UQUtFWQ==\n-----END PRIVATE KEY-----\n';
    const provider = fromIotCertificate({ endpoint: '127.0.0.1:1', roleAlias: 'a', cert: 'not a certificate', key });
    await assert.rejects(provider(), (err) => {
      assert.match(err.message, /cannot use the IoT device certificate, private key or CA/);
      assert.ok(!err.message.includes('Tk9UQUtFWQ'));
      assert.ok(!String(err.stack).includes('Tk9UQUtFWQ'));
      return true;
    });
  });
});

describe('normalisePem', function () {
  const { normalisePem } = require('../../dist/lib/iot-credentials.js');
  const body = 'A'.repeat(64) + 'B'.repeat(64) + 'C'.repeat(10);
  const wrapped = `-----BEGIN CERTIFICATE-----\n${'A'.repeat(64)}\n${'B'.repeat(64)}\n${'C'.repeat(10)}\n-----END CERTIFICATE-----\n`;

  it('re-wraps a PEM block pasted into a one-line field (line breaks lost or turned into spaces)', function () {
    assert.equal(normalisePem(`-----BEGIN CERTIFICATE-----${body}-----END CERTIFICATE-----`), wrapped);
    assert.equal(normalisePem(`  -----BEGIN CERTIFICATE----- ${body.slice(0, 70)} ${body.slice(70)} -----END CERTIFICATE-----`), wrapped);
  });

  it('keeps a well-formed PEM (CRLF becomes LF) and every block of a bundle', function () {
    assert.equal(normalisePem(wrapped.replace(/\n/g, '\r\n')), wrapped);
    assert.equal(normalisePem(wrapped + wrapped), wrapped + wrapped);
  });

  it('leaves blocks with headers (legacy encrypted keys) untouched', function () {
    const enc =
      '-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n';
    assert.equal(normalisePem(enc), enc);
  });
});
