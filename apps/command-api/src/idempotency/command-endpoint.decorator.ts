import { applyDecorators, HttpCode, Post, UseInterceptors } from '@nestjs/common';
import { CommandResponseInterceptor } from './command-response.interceptor';

export type { CommandReply } from './command-response.interceptor';

/** A `POST` command route: fixed success status, `X-Nexus-Position`, `Idempotency-Key`. */
export const CommandEndpoint = (status: 201 | 202): MethodDecorator =>
  applyDecorators(Post(), HttpCode(status), UseInterceptors(CommandResponseInterceptor));
export { replyWith } from './reply-to-commit';
