/**
 * Object storage of the emulator's S3, on disk. A key never becomes a path: each object's data
 * lives in `<root>/<bucket>/<sha256(key)>.<version>` and its description in
 * `<root>/<bucket>/<sha256(key)>.json`; bucket names are checked against S3's naming rules before
 * they name a folder. Data is written to `<root>/.tmp` and renamed into place, and the in-memory
 * index changes only after the rename, so List/Head/Get see an object whole or not at all.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { copyFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ObjectMeta {
  key: string;
  size: number;
  /** Quoted, as S3 sends it. */
  etag: string;
  lastModified: number;
  contentType: string;
  /** Stored response headers: content-encoding, content-disposition, cache-control, content-language, expires, x-amz-meta-*. */
  headers: Record<string, string>;
  /** Data file name inside the bucket folder. */
  file: string;
}

interface Bucket {
  created: number;
  objects: Map<string, ObjectMeta>;
}

export interface Part {
  size: number;
  etag: string;
  md5: Buffer;
  file: string;
}

export interface Upload {
  bucket: string;
  key: string;
  contentType: string;
  headers: Record<string, string>;
  initiated: number;
  parts: Map<number, Part>;
}

/** S3's bucket naming rules (general purpose buckets); anything else never names a folder. */
export function validBucketName(name: string): boolean {
  return /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) && !name.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(name);
}

const keyHash = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');
const version = (): string => randomBytes(8).toString('hex');

export class Store {
  private readonly buckets = new Map<string, Bucket>();
  readonly uploads = new Map<string, Upload>();
  /** Commits per key run one after the other, so index, description file and data agree. */
  private readonly commits = new Map<string, Promise<unknown>>();
  private readonly tmpDir: string;
  private readonly uploadDir: string;

  constructor(readonly root: string) {
    this.tmpDir = join(root, '.tmp');
    this.uploadDir = join(root, '.uploads');
    // Leftovers of a process that died mid-write are not objects.
    rmSync(this.tmpDir, { recursive: true, force: true });
    rmSync(this.uploadDir, { recursive: true, force: true });
    mkdirSync(this.tmpDir, { recursive: true });
    mkdirSync(this.uploadDir, { recursive: true });
    this.load();
  }

  /** Objects of a directory kept from an earlier run (options.s3.directory). */
  private load(): void {
    for (const name of readdirSync(this.root)) {
      if (!validBucketName(name)) continue;
      const dir = join(this.root, name);
      if (!statSync(dir).isDirectory()) continue;
      const bucket: Bucket = { created: statSync(dir).birthtimeMs || Date.now(), objects: new Map() };
      for (const f of readdirSync(dir)) {
        if (!/^[0-9a-f]{64}\.json$/.test(f)) continue;
        try {
          const meta = JSON.parse(readFileSync(join(dir, f), 'utf8')) as ObjectMeta;
          if (typeof meta.key !== 'string' || `${keyHash(meta.key)}.json` !== f || !/^[0-9a-f]{64}\.[0-9a-f]{16}$/.test(meta.file))
            continue;
          if (statSync(join(dir, meta.file)).size !== meta.size) continue;
          bucket.objects.set(meta.key, meta);
        } catch {
          // A description without its data (or unreadable): not an object.
        }
      }
      this.buckets.set(name, bucket);
    }
  }

  tmpFile(): string {
    return join(this.tmpDir, version());
  }

  hasBucket(name: string): boolean {
    return this.buckets.has(name);
  }

  listBuckets(): Array<{ name: string; created: number }> {
    return [...this.buckets].map(([name, b]) => ({ name, created: b.created })).sort((a, b) => a.name.localeCompare(b.name));
  }

  createBucket(name: string): boolean {
    if (!validBucketName(name)) throw new Error(`invalid bucket name ${name}`);
    if (this.buckets.has(name)) return false;
    mkdirSync(join(this.root, name), { recursive: true });
    this.buckets.set(name, { created: Date.now(), objects: new Map() });
    return true;
  }

  /** false when the bucket still holds objects. */
  deleteBucket(name: string): boolean {
    const b = this.buckets.get(name);
    if (!b) return true;
    if (b.objects.size > 0) return false;
    this.buckets.delete(name);
    rmSync(join(this.root, name), { recursive: true, force: true });
    return true;
  }

  head(bucket: string, key: string): ObjectMeta | undefined {
    return this.buckets.get(bucket)?.objects.get(key);
  }

  dataPath(bucket: string, meta: ObjectMeta): string {
    return join(this.root, bucket, meta.file);
  }

  /** Keys of a bucket in S3's order (UTF-8 binary order). */
  keys(bucket: string): string[] {
    const b = this.buckets.get(bucket);
    if (!b) return [];
    return [...b.objects.keys()].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
  }

  private serial<T>(bucket: string, key: string, work: () => Promise<T>): Promise<T> {
    const id = `${bucket}/${key}`;
    const prev = this.commits.get(id) ?? Promise.resolve();
    const next = prev.then(work, work);
    const tail = next.catch(() => {});
    this.commits.set(id, tail);
    void tail.then(() => {
      if (this.commits.get(id) === tail) this.commits.delete(id);
    });
    return next;
  }

  /** Moves a complete temp file into place as `key`; the object is visible once this resolves. */
  commit(bucket: string, key: string, tmp: string, meta: Omit<ObjectMeta, 'key' | 'file' | 'lastModified'>): Promise<ObjectMeta> {
    return this.serial(bucket, key, async () => {
      const b = this.buckets.get(bucket);
      if (!b) {
        await unlink(tmp).catch(() => {});
        throw new Error('NoSuchBucket');
      }
      const hash = keyHash(key);
      const full: ObjectMeta = { ...meta, key, file: `${hash}.${version()}`, lastModified: Date.now() };
      const dir = join(this.root, bucket);
      await rename(tmp, join(dir, full.file));
      const metaTmp = this.tmpFile();
      await writeFile(metaTmp, JSON.stringify(full));
      await rename(metaTmp, join(dir, `${hash}.json`));
      const old = b.objects.get(key);
      b.objects.set(key, full);
      if (old) await unlink(join(dir, old.file)).catch(() => {});
      return full;
    });
  }

  /** Copies an object's data to a temp file (for CopyObject). */
  async copyToTmp(bucket: string, meta: ObjectMeta): Promise<string> {
    const tmp = this.tmpFile();
    await copyFile(this.dataPath(bucket, meta), tmp);
    return tmp;
  }

  delete(bucket: string, key: string): Promise<void> {
    return this.serial(bucket, key, async () => {
      const b = this.buckets.get(bucket);
      const old = b?.objects.get(key);
      if (!b || !old) return;
      b.objects.delete(key);
      const dir = join(this.root, bucket);
      await unlink(join(dir, `${keyHash(key)}.json`)).catch(() => {});
      await unlink(join(dir, old.file)).catch(() => {});
    });
  }

  createUpload(bucket: string, key: string, contentType: string, headers: Record<string, string>): string {
    const id = randomBytes(24).toString('hex');
    mkdirSync(join(this.uploadDir, id));
    this.uploads.set(id, { bucket, key, contentType, headers, initiated: Date.now(), parts: new Map() });
    return id;
  }

  /** Moves a received part into its upload (partNumber already checked to be 1-10000). */
  async putPart(id: string, partNumber: number, tmp: string, part: Omit<Part, 'file'>): Promise<void> {
    const up = this.uploads.get(id);
    if (!up) {
      await unlink(tmp).catch(() => {});
      throw new Error('NoSuchUpload');
    }
    const file = join(this.uploadDir, id, `${partNumber}.${version()}`);
    await rename(tmp, file);
    const old = up.parts.get(partNumber);
    up.parts.set(partNumber, { ...part, file });
    if (old) await unlink(old.file).catch(() => {});
  }

  abortUpload(id: string): void {
    if (!this.uploads.delete(id)) return;
    rmSync(join(this.uploadDir, id), { recursive: true, force: true });
  }

  close(removeRoot: boolean): void {
    if (removeRoot) rmSync(this.root, { recursive: true, force: true });
    else {
      rmSync(this.tmpDir, { recursive: true, force: true });
      rmSync(this.uploadDir, { recursive: true, force: true });
    }
  }

  exists(): boolean {
    return existsSync(this.root);
  }
}
