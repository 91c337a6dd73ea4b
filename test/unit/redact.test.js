'use strict';
const assert = require('node:assert/strict');
const { redactUrl, redactUrlsInText, scrubSecrets, SecretCollector } = require('../../dist/lib/redact.js');

describe('redact: URLs and secrets in user-facing texts', function () {
  it('redactUrl keeps scheme, host, port and path, and hides user info, query and fragment', function () {
    assert.equal(redactUrl('http://127.0.0.1:9080'), 'http://127.0.0.1:9080');
    assert.equal(redactUrl('https://host.example/base/path'), 'https://host.example/base/path');
    assert.equal(redactUrl('http://user:hunter2@127.0.0.1:9080/'), 'http://***@127.0.0.1:9080');
    assert.equal(redactUrl('https://h/?apikey=AbC123'), 'https://h?***');
    assert.equal(redactUrl('https://h/p?#'), 'https://h/p?***#***');
    assert.equal(redactUrl('https://h/p#frag-secret'), 'https://h/p#***');
    assert.equal(redactUrl('https://alice@h/p?k=v#f'), 'https://***@h/p?***#***');
  });

  it('redactUrl cuts the same parts from text that is not a URL', function () {
    assert.equal(redactUrl('user:pw@host/x?key=1'), '***@host/x?***');
    assert.equal(redactUrl('host#secret'), 'host#***');
    assert.equal(redactUrl('not a url'), 'not a url');
    assert.equal(redactUrl('ftp://u:p@x/?q'), 'ftp://***@x?***');
  });

  it('redactUrlsInText redacts every URL in a message and keeps the sentence around it', function () {
    assert.equal(
      redactUrlsInText('connect to https://u:p@h:1/a?token=T0k3n failed, then http://x/#f.'),
      'connect to https://***@h:1/a?*** failed, then http://x#***.',
    );
    assert.equal(redactUrlsInText('no urls here'), 'no urls here');
  });

  it('scrubSecrets removes each secret, URL-encoded too, longest first, and ignores blanks and tiny values', function () {
    const token = 'IQoJb3JpZ2luX2VjE/abc+def==';
    const text = `token ${token} encoded ${encodeURIComponent(token)} key wJalrXUtnFEMI and wJalrXUt`;
    assert.equal(scrubSecrets(text, [token, 'wJalrXUtnFEMI', 'wJalrXUt', '', undefined, 'test']), 'token *** encoded *** key *** and ***');
    assert.equal(scrubSecrets('test endpoint', ['test']), 'test endpoint', 'the emulator key "test" is no secret to hide');
  });

  it('SecretCollector gathers resolved identities and the AWS environment, and scrubs both plus URLs', function () {
    const c = new SecretCollector();
    c.addIdentity({ accessKeyId: 'AKIAKEEPME', secretAccessKey: 'chainSecretValue', sessionToken: 'chainSessionToken' });
    c.addEnvironment({ AWS_SECRET_ACCESS_KEY: 'envSecretValue', AWS_SESSION_TOKEN: 'envTokenValue' });
    assert.equal(c.size, 4);
    // Resolved credentials are refreshed: only the latest are remembered, fixed ones stay.
    const bounded = new SecretCollector(2);
    bounded.add('storedSecretValue');
    for (let i = 0; i < 5; i++) bounded.addIdentity({ secretAccessKey: `resolvedSecret${i}`, sessionToken: `resolvedToken${i}` });
    assert.equal(bounded.size, 3);
    assert.equal(bounded.scrub('storedSecretValue resolvedSecret0 resolvedSecret4 resolvedToken4'), '*** resolvedSecret0 *** ***');
    assert.equal(
      c.scrub('AKIAKEEPME chainSecretValue chainSessionToken envSecretValue envTokenValue at http://h/?x=envTokenValue'),
      'AKIAKEEPME *** *** *** *** at http://h?***',
    );
  });
});
