/**
 * The one way every text of the package is looked up: `nodes/locales/<lang>/<type>.json`,
 * through Node-RED's i18n (`RED._`) with the English file as the fallback. The fallback matters
 * where no catalog is loaded: node-red-node-test-helper answers `RED._` with the key itself.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RED } from './red';

export type Translate = (key: string, subs?: Record<string, unknown>) => string;

/** The npm name: Node-RED names each node set's catalog `<module>/<set>`. */
const PACKAGE = 'node-red-contrib-sagemaker-runtime';

type Catalog = { [key: string]: string | Catalog };
const catalogs = new Map<string, Catalog>();

function englishCatalog(type: string): Catalog {
  let catalog = catalogs.get(type);
  if (!catalog) {
    try {
      const file = JSON.parse(readFileSync(join(__dirname, 'locales', 'en-US', `${type}.json`), 'utf8')) as Record<string, Catalog>;
      catalog = file[type] ?? {};
    } catch {
      catalog = {};
    }
    catalogs.set(type, catalog);
  }
  return catalog;
}

/** Fills `__name__` placeholders as Node-RED's i18n does; unknown ones stay. */
export function fill(text: string, subs: Record<string, unknown> = {}): string {
  return text.replace(/__(\w+)__/g, (m, name: string) => (name in subs ? String(subs[name]) : m));
}

/** `t('status.busy', { inFlight: 2 })` → the text of `<type>.status.busy` in the user's language. */
export function translator(red: RED, type: string): Translate {
  const namespace = `${PACKAGE}/${type}:${type}.`;
  return (key, subs = {}) => {
    let text: unknown;
    try {
      text = red._(namespace + key, subs);
    } catch {
      text = undefined;
    }
    if (typeof text === 'string' && text !== '' && !text.includes(`${type}.${key}`)) return text;
    let v: string | Catalog | undefined = englishCatalog(type);
    for (const k of key.split('.')) v = typeof v === 'object' ? v[k] : undefined;
    return typeof v === 'string' ? fill(v, subs) : `${type}.${key}`;
  };
}
