/** Runtime validation of decoded JSON bodies against the schema table (schema.ts). */
import { AudioLabError } from './errors.ts';
import { SUB_SCHEMAS, type FieldKind } from './schema.ts';

const MAX_STRING = 4096;
const MAX_ARRAY = 100_000;

function fail(path: string, why: string): never {
  throw new AudioLabError('AUDIOLAB_ERR_BAD_PAYLOAD', `${path}: ${why}`);
}

function checkValue(kind: FieldKind, value: unknown, path: string): void {
  switch (kind) {
    case 'string':
      if (typeof value !== 'string') fail(path, 'expected a string');
      if (value.length > MAX_STRING) fail(path, 'string too long');
      return;
    case 'uint':
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) fail(path, 'expected a non-negative integer');
      return;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) fail(path, 'expected a number');
      return;
    case 'boolean':
      if (typeof value !== 'boolean') fail(path, 'expected a boolean');
      return;
    case 'uint[]':
    case 'client[]':
    case 'song[]': {
      if (!Array.isArray(value)) fail(path, 'expected an array');
      if (value.length > MAX_ARRAY) fail(path, 'array too long');
      const item = kind.slice(0, -2) as FieldKind;
      value.forEach((v, i) => checkValue(item, v, `${path}[${i}]`));
      return;
    }
    case 'format':
    case 'client':
    case 'song':
      checkObject(SUB_SCHEMAS[kind], value, path);
      return;
  }
}

/** Checks `value` is an object with every required field of the right kind; extra fields are allowed (forward compatibility). */
export function checkObject(fields: Readonly<Record<string, string>>, value: unknown, path: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'expected an object');
  const obj = value as Record<string, unknown>;
  for (const [name, spec] of Object.entries(fields)) {
    const optional = spec.endsWith('?');
    const kind = (optional ? spec.slice(0, -1) : spec) as FieldKind;
    const v = obj[name];
    if (v === undefined) {
      if (!optional) fail(`${path}.${name}`, 'missing');
      continue;
    }
    checkValue(kind, v, `${path}.${name}`);
  }
}
