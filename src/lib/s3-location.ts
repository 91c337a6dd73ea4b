/**
 * S3 locations as the async inference API writes them: `s3://bucket/key`, or the `https://` forms
 * of the API's InputLocation pattern `^(https|s3)://([^/]+)/?(.*)$`.
 */

export interface S3Location {
  bucket: string;
  /** Object key (or key prefix); may be empty for a bucket-level prefix. */
  key: string;
}

/** S3 object keys are at most 1024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;
/** InputLocation is at most 1024 characters (API limit). */
export const MAX_URI_LENGTH = 1024;

/**
 * Why a bucket name breaks S3's general-purpose bucket naming rules, or undefined when it is valid:
 * 3–63 chars of lower-case letters, digits, `.` and `-`, starting and ending with a letter or digit,
 * no `..`, not an IP address, none of the reserved prefixes/suffixes.
 */
export function bucketNameProblem(name: string): string | undefined {
  if (typeof name !== 'string' || name.length < 3 || name.length > 63) return 'must be 3–63 characters';
  if (!/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/.test(name)) {
    return 'may contain only lower-case letters, digits, "." and "-", and must start and end with a letter or digit';
  }
  if (name.includes('..')) return 'must not contain ".."';
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(name)) return 'must not be an IP address';
  if (name.startsWith('xn--') || name.startsWith('sthree-')) return 'must not start with "xn--" or "sthree-"';
  if (name.endsWith('-s3alias') || name.endsWith('--ol-s3') || name.endsWith('.mrap') || name.endsWith('--x-s3')) {
    return 'must not end with a reserved suffix';
  }
  return undefined;
}

/** Why a key (or prefix) cannot be used, or undefined: ≤1024 UTF-8 bytes, no control characters, no `.`/`..` segments. */
export function keyProblem(key: string): string | undefined {
  if (new TextEncoder().encode(key).length > MAX_KEY_BYTES) return `key must be at most ${MAX_KEY_BYTES} bytes`;
  // eslint-disable-next-line no-control-regex -- the point is to find control characters
  if (/[\u0000-\u001f\u007f]/.test(key)) return 'key must not contain control characters';
  // Path-like segments are refused so a message cannot steer the node outside its prefix.
  if (key.split('/').some((s) => s === '..' || s === '.')) return 'key must not contain "." or ".." path segments';
  return undefined;
}

/** True when the value looks like an S3 URI the API accepts (`s3://…` or `https://…`). */
export function isS3Uri(value: unknown): value is string {
  return typeof value === 'string' && /^(s3|https):\/\//i.test(value.trim());
}

export interface ParseOptions {
  /** Field name used in error messages (default `S3 location`). */
  field?: string;
  /** Require a non-empty key (an object, not just a bucket). Default true. */
  requireKey?: boolean;
}

/**
 * Parses `s3://bucket/key` or an `https://` S3 URL (virtual-hosted `bucket.s3.<region>.amazonaws.com/key`,
 * path-style `s3.<region>.amazonaws.com/bucket/key`, or any other host taken as path-style, as
 * S3-compatible stores use). Throws an Error naming the field and the rule that failed.
 */
export function parseS3Uri(uri: string, opts: ParseOptions = {}): S3Location {
  const field = opts.field ?? 'S3 location';
  const requireKey = opts.requireKey ?? true;
  const fail = (why: string): never => {
    throw new Error(`${field}: ${why} (got ${JSON.stringify(String(uri).slice(0, 80))})`);
  };
  if (typeof uri !== 'string' || uri.trim() === '') fail('must be an s3:// URI');
  const text = uri.trim();
  if (text.length > MAX_URI_LENGTH) fail(`must be at most ${MAX_URI_LENGTH} characters`);
  const m = /^(s3|https):\/\/([^/]+)\/?([\s\S]*)$/i.exec(text);
  if (!m) return fail('must look like s3://bucket/key');
  const scheme = m[1].toLowerCase();
  let bucket: string;
  let key: string;
  if (scheme === 's3') {
    bucket = m[2];
    key = m[3];
  } else {
    const host = m[2].toLowerCase().replace(/:\d+$/, '');
    let path: string;
    try {
      path = decodeURIComponent(m[3].replace(/[?#].*$/, ''));
    } catch {
      return fail('has a malformed %-escape');
    }
    const virtual = /^(.+?)\.s3([.-][a-z0-9-]+)*\.amazonaws\.com(\.cn)?$/.exec(host);
    if (virtual && !/^s3([.-]|$)/.test(host)) {
      bucket = virtual[1];
      key = path;
    } else {
      const slash = path.indexOf('/');
      bucket = slash < 0 ? path : path.slice(0, slash);
      key = slash < 0 ? '' : path.slice(slash + 1);
    }
  }
  const bp = bucketNameProblem(bucket);
  if (bp) fail(`bucket name ${bp}`);
  const kp = keyProblem(key);
  if (kp) fail(kp);
  if (requireKey && key === '') fail('must name an object (s3://bucket/key)');
  return { bucket, key };
}

/** Formats a location as `s3://bucket/key`. */
export function formatS3Uri(loc: S3Location): string {
  return `s3://${loc.bucket}/${loc.key}`;
}

/** Joins a key prefix and a name with exactly one `/` where the prefix does not end in one already. */
export function joinKey(prefix: string, name: string): string {
  if (prefix === '') return name;
  return prefix.endsWith('/') ? prefix + name : `${prefix}/${name}`;
}

/** The "directory" part of a key: everything up to and including the last `/` (empty when none). */
export function keyDirectory(key: string): string {
  const i = key.lastIndexOf('/');
  return i < 0 ? '' : key.slice(0, i + 1);
}

/**
 * Validates an input bucket + prefix from the node's settings; returns a problem text or undefined.
 * The prefix is used verbatim before the inference id (`<prefix><id>`), as the README's sagemaker-invoke-async section says.
 */
export function inputTargetProblem(bucket: string, prefix: string): string | undefined {
  const bp = bucketNameProblem(bucket);
  if (bp) return `inputBucket: bucket name ${bp}`;
  const kp = keyProblem(prefix);
  if (kp) return `inputPrefix: ${kp}`;
  if (prefix.startsWith('/')) return 'inputPrefix: must not start with "/"';
  return undefined;
}
