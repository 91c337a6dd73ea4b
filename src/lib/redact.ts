/**
 * Keeps secrets out of texts that reach a user: URL parts that carry credentials (user info,
 * query string, fragment) and known secret values (keys, session tokens). No Node-RED import.
 */
import type { AwsCredentialIdentity } from '@smithy/types';

/** What stands in for a removed secret. */
export const REDACTED = '***';

/** Values shorter than this are not scrubbed: they would mangle ordinary words (the emulator's key is `test`). */
export const MIN_SECRET_LENGTH = 8;

/**
 * A URL as it may be shown: user info, query string and fragment (where API keys and
 * passwords travel) replaced by `***`; scheme, host, port and path kept so the user can tell
 * which URL is meant. Text that does not parse as a URL gets the same parts cut by pattern.
 */
export function redactUrl(value: string): string {
  const text = String(value);
  let url: URL | undefined;
  try {
    url = /^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? new URL(text) : undefined;
  } catch {
    url = undefined;
  }
  if (url && url.host) {
    const auth = url.username || url.password ? `${REDACTED}@` : '';
    const query = url.search || text.includes('?') ? `?${REDACTED}` : '';
    const hash = url.hash || text.includes('#') ? `#${REDACTED}` : '';
    const path = url.pathname === '/' ? '' : url.pathname;
    return `${url.protocol}//${auth}${url.host}${path}${query}${hash}`;
  }
  // Not a URL: cut whatever could be user info, a query or a fragment.
  return text
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)?[^/?#@\s]*@/i, (_m, scheme: string | undefined) => `${scheme ?? ''}${REDACTED}@`)
    .replace(/\?.*$/s, `?${REDACTED}`)
    .replace(/#.*$/s, `#${REDACTED}`);
}

const URL_IN_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'<>`]+/gi;

/** {@link redactUrl} applied to every `scheme://…` found in a text (an error message). */
export function redactUrlsInText(text: string): string {
  return String(text).replace(URL_IN_TEXT, (u) => {
    // Sentence punctuation after a URL is not part of it.
    const trail = /[.,;:)\]]+$/.exec(u)?.[0] ?? '';
    const core = trail ? u.slice(0, -trail.length) : u;
    return redactUrl(core) + trail;
  });
}

/**
 * Replaces every occurrence of each secret (as is, and URL-encoded) with `***`; longer secrets
 * first, so one that contains another is removed whole.
 */
export function scrubSecrets(text: string, secrets: Iterable<string | undefined | null>): string {
  const list = [...new Set([...secrets].filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH))];
  const variants = new Set<string>();
  for (const s of list) {
    variants.add(s);
    variants.add(encodeURIComponent(s));
  }
  let out = String(text);
  for (const v of [...variants].sort((a, b) => b.length - a.length)) out = out.split(v).join(REDACTED);
  return out;
}

/**
 * Collects the secret parts of credentials as they are resolved (static keys, the default
 * chain, STS, AWS IoT), so an error text can be scrubbed of them afterwards.
 */
export class SecretCollector {
  private readonly values = new Set<string>();
  private readonly fixed = new Set<string>();

  /**
   * @param maxResolved how many resolved secrets to remember (the oldest go first): a config node
   *   that runs for months gets fresh temporary credentials every hour
   */
  constructor(private readonly maxResolved = Infinity) {}

  /** Adds secret values (blank and too short ones are ignored); these are kept for good. */
  add(...values: Array<string | undefined | null>): void {
    for (const v of values) if (typeof v === 'string' && v.length >= MIN_SECRET_LENGTH) this.fixed.add(v);
  }

  private addResolved(v: string | undefined): void {
    if (typeof v !== 'string' || v.length < MIN_SECRET_LENGTH || this.fixed.has(v)) return;
    this.values.delete(v);
    this.values.add(v);
    while (this.values.size > this.maxResolved) this.values.delete(this.values.values().next().value as string);
  }

  /** Adds a resolved identity's secret access key and session token. */
  addIdentity(identity: Partial<AwsCredentialIdentity> | undefined): void {
    if (!identity) return;
    this.addResolved(identity.secretAccessKey);
    this.addResolved(identity.sessionToken);
  }

  /** The secrets of the usual AWS environment variables (the default chain reads them). */
  addEnvironment(env: NodeJS.ProcessEnv = process.env): void {
    this.add(env.AWS_SECRET_ACCESS_KEY, env.AWS_SESSION_TOKEN, env.AWS_SECURITY_TOKEN);
  }

  /** The text with every collected secret and every URL's credentials removed. */
  scrub(text: string): string {
    return redactUrlsInText(scrubSecrets(text, [...this.fixed, ...this.values]));
  }

  get size(): number {
    return this.fixed.size + this.values.size;
  }
}
