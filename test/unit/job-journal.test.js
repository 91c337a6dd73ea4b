'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { openFileJournal, openMemoryStore, parseJournal, journalFileName, JOURNAL_FORMAT } = require('../../dist/lib/job-journal.js');

const validate = (j) => (j && typeof j.inferenceId === 'string' ? undefined : 'missing inferenceId');
const job = (i, extra = {}) => ({ inferenceId: `inf-${i}`, msg: { topic: `t${i}` }, ...extra });

describe('job-journal', function () {
  let dir;
  let file;
  beforeEach(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smr-journal-'));
    file = path.join(dir, 'sub', 'node1.jsonl');
  });
  afterEach(function () {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('keeps jobs and their "sending" mark across a reopen; removed jobs are gone', async function () {
    const j = openFileJournal({ file, validate });
    assert.equal(j.restored.size, 0);
    assert.deepEqual(j.warnings, []);
    await Promise.all([j.put('a', job(1)), j.put('b', job(2)), j.put('c', job(3))]);
    await j.mark('b', true);
    await j.remove('c');
    // No close: what is on disk after the awaited writes is what a crash leaves.
    const again = openFileJournal({ file, validate });
    assert.deepEqual([...again.restored.keys()].sort(), ['a', 'b']);
    assert.deepEqual(again.restored.get('a'), { job: job(1), sending: false });
    assert.deepEqual(again.restored.get('b'), { job: job(2), sending: true });
    assert.deepEqual(again.warnings, []);
    await again.close();
    await j.close();
  });

  it('writes each awaited change to the file before resolving, and groups concurrent ones', async function () {
    const j = openFileJournal({ file, validate });
    const writes = [];
    for (let i = 0; i < 50; i++) writes.push(j.put(`k${i}`, job(i)));
    await Promise.all(writes);
    const parsed = parseJournal(fs.readFileSync(file, 'utf8'), validate);
    assert.equal(parsed.jobs.size, 50);
    await j.close();
  });

  it('stays bounded: 1,500 jobs through it leave a file the size of the live ones', async function () {
    const j = openFileJournal({ file, validate, compactMinBytes: 16 * 1024 });
    const big = 'x'.repeat(200);
    let maxSize = 0;
    for (let i = 0; i < 1500; i++) {
      await j.put(`k${i}`, job(i, { pad: big }));
      if (i >= 10) await j.remove(`k${i - 10}`);
      if (i % 100 === 0) maxSize = Math.max(maxSize, fs.statSync(file).size);
    }
    const size = fs.statSync(file).size;
    assert.ok(maxSize < 40 * 1024, `file reached ${maxSize} bytes`);
    assert.ok(size < 40 * 1024, `file is ${size} bytes`);
    await j.close();
    const again = openFileJournal({ file, validate });
    assert.equal(again.restored.size, 10);
    await again.close();
  });

  it('a torn last record (crash while appending) is skipped with a warning', async function () {
    const j = openFileJournal({ file, validate });
    await j.put('a', job(1));
    await j.close();
    fs.appendFileSync(file, '{"put":"b","job":{"inferenceId":"inf-');
    const again = openFileJournal({ file, validate });
    assert.deepEqual([...again.restored.keys()], ['a']);
    assert.match(again.warnings.join('\n'), /incomplete last record/);
    await again.close();
    // The reopen compacted the file: the torn line is gone.
    assert.doesNotMatch(fs.readFileSync(file, 'utf8'), /inf-$/m);
  });

  it('garbage lines and malformed jobs in the middle are skipped and counted', async function () {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(
      file,
      [
        JSON.stringify({ format: JOURNAL_FORMAT, version: 1 }),
        JSON.stringify({ put: 'a', job: job(1) }),
        'not json at all',
        JSON.stringify({ put: 'b', job: { nope: true } }),
        JSON.stringify({ what: 'ever' }),
        JSON.stringify({ put: 'c', job: job(3) }),
        '',
      ].join('\n'),
    );
    const j = openFileJournal({ file, validate });
    assert.deepEqual([...j.restored.keys()].sort(), ['a', 'c']);
    assert.match(j.warnings.join('\n'), /skipped 2 unreadable records/);
    assert.match(j.warnings.join('\n'), /skipped 1 job with missing or malformed fields/);
    await j.close();
  });

  for (const [name, content, pattern] of [
    ['a foreign file', '{"hello":"world"}\n', /not a journal of sagemaker-invoke-async jobs/],
    ['binary junk', Buffer.from([0, 1, 2, 255, 254, 10, 3]), /not a journal/],
    ['a newer version', JSON.stringify({ format: JOURNAL_FORMAT, version: 99 }) + '\n', /version 99/],
  ]) {
    it(`${name} is moved aside with a warning naming where, and an empty journal starts`, async function () {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, content);
      const j = openFileJournal({ file, validate });
      assert.equal(j.restored.size, 0);
      const w = j.warnings.join('\n');
      assert.match(w, pattern);
      const aside = /moved it to (\S+) /.exec(w)[1];
      assert.deepEqual(fs.readFileSync(aside), Buffer.from(content));
      await j.put('a', job(1));
      await j.close();
      assert.equal(openFileJournal({ file, validate }).restored.size, 1);
    });
  }

  it('a leftover temporary file from a crash during compaction is ignored and removed', async function () {
    const j = openFileJournal({ file, validate });
    await j.put('a', job(1));
    await j.close();
    fs.writeFileSync(`${file}.tmp`, 'half a snapshot');
    const again = openFileJournal({ file, validate });
    assert.equal(again.restored.size, 1);
    assert.equal(fs.existsSync(`${file}.tmp`), false);
    await again.close();
  });

  it('destroy() deletes the file; writes after close reject', async function () {
    const j = openFileJournal({ file, validate });
    await j.put('a', job(1));
    await j.destroy();
    assert.equal(fs.existsSync(file), false);
    await assert.rejects(j.put('b', job(2)), /closed/);
  });

  it('throws when the directory cannot be created (the caller falls back)', function () {
    const blocker = path.join(dir, 'a-file');
    fs.writeFileSync(blocker, '');
    assert.throws(() => openFileJournal({ file: path.join(blocker, 'x.jsonl'), validate }));
  });

  it('the memory store carries jobs to the next instance with the same key, and destroy() drops them', async function () {
    const m = openMemoryStore('node-x');
    await m.put('a', job(1));
    await m.mark('a', true);
    await m.close();
    const m2 = openMemoryStore('node-x');
    assert.deepEqual(m2.restored.get('a'), { job: job(1), sending: true });
    await m2.destroy();
    assert.equal(openMemoryStore('node-x').restored.size, 0);
  });

  it('file names from node ids keep to a safe set', function () {
    assert.equal(journalFileName('a1b2c3d4e5f60718'), 'a1b2c3d4e5f60718.jsonl');
    assert.equal(journalFileName('../x/y.z'), '___x_y_z.jsonl');
  });
});
