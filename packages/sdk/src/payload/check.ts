// Tiny validation helpers for the hand-written payload parser: each check records `path: problem` and moves on.

/** One problem found in a payload, at a JSONPath-like location such as `$.activities[1].message.url`. */
export interface PayloadIssue {
  path: string;
  message: string;
}

export type Json = Record<string, unknown>;

export class Checker {
  readonly issues: PayloadIssue[] = [];

  fail(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  object(value: unknown, path: string): value is Json {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return true;
    this.fail(path, `expected an object, got ${describe(value)}`);
    return false;
  }

  array(value: unknown, path: string, minLength = 0): value is unknown[] {
    if (!Array.isArray(value)) {
      this.fail(path, `expected an array, got ${describe(value)}`);
      return false;
    }
    if (value.length < minLength) {
      this.fail(path, `expected at least ${minLength} element(s)`);
      return false;
    }
    return true;
  }

  string(owner: Json, key: string, path: string, required: boolean): void {
    const value = owner[key];
    if (value === undefined && !required) return;
    if (typeof value !== 'string') this.fail(`${path}.${key}`, `expected a string, got ${describe(value)}`);
  }

  number(owner: Json, key: string, path: string, required: boolean, integer = false): void {
    const value = owner[key];
    if (value === undefined && !required) return;
    if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
      this.fail(`${path}.${key}`, `expected ${integer ? 'an integer' : 'a number'}, got ${describe(value)}`);
    }
  }

  boolean(owner: Json, key: string, path: string, required: boolean): void {
    const value = owner[key];
    if (value === undefined && !required) return;
    if (typeof value !== 'boolean') this.fail(`${path}.${key}`, `expected a boolean, got ${describe(value)}`);
  }

  oneOf(owner: Json, key: string, path: string, allowed: readonly string[], required: boolean): void {
    const value = owner[key];
    if (value === undefined && !required) return;
    if (typeof value !== 'string' || !allowed.includes(value)) {
      this.fail(
        `${path}.${key}`,
        `expected one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}, got ${describe(value)}`,
      );
    }
  }

  stringRecord(value: unknown, path: string): void {
    if (!this.object(value, path)) return;
    for (const [key, item] of Object.entries(value)) {
      if (typeof item !== 'string')
        this.fail(`${path}${member(key)}`, `expected a string, got ${describe(item)}`);
    }
  }

  /** Checks each element of an optional (or required) array with `each`. */
  list(
    owner: Json,
    key: string,
    path: string,
    required: boolean,
    minLength: number,
    each: (item: unknown, itemPath: string) => void,
  ): void {
    const value = owner[key];
    if (value === undefined && !required) return;
    const listPath = `${path}.${key}`;
    if (!this.array(value, listPath, minLength)) return;
    value.forEach((item, index) => each(item, `${listPath}[${index}]`));
  }
}

/** `.key` for identifier-like keys, `["full name"]` otherwise. */
export function member(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value === 'object' ? 'an' : 'the'} ${typeof value}${typeof value === 'object' ? '' : ` ${String(value)}`}`;
}
