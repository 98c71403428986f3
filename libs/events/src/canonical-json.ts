/**
 * RFC 8785 (JCS) canonical JSON, byte for byte what the `canonicalize` package prints for JSON
 * data (keys sorted by UTF-16 code units, numbers as ECMAScript prints them, `undefined` members
 * left out and `undefined` array items as `null`), but without recursion: nesting depth is
 * bounded only by memory. Hash chains and digests go through it, and the depth of what they hash
 * is partly the user's to choose; a recursive walk would let one deep document make the audit
 * chain unverifiable (a stack overflow on every verify). Refuses what has no canonical form, as
 * `canonicalize` does: NaN, infinities, lone surrogates, cycles.
 */
export function canonicalJson(value: unknown): string | undefined {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol') return undefined;
  const out: string[] = [];
  const open = new Set<object>();
  // A task prints a value, prints literal text, or closes an object (for cycle detection).
  type Task = { value: unknown } | { text: string } | { leave: object };
  const stack: Task[] = [{ value }];
  while (stack.length > 0) {
    const task = stack.pop() as Task;
    if ('text' in task) {
      out.push(task.text);
      continue;
    }
    if ('leave' in task) {
      open.delete(task.leave);
      continue;
    }
    const current = task.value;
    if (current === null || typeof current !== 'object') {
      out.push(scalar(current));
      continue;
    }
    if (open.has(current)) throw new Error('Circular reference detected');
    open.add(current);
    stack.push({ leave: current });
    const withJson = current as { toJSON?: unknown };
    if (typeof withJson.toJSON === 'function') {
      stack.push({ value: (withJson.toJSON as () => unknown).call(current) });
      continue;
    }
    if (Array.isArray(current)) {
      stack.push({ text: ']' });
      for (let i = current.length - 1; i >= 0; i -= 1) {
        const item: unknown = current[i];
        stack.push({ value: item === undefined || typeof item === 'symbol' || typeof item === 'function' ? null : item });
        if (i > 0) stack.push({ text: ',' });
      }
      stack.push({ text: '[' });
      continue;
    }
    const record = current as Record<string, unknown>;
    const keys = Object.keys(record)
      .sort()
      .filter((key) => record[key] !== undefined && typeof record[key] !== 'symbol' && typeof record[key] !== 'function');
    stack.push({ text: '}' });
    for (let i = keys.length - 1; i >= 0; i -= 1) {
      const key = keys[i] as string;
      stack.push({ value: record[key] });
      stack.push({ text: `${scalar(key)}:` });
      if (i > 0) stack.push({ text: ',' });
    }
    stack.push({ text: '{' });
  }
  return out.join('');
}

function scalar(value: unknown): string {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) throw new Error('NaN is not allowed');
    if (!Number.isFinite(value)) throw new Error('Infinity is not allowed');
  }
  if (typeof value === 'string' && hasLoneSurrogate(value)) throw new Error('Lone surrogate is not allowed');
  return JSON.stringify(value) as string;
}

/** Whether the text has a UTF-16 surrogate without its pair: it has no UTF-8 form. */
export function hasLoneSurrogate(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i += 1;
    } else if (code >= 0xdc00 && code <= 0xdfff) return true;
  }
  return false;
}

/**
 * Text PostgreSQL can store: `jsonb` refuses NUL (`\u0000`) and lone surrogates. Each becomes
 * U+FFFD; `replaced` counts them.
 */
export function storableText(text: string): { text: string; replaced: number } {
  if (!text.includes('\u0000') && !hasLoneSurrogate(text)) return { text, replaced: 0 };
  let replaced = 0;
  let result = '';
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code === 0) {
      result += '\ufffd';
      replaced += 1;
    } else if (code >= 0xd800 && code <= 0xdbff) {
      const next = text.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        result += text.slice(i, i + 2);
        i += 1;
      } else {
        result += '\ufffd';
        replaced += 1;
      }
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      result += '\ufffd';
      replaced += 1;
    } else result += text.charAt(i);
  }
  return { text: result, replaced };
}

/**
 * A JSON value with every string (keys included) made storable, without recursion; the same
 * object when nothing needed replacing.
 */
export function storableJson<T>(value: T): { value: T; replaced: number } {
  let replaced = 0;
  const fix = (text: string): string => {
    const result = storableText(text);
    replaced += result.replaced;
    return result.text;
  };
  if (typeof value === 'string') {
    const text = fix(value);
    return { value: text as T, replaced };
  }
  if (value === null || typeof value !== 'object') return { value, replaced: 0 };
  // Copy-on-need would save allocations; a copy is simpler, and this runs only when needed.
  if (!needsReplacing(value)) return { value, replaced: 0 };
  const root: unknown = Array.isArray(value) ? [] : {};
  const stack: [unknown, Record<string, unknown> | unknown[]][] = [[value, root as Record<string, unknown>]];
  while (stack.length > 0) {
    const [source, target] = stack.pop() as [unknown, Record<string, unknown> | unknown[]];
    for (const [key, item] of Object.entries(source as object)) {
      const copy: unknown = typeof item === 'string' ? fix(item) : item !== null && typeof item === 'object' ? (Array.isArray(item) ? [] : {}) : item;
      if (Array.isArray(target)) target[Number(key)] = copy;
      else target[fix(key)] = copy;
      if (item !== null && typeof item === 'object') stack.push([item, copy as Record<string, unknown>]);
    }
  }
  return { value: root as T, replaced };
}

function needsReplacing(value: object): boolean {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const current = stack.pop();
    if (typeof current === 'string') {
      if (current.includes('\u0000') || hasLoneSurrogate(current)) return true;
      continue;
    }
    if (current === null || typeof current !== 'object') continue;
    for (const [key, item] of Object.entries(current)) {
      if (key.includes('\u0000') || hasLoneSurrogate(key)) return true;
      stack.push(item);
    }
  }
  return false;
}
