import { link, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runTool } from '../run-tool';
import { ToolError } from '../tool-definition';
import { ToolRegistry } from '../tool-registry';
import { createFilesReadTool, createFilesWriteTool } from './files.tools';
import { DEFAULT_WORKSPACE_LIMITS, isInside } from './workspace';

const context = { sessionId: 's1', tenantId: 't1', userId: 'u1', toolCallId: 'c1' };
let dataDir: string;
let ws: string;
let registry: ToolRegistry;

const read = (path: string, ctx = context) => runTool(registry, 'files_read', { path }, ctx);
const write = (path: string, content = 'x', ctx = context) => runTool(registry, 'files_write', { path, content }, ctx);
const failure = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a refusal'); }, (e: unknown) => e as ToolError);

beforeAll(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'nexus-files-'));
  const limits = { ...DEFAULT_WORKSPACE_LIMITS, dataDir, quotaBytes: 10_000, maxFileBytes: 6_000 };
  registry = new ToolRegistry().register(createFilesReadTool(limits)).register(createFilesWriteTool(limits));
  ws = join(dataDir, 'workspaces', 't1', 's1');
  await mkdir(ws, { recursive: true });
  const outside = join(dataDir, 'outside');
  await mkdir(outside);
  await writeFile(join(outside, 'secret.txt'), 'secret');
  await mkdir(`${ws}-evil`);
  await writeFile(join(`${ws}-evil`, 'secret.txt'), 'twin secret');
  await symlink(join(outside, 'secret.txt'), join(ws, 'out-link.txt'));
  await symlink(outside, join(ws, 'linkdir'));
  await symlink(join(outside, 'nothing-here.txt'), join(ws, 'dangling.txt'));
  await link(join(outside, 'secret.txt'), join(ws, 'hard.txt'));
});

afterAll(() => rm(dataDir, { recursive: true, force: true }));

describe('workspace files', () => {
  it('writes, reads back and overwrites a file in a subdirectory', async () => {
    await write('notes/a.txt', 'hello');
    expect((await read('notes/a.txt')).output).toEqual({ path: 'notes/a.txt', bytes: 5, content: 'hello' });
    await write('notes/a.txt', 'bye');
    expect(await readFile(join(ws, 'notes', 'a.txt'), 'utf8')).toBe('bye');
  });

  it('keeps sessions apart', async () => {
    await write('mine.txt', 'one');
    const error = await failure(read('mine.txt', { ...context, sessionId: 's2' }));
    expect(error.code).toBe('not_found');
  });

  it.each([
    '../s2/x.txt', '../../t2/s1/x.txt', 'a/../../x.txt', '/etc/passwd.txt', 'C:/x.txt', '%2e%2e/x.txt',
    '.%2E/x.txt', '..%2fx.txt', 'x.txt\u0000.txt', '../s1-evil/secret.txt', 'a\\..\\x.txt', './x.txt',
    'x.exe', 'noext',
  ])('refuses the path %j for reading and writing', async (path) => {
    expect((await failure(read(path))).code).toBe('refused');
    expect((await failure(write(path))).code).toBe('refused');
  });

  it.each(['out-link.txt', 'linkdir/secret.txt', 'dangling.txt', 'hard.txt'])(
    'refuses %s (symlink, symlinked directory, dangling symlink, hard link) for reading and writing',
    async (path) => {
      expect((await failure(read(path))).code).toBe('refused');
      expect((await failure(write(path, 'pwned'))).code).toBe('refused');
      expect(await readFile(join(dataDir, 'outside', 'secret.txt'), 'utf8')).toBe('secret');
    },
  );

  it('does not create through a symlinked directory', async () => {
    expect((await failure(write('linkdir/new.txt'))).code).toBe('refused');
    await expect(readFile(join(dataDir, 'outside', 'new.txt'))).rejects.toThrow();
  });

  it('treats a prefix twin as outside', () => {
    expect(isInside(ws, `${ws}-evil/secret.txt`)).toBe(false);
    expect(isInside(ws, join(ws, 'a', 'b.txt'))).toBe(true);
  });

  it('enforces the file size limit and the session quota', async () => {
    expect((await failure(write('big.txt', 'x'.repeat(7_000)))).code).toBe('too_large');
    await write('q1.txt', 'x'.repeat(5_000));
    const error = await failure(write('q2.txt', 'x'.repeat(5_000)));
    expect(error.code).toBe('quota_exceeded');
    expect((await failure(read('q2.txt'))).code).toBe('not_found');
    await write('q1.txt', 'x'.repeat(5_500));
  });
});
