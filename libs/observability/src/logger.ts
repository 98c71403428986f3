import type { LoggerService } from '@nestjs/common';
import { context, trace } from '@opentelemetry/api';
import { pino, type DestinationStream, type Level, type Logger } from 'pino';
import { activeCorrelationId } from './trace-context';

/** Adds the active span's trace and the consumer's correlation to every line. */
function traceFields(): Record<string, string> {
  const span = trace.getSpan(context.active())?.spanContext();
  const correlationId = activeCorrelationId();
  return {
    ...(span !== undefined && trace.isSpanContextValid(span) ? { traceId: span.traceId, spanId: span.spanId } : {}),
    ...(correlationId === undefined ? {} : { correlationId }),
  };
}

/** A JSON logger (pino) whose lines carry `traceId`, `spanId` and `correlationId` when known. */
export function createLogger(level: Level | 'silent' = 'info', destination?: DestinationStream): Logger {
  const options = { level, base: { pid: process.pid }, mixin: traceFields };
  return destination === undefined ? pino(options) : pino(options, destination);
}

const text = (message: unknown): string => (typeof message === 'string' ? message : JSON.stringify(message));

/** Nest's logger over pino: `new Logger('agent-loop').warn(...)` becomes one JSON line. */
export class NexusLogger implements LoggerService {
  constructor(private readonly logger: Logger = createLogger()) {}

  log(message: unknown, ...rest: unknown[]): void {
    this.write('info', message, rest);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.write('error', message, rest);
  }
  warn(message: unknown, ...rest: unknown[]): void {
    this.write('warn', message, rest);
  }
  debug(message: unknown, ...rest: unknown[]): void {
    this.write('debug', message, rest);
  }
  verbose(message: unknown, ...rest: unknown[]): void {
    this.write('trace', message, rest);
  }
  fatal(message: unknown, ...rest: unknown[]): void {
    this.write('fatal', message, rest);
  }

  /** Nest passes the context (`new Logger(context)`) last, and an error's stack before it. */
  private write(level: Level, message: unknown, rest: unknown[]): void {
    const context = typeof rest[rest.length - 1] === 'string' ? (rest[rest.length - 1] as string) : undefined;
    const stack = rest.length > 1 && typeof rest[0] === 'string' ? rest[0] : undefined;
    const fields = { ...(context === undefined ? {} : { context }), ...(stack === undefined ? {} : { stack }) };
    if (message instanceof Error) this.logger[level]({ ...fields, err: message }, message.message);
    else this.logger[level](fields, text(message));
  }
}
