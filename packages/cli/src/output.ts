import { Option } from 'commander';
import pc from 'picocolors';

/** Colours only on a TTY, and never when NO_COLOR or --no-color says so. */
export function useColor(stream: NodeJS.WriteStream, noColor: boolean | undefined): boolean {
  return !noColor && !process.env.NO_COLOR && !!stream.isTTY;
}

export type Format = 'text' | 'json';

/** `--format text|json` (default text): with json a command prints one JSON object on stdout. */
export function formatOption(description = 'output format'): Option {
  return new Option('--format <format>', description).choices(['text', 'json']).default('text');
}

let quiet = false;

/** The global `--quiet`: confirmations and hints are left out; data, warnings and failures never are. */
export function setQuiet(on: boolean): void {
  quiet = on;
}

export function isQuiet(): boolean {
  return quiet;
}

export interface Out {
  color: boolean;
  /** Data, on stdout. */
  print(text: string): void;
  /** Failures, warnings and diagnostics, on stderr. */
  error(text: string): void;
  /** A `✓` confirmation where `print` writes; left out under `--quiet`. */
  done(text: string): void;
  /** A hint or progress line on stderr; left out under `--quiet`. */
  note(text: string): void;
  ok(text: string): string;
  fail(text: string): string;
}

export function makeOut(noColor?: boolean): Out {
  const color = useColor(process.stdout, noColor);
  return {
    color,
    print: (text) => process.stdout.write(text + '\n'),
    error: (text) => process.stderr.write(text + '\n'),
    // Methods, not arrows: an Out copied with another `print` (plan's JSON mode) keeps using it.
    done(text) {
      if (!quiet) this.print(this.ok(text));
    },
    note(text) {
      if (!quiet) this.error(text);
    },
    ok: (text) => (color ? pc.green(`✓ ${text}`) : `✓ ${text}`),
    fail: (text) => (color ? pc.red(`✗ ${printable(text)}`) : `✗ ${printable(text)}`),
  };
}

/**
 * Text that may come from outside (a registry, a signature file, a log) made safe for a terminal:
 * control characters other than line breaks and tabs are shown as `\xNN`, so none can move the
 * cursor, retitle the window or hide what follows. Bidirectional controls are shown as `\uNNNN`:
 * an override (U+202E) reorders what follows on screen, so the arguments an operator approves
 * could read as another call than the one recorded.
 */
export function printable(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
    .replace(/[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

/** One field on one line: `printable`, and a line break or tab in it shown as `\xNN` too (it cannot forge a line). */
export const inline = (v: unknown): string =>
  printable(String(v)).replace(/[\n\t]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Columns padded to their widest cell, two spaces apart (the last column unpadded). */
export function table(header: string[], rows: string[][]): string {
  // Cells often hold what agents chose (tool names, arguments): one line each, no control characters.
  rows = rows.map((r) => r.map(inline));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows]
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

/** A value with its object keys in snake_case (`inWindow` → `in_window`), as every JSON the CLI prints. */
export function snakeKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(snakeKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), snakeKeys(x)]));
}
