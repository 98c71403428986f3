import fc from 'fast-check';
import { z } from 'zod';

/**
 * fast-check generators of requests that every Nexus endpoint must refuse: each one breaks the
 * HTTP contract in exactly one place (one field, one header, one query parameter, or the body as a
 * whole) and is valid everywhere else, so a 2xx can only mean the refusal is missing.
 */

/** JSON text spliced into a body as is: numbers JSON.stringify cannot spell, hostile nesting. */
export class RawJson {
  constructor(readonly text: string) {}
}

/** JSON.stringify, except that RawJson is written as its text. */
export const toJson = (value: unknown): string => {
  if (value instanceof RawJson) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value).map(([key, item]) => `${JSON.stringify(key)}:${toJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
};

export type FieldKind =
  | { readonly kind: 'int'; readonly min: number; readonly max: number }
  | { readonly kind: 'number'; readonly min: number; readonly max: number }
  | { readonly kind: 'string'; readonly min: number; readonly max: number; readonly trimmed?: boolean }
  | { readonly kind: 'pattern'; readonly pattern: RegExp }
  | { readonly kind: 'record' }
  | { readonly kind: 'object' }
  | { readonly kind: 'boolean' }
  | { readonly kind: 'literal'; readonly value: unknown }
  | { readonly kind: 'array'; readonly min: number; readonly max: number; readonly validItem: unknown; readonly badItem: fc.Arbitrary<unknown> };

/** One field of a body: where it is, what it must be, whether it may be left out or be null. */
export interface FieldSpec {
  readonly path: readonly string[];
  readonly type: FieldKind;
  readonly required?: boolean;
  readonly nullable?: boolean;
}

/** A deep `{"a":{"a":…}}` or `[[…]]`, past the edge's limit of 64 levels. */
export const deepJson = fc
  .tuple(fc.integer({ min: 65, max: 5_000 }), fc.boolean())
  .map(([depth, objects]) => new RawJson(objects ? `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}` : `${'['.repeat(depth)}1${']'.repeat(depth)}`));

/** A string PostgreSQL cannot store: a NUL, or a lone UTF-16 surrogate. */
export const unstorableString = fc.oneof(
  fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })).map(([a, b]) => `${a}\u0000${b}`),
  // ASCII around it, so the surrogate can never pair with a neighbour.
  fc.tuple(fc.string({ maxLength: 20 }), fc.integer({ min: 0xd800, max: 0xdfff }), fc.string({ maxLength: 20 })).map(([a, s, b]) => `${a}${String.fromCharCode(s)}${b}`),
);

/** JSON numbers past what a double holds, or longer than any limit. */
const hugeNumber = fc.constantFrom('1e999', '-1e999', '1.5e400', '123456789012345678901234567890', '-98765432109876543210987654321').map((text) => new RawJson(text));

const notNumbers = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('NaN', 'Infinity', '-1', '1e3', '0x10', '', '12'), fc.boolean(), fc.array(fc.integer(), { maxLength: 3 }), fc.object({ maxDepth: 1 }));
const notStrings = fc.oneof(fc.integer(), fc.double(), fc.boolean(), fc.array(fc.string(), { maxLength: 3 }), fc.object({ maxDepth: 1 }));

const outOfRange = (min: number, max: number, integer: boolean) => (n: number) => !((!integer || Number.isInteger(n)) && n >= min && n <= max);

/** A value the field's contract refuses; `null` only where the field is not nullable. */
export function badValue(spec: FieldSpec): fc.Arbitrary<unknown> {
  const nullUnlessNullable = spec.nullable === true ? [] : [fc.constant(null)];
  const type = spec.type;
  switch (type.kind) {
    case 'int':
    case 'number': {
      const bad = outOfRange(type.min, type.max, type.kind === 'int');
      const edges = [type.min - 1, type.max + 1, type.min + 0.5, Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER, 1e21, -0.0001].filter(bad);
      return fc.oneof(fc.constantFrom(...edges), fc.double({ noNaN: true, noDefaultInfinity: true }).filter(bad), hugeNumber, notNumbers, ...nullUnlessNullable);
    }
    case 'string': {
      const tooLong = fc.nat(40).map((n) => 'x'.repeat(type.max + 1 + n));
      const tooShort = type.min > 0 ? [fc.constant(type.trimmed === true ? '   ' : '')] : [];
      return fc.oneof(notStrings, tooLong, unstorableString, ...tooShort, ...nullUnlessNullable);
    }
    case 'pattern':
      return fc.oneof(fc.string({ maxLength: 80 }).filter((s) => !type.pattern.test(s)), notStrings, unstorableString, ...nullUnlessNullable);
    case 'record':
    case 'object':
      return fc.oneof(
        fc.string({ maxLength: 10 }),
        fc.integer(),
        fc.boolean(),
        fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 3 }),
        fc.dictionary(fc.string({ maxLength: 8 }), unstorableString, { minKeys: 1, maxKeys: 3 }),
        unstorableString.map((key) => ({ [key]: 1 })),
        deepJson.map((deep) => ({ nested: deep })),
        ...nullUnlessNullable,
      );
    case 'boolean':
      return fc.oneof(fc.constantFrom('true', 'false', 0, 1, 'yes'), fc.object({ maxDepth: 1 }), fc.array(fc.boolean(), { maxLength: 2 }));
    case 'literal':
      return fc.oneof(fc.jsonValue({ maxDepth: 1 }).filter((v) => v !== type.value && (v !== null || spec.nullable !== true)), hugeNumber);
    case 'array':
      return fc.oneof(
        fc.string({ maxLength: 10 }),
        fc.integer(),
        fc.object({ maxDepth: 1 }),
        fc.tuple(fc.array(fc.constant(type.validItem), { maxLength: 2 }), type.badItem).map(([items, bad]) => [...items, bad]),
        fc.constant(Array.from({ length: type.max + 1 }, () => type.validItem)),
        ...(type.min > 0 ? [fc.constant([])] : []),
        ...nullUnlessNullable,
      );
  }
}

const withValue = (body: unknown, path: readonly string[], value: unknown): unknown => {
  const copy = structuredClone(body) as Record<string, unknown>;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
  at[path.at(-1) as string] = value;
  return copy;
};

const without = (body: unknown, path: readonly string[]): unknown => {
  const copy = structuredClone(body) as Record<string, unknown>;
  let at = copy;
  for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
  delete at[path.at(-1) as string];
  return copy;
};

/** A request as sent: raw bytes and headers (null: left out), and what makes it wrong (for the failure report). */
export interface BadRequest {
  readonly why: string;
  readonly query?: string;
  readonly headers: Record<string, string | null>;
  readonly body?: string;
}

const json = { 'content-type': 'application/json' };

/** Content types other than JSON, sent with a body that would be valid JSON. */
const notJsonTypes = fc.constantFrom(
  'text/plain',
  'text/plain; charset=utf-8',
  'text/html',
  'application/xml',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'application/jsonp',
  'application/json-seq',
  'application/javascript',
  'json',
  'image/png',
);

/** Text that is not JSON. */
const notJson = (valid: string) =>
  fc.oneof(
    fc.nat(Math.max(valid.length - 1, 0)).map((n) => valid.slice(0, n)).filter((text) => text !== ''),
    fc.string({ minLength: 1, maxLength: 30 }).map((tail) => `${valid}${tail}`),
    fc.constantFrom("{'a':1}", '{"a":NaN}', '{"a":undefined}', '{"a":1,}', '{"a":01}', '{"a":Infinity}', '{a:1}', '{"a":"\\x41"}', '{"a":"\\ud800', '[', '{', '"', 'nul', '--', '{"a":1}}'),
    fc.string({ minLength: 1, maxLength: 40 }),
  ).filter((text) => {
    try {
      JSON.parse(text);
      return false;
    } catch {
      return true;
    }
  });

/** JSON that is not an object: commands take objects only. */
const notObjects = fc.oneof(fc.constant(null), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.string({ maxLength: 20 }), fc.boolean(), fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }));

/** Header values a header parser keeps as they are (printable, no surrounding blanks), but wrong. */
const latin1 = fc.integer({ min: 0x80, max: 0xff }).map((c) => String.fromCharCode(c));

/** Keys that are not 1–255 printable ASCII characters (blanks inside, not around: those are trimmed). */
const badIdempotencyKey = fc.oneof(
  fc.nat(40).map((n) => 'k'.repeat(256 + n)),
  fc
    .tuple(fc.stringMatching(/^[a-z0-9]{1,10}$/), fc.oneof(latin1, fc.constantFrom(' ', '\t')), fc.stringMatching(/^[a-z0-9]{1,10}$/))
    .map(([a, c, b]) => `${a}${c}${b}`),
);

export interface BodyEndpoint {
  /** A body the endpoint accepts, with the ids of things that exist: every mutation of it must be refused. */
  readonly valid: unknown;
  readonly fields: readonly FieldSpec[];
  /** Unknown fields are refused (every Nexus DTO); OpenAI's chat completions ignores them. */
  readonly strict: boolean;
  readonly headers: Record<string, string | null>;
  /** false: not a command, so Idempotency-Key means nothing to it (the operator endpoints). */
  readonly idempotent?: boolean;
  /** Header-only mutations beyond Idempotency-Key, Content-Type and Authorization. */
  readonly badHeaders?: fc.Arbitrary<{ why: string; headers: Record<string, string | null> }>;
}

/** Every way a request to a JSON-body endpoint is made wrong in exactly one place. */
export function badBodyRequest(endpoint: BodyEndpoint): fc.Arbitrary<BadRequest> {
  const { valid, fields, headers } = endpoint;
  const validJson = toJson(valid ?? {});
  const request = (why: string, body: unknown, extra: Record<string, string | null> = {}): BadRequest => ({
    why,
    headers: { ...headers, ...json, ...extra },
    body: typeof body === 'string' ? body : toJson(body),
  });
  const required = fields.filter((f) => f.required === true);
  const known = new Set(fields.map((f) => f.path.join('.')));
  const options: fc.Arbitrary<BadRequest>[] = [
    notJson(validJson).map((text) => request('not JSON', text)),
    notObjects.map((body) => request('JSON but not an object', new RawJson(toJson(body)))),
    notJsonTypes.map((type) => request(`content-type ${type}`, validJson, { 'content-type': type })),
    fc.constantFrom('__proto__', 'constructor').map((key) =>
      request(`${key} in the body`, `${validJson.slice(0, -1)}${validJson === '{}' ? '' : ','}"${key}":{"prototype":{"polluted":true},"polluted":true}}`),
    ),
    deepJson.map((deep) => request('nested too deep', withValue(valid ?? {}, ['deep'], deep))),
    fc.constantFrom('', 'Bearer', 'Bearer not-a-key-000000000000000', 'Basic YWxpY2U6c2VjcmV0', 'Token dev-user-alice-0000000000000000', 'Bearer a b c').map((authorization) =>
      request('bad Authorization', validJson, { authorization }),
    ),
  ];
  if (endpoint.idempotent !== false) options.push(badIdempotencyKey.map((key) => request('bad Idempotency-Key', validJson, { 'idempotency-key': key })));
  if (fields.length > 0) {
    options.push(fc.constantFrom(...fields).chain((field) => badValue(field).map((value) => request(`bad ${field.path.join('.')}`, withValue(valid, field.path, value)))));
  }
  if (required.length > 0) options.push(fc.constantFrom(...required).map((field) => request(`no ${field.path.join('.')}`, without(valid, field.path))));
  if (endpoint.strict) {
    options.push(
      fc
        .tuple(fc.string({ minLength: 1, maxLength: 20 }), fc.jsonValue({ maxDepth: 2 }))
        .filter(([key]) => !known.has(key) && key !== '__proto__')
        .map(([key, value]) => request(`unknown field ${key}`, withValue(valid ?? {}, [key], value))),
    );
  }
  if (endpoint.badHeaders !== undefined) options.push(endpoint.badHeaders.map(({ why, headers: extra }) => request(why, validJson, extra)));
  // Past the 1 MiB body limit: rare, each is a megabyte to send.
  const oversized = fc.nat(1000).map((n) => request('body over the limit', withValue(valid ?? {}, ['padding'], 'x'.repeat(1_048_576 + n))));
  return fc.tuple(fc.oneof(...options.map((arbitrary) => ({ arbitrary, weight: 20 })), { arbitrary: oversized, weight: 1 }), noiseHeaders).map(([bad, noise]) => ({ ...bad, headers: { ...noise, ...bad.headers } }));
}

/** Headers Nexus reads but never refuses for: garbage here must change nothing. */
export const noiseHeaders: fc.Arbitrary<Record<string, string>> = fc.record(
  {
    traceparent: fc.oneof(fc.string({ maxLength: 60 }), fc.constant('00-00000000000000000000000000000000-0000000000000000-00')),
    'x-forwarded-for': fc.oneof(fc.string({ maxLength: 40 }), fc.constant('203.0.113.66, ::1, not-an-ip')),
    'user-agent': fc.string({ maxLength: 200 }),
  },
  { requiredKeys: [] },
).map((headers) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.trim() === '' ? 'x' : v])));

/** What a query parameter must be, as a predicate on its text (after the server decodes it). */
export interface QueryParamSpec {
  readonly name: string;
  readonly valid: (text: string) => boolean;
  /** Free text: any escape that decodes is valid here, so only lengths and NULs can be wrong. */
  readonly freeText?: boolean;
}

export const intParam = (name: string, min: number, max: number): QueryParamSpec => ({
  name,
  valid: (text) => {
    const n = Number(text);
    return text.trim() !== '' && Number.isInteger(n) && n >= min && n <= max;
  },
});
export const enumParam = (name: string, values: readonly string[]): QueryParamSpec => ({ name, valid: (text) => values.includes(text) });
export const patternParam = (name: string, pattern: RegExp): QueryParamSpec => ({ name, valid: (text) => pattern.test(text) });
export const textParam = (name: string, max: number): QueryParamSpec => ({ name, valid: (text) => text.length >= 1 && text.length <= max && !text.includes('\u0000'), freeText: true });
const isoDateTime = z.iso.datetime({ offset: true });
export const dateTimeParam = (name: string): QueryParamSpec => ({ name, valid: (text) => isoDateTime.safeParse(text).success });
/** A page cursor is valid only as the API issued it: base64url JSON of `[sortValue, id]`. */
export const cursorParam: QueryParamSpec = {
  name: 'cursor',
  valid: (text) => {
    try {
      const value = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as unknown;
      return text.length <= 512 && Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'string');
    } catch {
      return false;
    }
  },
};

export interface QueryEndpoint {
  readonly params: readonly QueryParamSpec[];
  readonly headers: Record<string, string | null>;
  /** Header-only mutations, with a valid query. */
  readonly badHeaders?: fc.Arbitrary<{ why: string; headers: Record<string, string | null> }>;
  /** An endpoint without query parameters (the run stream): only its headers can be wrong. */
  readonly headersOnly?: boolean;
}

const encode = (params: readonly (readonly [string, string])[]): string => params.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

/** Every way a query is made wrong in exactly one parameter (or one header). */
export function badQueryRequest(endpoint: QueryEndpoint): fc.Arbitrary<BadRequest> {
  const { params, headers } = endpoint;
  const names = new Set(params.map((p) => p.name));
  const request = (why: string, query: string, extra: Record<string, string | null> = {}): BadRequest => ({ why, query, headers: { ...headers, ...extra } });
  const badText = (param: QueryParamSpec) =>
    fc
      .oneof(
        fc.string({ maxLength: 30 }),
        fc.string({ unit: 'grapheme', maxLength: 10 }),
        fc.constantFrom('', '-1', '0', '1.5', 'NaN', 'Infinity', '1e999', '9'.repeat(40), 'true', 'null', '[]', '{}'),
        fc.nat(100).map((n) => 'x'.repeat(513 + n)),
        // A URL has no way to spell a lone surrogate; a NUL it has.
        fc.tuple(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 })).map(([a, b]) => `${a}\u0000${b}`),
      )
      .filter((text) => !param.valid(text));
  const typed = params.filter((p) => p.freeText !== true);
  const options: fc.Arbitrary<BadRequest>[] = [];
  if (endpoint.headersOnly !== true) {
    options.push(fc.string({ minLength: 1, maxLength: 20 }).filter((name) => !names.has(name)).map((name) => request(`unknown parameter ${name}`, encode([[name, '1']]))));
  }
  if (typed.length > 0) {
    // Percent-escapes that do not decode: the text stays as sent, which no typed parameter accepts.
    options.push(
      fc
        .tuple(fc.constantFrom(...typed), fc.constantFrom('%', '%zz', '%E0%A4%A', '%ED%A0%80', '%C0%AF', '%FF'))
        .map(([param, escape]) => request(`undecodable ${param.name}`, `${encodeURIComponent(param.name)}=${escape}`)),
    );
  }
  if (params.length > 0) {
    options.push(
      fc.constantFrom(...params).chain((param) => badText(param).map((text) => request(`bad ${param.name}`, encode([[param.name, text]])))),
      // A parameter given twice arrives as an array, which no parameter accepts.
      fc.constantFrom(...params).map((param) => request(`${param.name} twice`, encode([[param.name, 'a'], [param.name, 'b']]))),
    );
  }
  if (endpoint.badHeaders !== undefined) options.push(endpoint.badHeaders.map(({ why, headers: extra }) => request(why, '', extra)));
  return fc.tuple(fc.oneof(...options), noiseHeaders).map(([bad, noise]) => ({ ...bad, headers: { ...noise, ...bad.headers } }));
}

/** X-Nexus-Min-Position values that are not a non-negative integer. */
export const badMinPosition = fc
  .oneof(fc.string({ minLength: 1, maxLength: 20 }), fc.constantFrom('-1', '1.5', 'NaN', '1e999', '9'.repeat(30), 'abc'))
  .filter((text) => {
    const n = Number(text.trim());
    return text.trim() !== '' && !(Number.isSafeInteger(n) && n >= 0);
  })
  .map((value) => ({ why: 'bad X-Nexus-Min-Position', headers: { 'x-nexus-min-position': value } }));
