/**
 * The CSV that SageMaker's built-in algorithms take (RFC 4180, no header row) and give back.
 */
import { InputError } from './errors';

type Cell = number | string | boolean | null | undefined;

function cellText(cell: unknown, where: string): string {
  if (cell === null || cell === undefined) return '';
  if (typeof cell === 'number') {
    if (!Number.isFinite(cell))
      throw new InputError('msg.payload', `msg.payload: CSV ${where} is ${cell}; cells must be finite numbers, strings or booleans`);
    return String(cell);
  }
  if (typeof cell === 'boolean') return String(cell);
  if (typeof cell === 'string') return /[",\r\n]/.test(cell) ? `"${cell.replace(/"/g, '""')}"` : cell;
  const kind = Array.isArray(cell) ? 'an array' : typeof cell === 'object' ? 'an object' : `a ${typeof cell}`;
  throw new InputError('msg.payload', `msg.payload: CSV ${where} is ${kind}; cells must be numbers, strings or booleans`);
}

/**
 * Turns an array of cells into one CSV line, or an array of arrays into one line per row
 * (joined by `\n`). Throws InputError naming the row and column of a cell that is not a
 * number, string, boolean or null.
 */
export function toCsv(value: unknown): string {
  if (!Array.isArray(value)) {
    throw new InputError(
      'msg.payload',
      `msg.payload: request format csv needs an array (one row) or an array of arrays (rows), got ${describeType(value)}`,
    );
  }
  if (value.length > 0 && value.every((r) => Array.isArray(r))) {
    return (value as unknown[][]).map((row, r) => row.map((c, i) => cellText(c, `row ${r + 1} column ${i + 1}`)).join(',')).join('\n');
  }
  return value.map((c: Cell, i) => cellText(c, `column ${i + 1}`)).join(',');
}

/**
 * Parses CSV text into rows; cells that look like numbers become numbers, empty cells stay ''.
 * Handles quoted cells (with `""`, commas and line breaks inside), `\n` and `\r\n`; a final
 * line ending does not add an empty row.
 */
export function parseCsv(text: string): Array<Array<string | number>> {
  const rows: Array<Array<string | number>> = [];
  let row: Array<string | number> = [];
  let cell = '';
  let quoted = false; // inside quotes
  let wasQuoted = false; // the current cell was quoted: keep it a string
  const endCell = (): void => {
    row.push(wasQuoted ? cell : toNumber(cell));
    cell = '';
    wasQuoted = false;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          cell += '"';
          i++;
        } else quoted = false;
      } else cell += ch;
    } else if (ch === '"' && cell === '') {
      quoted = true;
      wasQuoted = true;
    } else if (ch === ',') endCell();
    else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      endCell();
      rows.push(row);
      row = [];
    } else cell += ch;
  }
  if (cell !== '' || wasQuoted || row.length > 0) {
    endCell();
    rows.push(row);
  }
  return rows;
}

const NUMBER = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

function toNumber(cell: string): string | number {
  return NUMBER.test(cell) ? Number(cell) : cell;
}

/** `string`, `null`, `an object`, … for messages. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  if (Buffer.isBuffer(value)) return 'a Buffer';
  const t = typeof value;
  return t === 'object' ? 'an object' : t;
}
