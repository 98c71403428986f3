import { constants } from 'node:fs';
import { lstat, mkdir, readdir, realpath, type FileHandle } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import { ToolError } from '../tool-definition';

export interface WorkspaceLimits {
  /** `<dataDir>/workspaces/<tenant>/<session>/` is each session's root. */
  readonly dataDir: string;
  readonly maxFileBytes: number;
  readonly quotaBytes: number;
  /** Lower-case extensions with the dot, e.g. `.txt`. */
  readonly allowedExtensions: readonly string[];
}

export const DEFAULT_WORKSPACE_LIMITS: Omit<WorkspaceLimits, 'dataDir'> = {
  maxFileBytes: 1024 * 1024,
  quotaBytes: 20 * 1024 * 1024,
  allowedExtensions: ['.txt', '.md', '.json', '.csv', '.tsv', '.yaml', '.yml', '.xml', '.html', '.log', '.js', '.ts', '.py', '.sql'],
};

/** `O_NOFOLLOW` makes the kernel refuse a symlink in the last component even if one appears after the checks. */
export const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;
export const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW;

const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;

const refuse = (message: string) => new ToolError('refused', message);

/** The session's workspace directory, created on first use, as its real path. */
export async function workspaceRoot(limits: WorkspaceLimits, tenantId: string, sessionId: string): Promise<string> {
  // Ids become path segments: only a conservative alphabet keeps them from meaning anything else.
  if (!SAFE_ID.test(tenantId) || !SAFE_ID.test(sessionId)) throw refuse('tenant or session id unusable as a directory');
  const dir = join(limits.dataDir, 'workspaces', tenantId, sessionId);
  await mkdir(dir, { recursive: true });
  return realpath(dir);
}

/** Whether `target` is `root` or below it — by path segments, so `<root>-evil` is not inside. */
export function isInside(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * Splits a workspace-relative path into checked segments. Refused: empty, absolute (POSIX or
 * Windows), NUL and control characters, backslashes, `.`/`..` segments, percent-encoding (a later
 * decode could turn `%2e%2e` into `..`), and extensions off the allowlist.
 */
export function checkRelativePath(path: string, limits: WorkspaceLimits): string[] {
  if (path.length === 0 || path.length > 1024) throw refuse('path is empty or too long');
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\u007f]/.test(path)) throw refuse('path contains NUL or control characters');
  if (path.includes('\\')) throw refuse('path contains a backslash');
  if (isAbsolute(path) || /^[A-Za-z]:/.test(path)) throw refuse('path is absolute');
  if (/%[0-9A-Fa-f]{2}/.test(path)) throw refuse('path contains percent-encoding');
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) throw refuse('path contains . or .. segments');
  const name = segments.at(-1) ?? '';
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? name.slice(dot).toLowerCase() : '';
  if (!limits.allowedExtensions.includes(extension)) throw refuse(`extension "${extension}" is not allowed`);
  return segments;
}

/**
 * Walks the parent directories segment by segment with `lstat`: each must be a real directory
 * (a symlinked directory is refused, not followed). With `create`, missing ones are made. Then the
 * parent's real path must still be inside the root. Returns the target's absolute path and the size of the file already there (0 if none).
 */
export async function resolveInWorkspace(
  root: string,
  segments: string[],
  create: boolean,
): Promise<{ target: string; existingBytes: number }> {
  let current = root;
  for (const segment of segments.slice(0, -1)) {
    current = join(current, segment);
    let stats = await lstat(current).catch(() => undefined);
    if (!stats && create) {
      await mkdir(current).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'EEXIST') throw e;
      });
      stats = await lstat(current);
    }
    if (!stats) throw new ToolError('not_found', `directory ${relative(root, current)} does not exist`);
    if (stats.isSymbolicLink()) throw refuse(`${relative(root, current)} is a symbolic link`);
    if (!stats.isDirectory()) throw refuse(`${relative(root, current)} is not a directory`);
  }
  if (!isInside(root, await realpath(current))) throw refuse('path leaves the workspace');
  const target = join(current, segments.at(-1) ?? '');
  if (!isInside(root, target)) throw refuse('path leaves the workspace');
  const existing = await lstat(target).catch(() => undefined);
  // Symlinks are refused whether they point in, out or nowhere (dangling).
  if (existing?.isSymbolicLink()) throw refuse('target is a symbolic link');
  if (existing && !existing.isFile()) throw refuse('target is not a regular file');
  if (existing && existing.nlink > 1) throw refuse('target has other hard links');
  return { target, existingBytes: existing?.size ?? 0 };
}

/** The open file must be the regular, singly-linked file that was checked (no swap in between). */
export async function checkOpened(handle: FileHandle): Promise<number> {
  const stats = await handle.stat();
  if (!stats.isFile()) throw refuse('target is not a regular file');
  if (stats.nlink > 1) throw refuse('target has other hard links');
  return stats.size;
}

/** Bytes used by regular files under the root (symlinks and special files count as nothing). */
export async function usedBytes(root: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += (await lstat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}
