/**
 * A pending job of `sagemaker-invoke-async` as its journal stores it (README "Durable jobs"): the
 * ids and locations, when it started, and a JSON copy of the input message without `payload`,
 * `req` and `res` (the output replaces the payload; HTTP objects cannot be stored).
 */
import * as path from 'node:path';
import { journalFileName, openFileJournal, openMemoryStore, type JobStore } from './job-journal';

export interface StoredJob {
  inferenceId: string;
  endpointName: string;
  outputLocation: string;
  failureLocation?: string;
  startedAt: number;
  msg: Record<string, unknown>;
}

/** The journal's folder in the user directory. */
const JOURNAL_DIR = 'sagemaker-invoke-async';

/** Why a job read back from the journal cannot be resumed, or undefined. */
export function storedJobProblem(v: unknown): string | undefined {
  if (!v || typeof v !== 'object') return 'not an object';
  const j: Partial<StoredJob> = v;
  if (typeof j.inferenceId !== 'string' || typeof j.outputLocation !== 'string' || typeof j.startedAt !== 'number') return 'missing fields';
  if (j.failureLocation !== undefined && typeof j.failureLocation !== 'string') return 'bad failureLocation';
  return undefined;
}

export function isStoredJob(v: unknown): v is StoredJob {
  return storedJobProblem(v) === undefined;
}

/** A JSON copy of a message to store (throws when a property cannot be serialised). */
export function toJsonCopy(msg: Record<string, unknown>): Record<string, unknown> {
  const { payload: _p, req: _req, res: _res, ...rest } = msg;
  return JSON.parse(JSON.stringify(rest)) as Record<string, unknown>;
}

function isBufferJson(v: unknown): v is { type: 'Buffer'; data: number[] } {
  if (!v || typeof v !== 'object') return false;
  const o: { type?: unknown; data?: unknown } = v;
  return o.type === 'Buffer' && Array.isArray(o.data) && Object.keys(v).length === 2;
}

/** A message back from its stored copy; Buffers come back as Buffers. */
export function fromJsonCopy(value: unknown): Record<string, unknown> {
  const parsed: unknown = JSON.parse(JSON.stringify(value ?? {}), (_k, v: unknown) => (isBufferJson(v) ? Buffer.from(v.data) : v));
  return parsed && typeof parsed === 'object' ? { ...parsed } : {};
}

/**
 * The journal of node `nodeId` in `<userDir>/sagemaker-invoke-async/`; in memory when there is no
 * user directory or the file cannot be used (`warn` says why, with `file` and the reason).
 */
export function openJobStore(
  userDir: unknown,
  nodeId: string,
  warn: (kind: 'journal' | 'journalOpen', file: string, message: string) => void,
): JobStore<StoredJob> {
  if (typeof userDir === 'string' && userDir !== '') {
    const file = path.join(userDir, JOURNAL_DIR, journalFileName(nodeId));
    try {
      const j = openFileJournal<StoredJob>({ file, validate: storedJobProblem });
      for (const w of j.warnings) warn('journal', file, w);
      return j;
    } catch (err) {
      warn('journalOpen', file, err instanceof Error ? err.message : String(err));
    }
  }
  return openMemoryStore<StoredJob>(nodeId);
}
