/**
 * Translated node texts with the English catalog as a fallback. node-red-node-test-helper (and
 * any runtime whose catalog for the node is not loaded) answers RED._ with the key itself; the
 * node then reads `nodes/locales/en-US/<type>.json` (beside the built node file), so the locale
 * file stays the one source of every text.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RED } from './red';

export type Translate = (key: string, subs?: Record<string, unknown>) => string;

const catalogs = new Map<string, Record<string, unknown>>();

function englishCatalog(type: string): Record<string, unknown> {
  let catalog = catalogs.get(type);
  if (!catalog) {
    try {
      catalog = JSON.parse(readFileSync(join(__dirname, 'locales', 'en-US', `${type}.json`), 'utf8'))[type] ?? {};
    } catch {
      catalog = {};
    }
    catalogs.set(type, catalog!);
  }
  return catalog!;
}

/** `t('status.busy', { inFlight: 2 })` → the node's text for `<type>.status.busy`. */
export function translator(red: RED, type: string): Translate {
  return (key, subs = {}) => {
    const full = `${type}.${key}`;
    let text: unknown;
    try {
      text = red._(full, subs);
    } catch {
      text = undefined;
    }
    if (typeof text === 'string' && text !== '' && !text.includes(full)) return text;
    let v: unknown = englishCatalog(type);
    for (const k of key.split('.')) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
    if (typeof v !== 'string') return full;
    return v.replace(/__(\w+)__/g, (m, name: string) => (name in subs ? String(subs[name]) : m));
  };
}
