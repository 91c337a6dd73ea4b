'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { storedJobProblem, isStoredJob, toJsonCopy, fromJsonCopy, openJobStore } = require('../../dist/lib/async-jobs.js');

const job = { inferenceId: 'i1', endpointName: 'e', outputLocation: 's3://b/k.out', startedAt: 1, msg: { topic: 't' } };

describe('async-jobs', function () {
  it('accepts a stored job and names what is wrong with one that is not', function () {
    assert.equal(storedJobProblem(job), undefined);
    assert.ok(isStoredJob(job));
    assert.equal(storedJobProblem(null), 'not an object');
    assert.equal(storedJobProblem({ ...job, startedAt: 'x' }), 'missing fields');
    assert.equal(storedJobProblem({ ...job, failureLocation: 3 }), 'bad failureLocation');
  });

  it('copies a message without payload, req and res, and brings Buffers back as Buffers', function () {
    const copy = toJsonCopy({ _msgid: 'm', payload: 'big', req: {}, res: {}, topic: 't', raw: Buffer.from('ab') });
    assert.deepEqual(Object.keys(copy).sort(), ['_msgid', 'raw', 'topic']);
    const back = fromJsonCopy(copy);
    assert.ok(Buffer.isBuffer(back.raw));
    assert.equal(back.raw.toString(), 'ab');
    assert.deepEqual(fromJsonCopy(undefined), {});
    const circular = { a: 1 };
    circular.self = circular;
    assert.throws(() => toJsonCopy(circular));
  });

  it('opens the journal in <userDir>/sagemaker-invoke-async, and a memory store without a user directory', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smr-async-jobs-'));
    try {
      const warnings = [];
      const store = openJobStore(dir, 'n1', (kind, file, message) => warnings.push({ kind, file, message }));
      assert.equal(path.dirname(store.where), path.join(dir, 'sagemaker-invoke-async'));
      await store.put('j1', job);
      await store.close();
      const again = openJobStore(dir, 'n1', () => undefined);
      assert.deepEqual(again.restored.get('j1').job, job);
      await again.destroy();
      assert.deepEqual(warnings, []);
      assert.equal(openJobStore(undefined, 'n2', () => undefined).where, 'memory');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
