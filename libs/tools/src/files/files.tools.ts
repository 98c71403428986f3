import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { z } from 'zod';
import { defineTool, ToolError, type Tool } from '../tool-definition';
import {
  checkOpened,
  checkRelativePath,
  READ_FLAGS,
  resolveInWorkspace,
  usedBytes,
  workspaceRoot,
  WRITE_FLAGS,
  type WorkspaceLimits,
} from './workspace';

const readSchema = z.object({ path: z.string().describe('path relative to the session workspace') });
const writeSchema = z.object({
  path: z.string().describe('path relative to the session workspace'),
  content: z.string().describe('UTF-8 text'),
  overwrite: z.boolean().default(true).describe('false: fail if the file exists'),
});

function mapFsError(error: unknown): never {
  if (error instanceof ToolError) throw error;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') throw new ToolError('refused', 'target is a symbolic link');
  if (code === 'EEXIST') throw new ToolError('refused', 'file exists and overwrite is false');
  if (code === 'ENOENT') throw new ToolError('not_found', 'no such file');
  throw new ToolError('execution_failed', (error as Error).message);
}

/** `files_read`: a UTF-8 file of the session's workspace. */
export function createFilesReadTool(limits: WorkspaceLimits): Tool<typeof readSchema> {
  return defineTool(
    {
      name: 'files_read',
      version: '1.0.0',
      description: 'Read a UTF-8 text file from this session\'s workspace.',
      category: 'data',
      risk: 'low',
      inputSchema: readSchema,
      timeoutMs: 5_000,
      permissions: ['workspace:read'],
    },
    async ({ path }, context) => {
      const segments = checkRelativePath(path, limits);
      const root = await workspaceRoot(limits, context.tenantId, context.sessionId);
      try {
        const { target } = await resolveInWorkspace(root, segments, false);
        const handle = await open(target, READ_FLAGS);
        try {
          const size = await checkOpened(handle);
          if (size > limits.maxFileBytes) throw new ToolError('too_large', `file is ${size} bytes, limit ${limits.maxFileBytes}`);
          const content = await handle.readFile({ encoding: 'utf8' });
          return { output: { path: segments.join('/'), bytes: size, content } };
        } finally {
          await handle.close();
        }
      } catch (error) {
        mapFsError(error);
      }
    },
  );
}

/**
 * `files_write`: creates or replaces a UTF-8 file in the session's workspace. The file is opened
 * with `O_NOFOLLOW` (and `O_EXCL` when not overwriting) and checked through its handle before it
 * is truncated, so a hard-linked or swapped-in file is refused without being touched.
 */
export function createFilesWriteTool(limits: WorkspaceLimits): Tool<typeof writeSchema> {
  return defineTool(
    {
      name: 'files_write',
      version: '1.0.0',
      description: 'Create or replace a UTF-8 text file in this session\'s workspace.',
      category: 'system',
      risk: 'high',
      inputSchema: writeSchema,
      timeoutMs: 5_000,
      permissions: ['workspace:write'],
    },
    async ({ path, content, overwrite }, context) => {
      const segments = checkRelativePath(path, limits);
      const bytes = Buffer.from(content, 'utf8');
      if (bytes.length > limits.maxFileBytes) throw new ToolError('too_large', `content is ${bytes.length} bytes, limit ${limits.maxFileBytes}`);
      const root = await workspaceRoot(limits, context.tenantId, context.sessionId);
      try {
        const { target, existingBytes } = await resolveInWorkspace(root, segments, true);
        // Checked before opening so a refused write leaves no empty file behind; concurrent writes
        // of one session may overshoot by at most one file.
        if ((await usedBytes(root)) - existingBytes + bytes.length > limits.quotaBytes) {
          throw new ToolError('quota_exceeded', `workspace quota of ${limits.quotaBytes} bytes would be exceeded`);
        }
        const handle = await open(target, WRITE_FLAGS | (overwrite ? 0 : constants.O_EXCL), 0o644);
        try {
          await checkOpened(handle);
          await handle.truncate(0);
          await handle.write(bytes, 0, bytes.length, 0);
          return { output: { path: segments.join('/'), bytes: bytes.length } };
        } finally {
          await handle.close();
        }
      } catch (error) {
        mapFsError(error);
      }
    },
  );
}
