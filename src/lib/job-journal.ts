/**
 * Durable store of pending jobs: an append-only journal file of JSON lines, each append flushed
 * with fsync before its promise resolves, compacted by writing a snapshot to a temporary file,
 * fsync, and renaming it over the journal (an atomic replace). Appends made while a flush is
 * running are written together by the next one (group commit), so a burst of jobs costs a few
 * fsyncs, not one each.
 *
 * Records: a header line, then `{"put":id,"job":…}`, `{"mark":id,"sending":bool}` (an outcome
 * is being sent: after a crash it may have been sent already) and `{"del":id}`.
 *
 * Opening never throws for the content of the file: a foreign or unreadable file is moved aside
 * (`<file>.unreadable-<time>`), a torn last line (the process stopped while appending) or a bad
 * record is skipped, and each case is reported in `warnings`. It throws only when the directory or
 * file cannot be created or written.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const JOURNAL_FORMAT = 'node-red-contrib-sagemaker-runtime/async-jobs';
export const JOURNAL_VERSION = 1;

export interface RestoredJob<J> {
  job: J;
  /** An outcome was being sent when the journal was last written: it may have been sent. */
  sending: boolean;
}

/** What the async node needs from a pending-job store. */
export interface JobStore<J> {
  /** Where the jobs are kept (a file path, or "memory"). */
  readonly where: string;
  /** The jobs found when the store was opened. */
  readonly restored: Map<string, RestoredJob<J>>;
  /** Problems found when opening (foreign file, skipped records); empty when all was well. */
  readonly warnings: string[];
  /** Adds or replaces a job; resolves once it is durable. */
  put(id: string, job: J): Promise<void>;
  /** Sets or clears the "outcome being sent" mark; resolves once it is durable. */
  mark(id: string, sending: boolean): Promise<void>;
  /** Forgets a job; resolves once that is durable. */
  remove(id: string): Promise<void>;
  /** Number of jobs held. */
  readonly size: number;
  /** Waits for every write, compacts the file, then releases it. Later writes reject. */
  close(): Promise<void>;
  /** Closes and deletes the store (the node was removed from the flows). */
  destroy(): Promise<void>;
}

export interface FileJournalOptions {
  file: string;
  /** Returns why a stored job is unusable, or undefined when it is fine. */
  validate?(job: unknown): string | undefined;
  /** Compact when the file is over this size and over twice the live records (default 64 KiB). */
  compactMinBytes?: number;
}

interface Live<J> {
  job: J;
  line: string;
  sending: boolean;
}

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

function header(): string {
  return JSON.stringify({ format: JOURNAL_FORMAT, version: JOURNAL_VERSION }) + '\n';
}

function fsyncDir(dir: string): void {
  // Makes the rename itself durable; not every platform can open a directory (Windows), which is fine.
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Writes `text` to `file` atomically: temporary file, fsync, rename, fsync of the directory. */
export function writeFileAtomic(file: string, text: string): void {
  const tmp = `${file}.tmp`;
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
  fsyncDir(path.dirname(file));
}

/** Parses journal text into live jobs and warnings; `foreign` when it is not a journal of ours. */
export function parseJournal<J>(
  text: string,
  validate?: (job: unknown) => string | undefined,
): { jobs: Map<string, RestoredJob<J>>; warnings: string[]; foreign?: string } {
  const jobs = new Map<string, RestoredJob<J>>();
  const warnings: string[] = [];
  if (text === '') return { jobs, warnings };
  const lines = text.split('\n');
  let head: { format?: unknown; version?: unknown } | undefined;
  try {
    head = JSON.parse(lines[0]) as typeof head;
  } catch {
    head = undefined;
  }
  if (!head || typeof head !== 'object' || head.format !== JOURNAL_FORMAT) {
    return { jobs, warnings, foreign: 'it is not a journal of sagemaker-invoke-async jobs' };
  }
  if (head.version !== JOURNAL_VERSION) {
    return {
      jobs,
      warnings,
      foreign: `it is version ${JSON.stringify(head.version)} of the journal; this version reads ${JOURNAL_VERSION}`,
    };
  }
  let bad = 0;
  let invalid = 0;
  const last = lines.length - 1; // text ending in "\n" leaves an empty last element
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    if (line === '') continue;
    let rec: { put?: unknown; job?: unknown; mark?: unknown; sending?: unknown; del?: unknown };
    try {
      rec = JSON.parse(line) as typeof rec;
      if (!rec || typeof rec !== 'object') throw new Error('not an object');
    } catch {
      if (i === last) warnings.push('ignored an incomplete last record (the process stopped while writing it)');
      else bad += 1;
      continue;
    }
    if (typeof rec.put === 'string') {
      const why = validate?.(rec.job);
      if (why) {
        invalid += 1;
        jobs.delete(rec.put);
      } else jobs.set(rec.put, { job: rec.job as J, sending: false });
    } else if (typeof rec.mark === 'string') {
      const j = jobs.get(rec.mark);
      if (j) j.sending = rec.sending === true;
    } else if (typeof rec.del === 'string') {
      jobs.delete(rec.del);
    } else bad += 1;
  }
  if (bad > 0) warnings.push(`skipped ${bad} unreadable record${bad === 1 ? '' : 's'}`);
  if (invalid > 0) warnings.push(`skipped ${invalid} job${invalid === 1 ? '' : 's'} with missing or malformed fields`);
  return { jobs, warnings };
}

/** Opens (or creates) a journal file. See the module comment. */
export function openFileJournal<J>(opts: FileJournalOptions): JobStore<J> {
  const file = path.resolve(opts.file);
  const compactMinBytes = opts.compactMinBytes ?? 64 * 1024;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  try {
    fs.rmSync(`${file}.tmp`, { force: true }); // left by a crash during a compaction
  } catch {
    // ignore
  }

  let text = '';
  const warnings: string[] = [];
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      warnings.push(`could not read it (${(err as Error).message})`);
    }
  }
  const parsed = parseJournal<J>(text, opts.validate);
  warnings.push(...parsed.warnings);
  if (parsed.foreign) {
    const aside = `${file}.unreadable-${Date.now()}`;
    try {
      fs.renameSync(file, aside);
      warnings.push(`${parsed.foreign}; moved it to ${aside} and started an empty journal`);
    } catch (err) {
      warnings.push(`${parsed.foreign}; could not move it aside (${(err as Error).message}), replacing it`);
    }
  }

  const live = new Map<string, Live<J>>();
  const restored = new Map<string, RestoredJob<J>>();
  for (const [id, r] of parsed.jobs) {
    live.set(id, { job: r.job, line: JSON.stringify({ put: id, job: r.job }) + '\n', sending: r.sending });
    restored.set(id, { job: r.job, sending: r.sending });
  }

  const snapshot = (): string => {
    let s = header();
    for (const [id, l] of live) {
      s += l.line;
      if (l.sending) s += JSON.stringify({ mark: id, sending: true }) + '\n';
    }
    return s;
  };
  const liveBytes = (): number => {
    let n = header().length;
    for (const [id, l] of live) n += Buffer.byteLength(l.line) + (l.sending ? id.length + 30 : 0);
    return n;
  };

  // Start from a compact file: drops torn lines and everything already done.
  const first = snapshot();
  writeFileAtomic(file, first);
  let fileBytes = Buffer.byteLength(first);
  let fd: number | undefined = fs.openSync(file, 'a');

  let queue: string[] = [];
  let waiters: Waiter[] = [];
  let writing: Promise<void> | undefined;
  let closed = false;

  const openFd = (): number => {
    if (fd === undefined) throw new Error(`The journal ${file} is closed`);
    return fd;
  };

  const writeAll = (text: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const buf = Buffer.from(text);
      const target = openFd();
      const step = (off: number): void => {
        fs.write(target, buf, off, buf.length - off, null, (err, n) => {
          if (err) return reject(err);
          if (off + n < buf.length) return step(off + n);
          fs.fdatasync(target, (e) => (e ? reject(e) : resolve()));
        });
      };
      step(0);
    });

  const compact = (): void => {
    const s = snapshot();
    writeFileAtomic(file, s);
    fs.closeSync(openFd());
    fd = fs.openSync(file, 'a');
    fileBytes = Buffer.byteLength(s);
  };

  async function drain(): Promise<void> {
    try {
      while (queue.length > 0) {
        const text = queue.join('');
        const batch = waiters;
        queue = [];
        waiters = [];
        try {
          await writeAll(text);
          fileBytes += Buffer.byteLength(text);
          for (const w of batch) w.resolve();
        } catch (err) {
          for (const w of batch) w.reject(err as Error);
        }
        if (fileBytes > compactMinBytes && fileBytes > 2 * liveBytes()) {
          try {
            compact();
          } catch {
            // the journal as appended stays valid; the next append tries again
          }
        }
      }
    } finally {
      // Cleared in the same step that saw the queue empty, so no append can be left waiting.
      writing = undefined;
    }
  }

  const append = (line: string): Promise<void> => {
    if (closed) return Promise.reject(new Error(`journal ${file} is closed`));
    const p = new Promise<void>((resolve, reject) => waiters.push({ resolve, reject }));
    queue.push(line);
    if (!writing) writing = drain();
    return p;
  };

  const settle = async (): Promise<void> => {
    while (writing) await writing;
  };

  return {
    where: file,
    restored,
    warnings,
    get size() {
      return live.size;
    },
    put(id, job) {
      const line = JSON.stringify({ put: id, job }) + '\n';
      live.set(id, { job, line, sending: false });
      return append(line);
    },
    mark(id, sending) {
      const l = live.get(id);
      if (!l) return Promise.resolve();
      l.sending = sending;
      return append(JSON.stringify({ mark: id, sending }) + '\n');
    },
    remove(id) {
      if (!live.delete(id)) return Promise.resolve();
      return append(JSON.stringify({ del: id }) + '\n');
    },
    async close() {
      closed = true;
      await settle();
      if (fd !== undefined && fileBytes > liveBytes()) {
        try {
          compact(); // leaves the file as small as it can be
        } catch {
          // the appended journal is still valid
        }
      }
      if (fd !== undefined) {
        fs.closeSync(fd);
        fd = undefined;
      }
    },
    async destroy() {
      await this.close();
      fs.rmSync(file, { force: true });
    },
  };
}

// Jobs of the in-memory store outlive one node instance (a redeploy) but not the process.
const memoryStores = new Map<string, Map<string, RestoredJob<unknown>>>();

/**
 * A pending-job store in the process's memory, for runtimes with no user directory (e.g. the
 * test helper): jobs survive a redeploy, not a restart.
 */
export function openMemoryStore<J>(key: string): JobStore<J> {
  let jobs = memoryStores.get(key) as Map<string, RestoredJob<J>> | undefined;
  if (!jobs) memoryStores.set(key, (jobs = new Map()));
  const m = jobs;
  const restored = new Map([...m].map(([id, r]) => [id, { ...r }]));
  return {
    where: 'memory',
    restored,
    warnings: [],
    get size() {
      return m.size;
    },
    async put(id, job) {
      m.set(id, { job, sending: false });
    },
    async mark(id, sending) {
      const r = m.get(id);
      if (r) r.sending = sending;
    },
    async remove(id) {
      m.delete(id);
    },
    async close() {},
    async destroy() {
      memoryStores.delete(key);
    },
  };
}

/** A file name for a node id (ids of nodes in subflows contain `-`; keep it to a safe set). */
export function journalFileName(nodeId: string): string {
  return `${nodeId.replace(/[^A-Za-z0-9_-]/g, '_')}.jsonl`;
}
