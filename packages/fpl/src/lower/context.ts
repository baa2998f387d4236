import type { Diagnostics } from '../syntax/diagnostics.js';
import type { Source, Span } from '../syntax/source.js';

export interface LowerOptions {
  /** The environment `env("X")` reads; defaults to process.env at the CLI edge. */
  env?: Readonly<Record<string, string | undefined>>;
  /** An unset `env("X")` is an error (it is a warning otherwise; conditions always need it). */
  strictEnv?: boolean;
}

/** Everything a lowering step needs: where it is, where to report, and the options. */
/** Where each lowered object came from, so later passes can report against its source. */
export type Locations = WeakMap<object, { source: Source; span: Span }>;

export class LowerContext {
  constructor(
    readonly locations: Locations,
    readonly source: Source,
    readonly diagnostics: Diagnostics,
    readonly options: LowerOptions,
    /** Set for imported files: recorded as the `origin` of their rules. */
    readonly origin?: string,
  ) {}

  /** Remember where an IR object came from; returns it for chaining. */
  track<T extends object>(obj: T, span: Span): T {
    this.locations.set(obj, { source: this.source, span });
    return obj;
  }

  /** `governance.fms:LINE` for a node: the `rule_ref` format of errors.md. */
  ref(span: Span): string {
    return `${this.source.name}:${this.source.lineOf(span.start)}`;
  }

  error(span: Span, code: string, message: string, hint?: string): void {
    this.diagnostics.error(this.source, span, code, message, hint);
  }

  warning(span: Span, code: string, message: string, hint?: string): void {
    this.diagnostics.warning(this.source, span, code, message, hint);
  }

  env(name: string): string | undefined {
    return (this.options.env ?? {})[name];
  }
}
