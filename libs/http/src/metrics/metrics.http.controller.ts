import { Controller, Get, Header } from '@nestjs/common';
import { register } from 'prom-client';
import { Public } from '../auth/api-key.guard';

/** Prometheus text exposition of the process's metrics, unauthenticated like the health checks. */
@Public()
@Controller('metrics')
export class MetricsHttpController {
  @Get()
  @Header('content-type', register.contentType)
  metrics(): Promise<string> {
    return register.metrics();
  }
}
