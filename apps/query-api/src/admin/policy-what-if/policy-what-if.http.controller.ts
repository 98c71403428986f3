import { Body, Controller, HttpCode, Inject, Post, Req } from '@nestjs/common';
import { platformScope } from '@nexus/domain';
import { EVENT_STORE, SQL_EXECUTOR, type EventStorePort, type SqlExecutor } from '@nexus/event-store';
import { ProblemException, ZodValidationPipe, type AuthenticatedRequest } from '@nexus/http';
import { CedarPolicyEngine, parsePolicyFiles, PolicyLoadError, whatIf } from '@nexus/policy';
import { momentOf, policyWhatIfRequestSchema, type PolicyWhatIfRequest } from './policy-what-if.request.dto';
import { readRecordedPolicyCalls } from './recorded-policy-calls.reader';

/**
 * `nexus policy what-if`: evaluates a candidate Cedar policy set on the recorded tool calls of a
 * window and reports which decisions it would change. A read: nothing is written, no run touched.
 * The report shows the tenant's tool inputs, so it is an admin's, for their own tenant.
 */
@Controller('v1/admin/policy/what-if')
export class PolicyWhatIfHttpController {
  constructor(
    @Inject(SQL_EXECUTOR) private readonly sql: SqlExecutor,
    @Inject(EVENT_STORE) private readonly store: EventStorePort,
  ) {}

  @Post()
  @HttpCode(200)
  async evaluate(@Req() request: AuthenticatedRequest, @Body(new ZodValidationPipe(policyWhatIfRequestSchema)) body: PolicyWhatIfRequest) {
    const { tenantId } = platformScope(request.auth.actor, 'policy.whatIf');
    const now = new Date();
    const from = momentOf(body.since, now);
    const to = body.until === undefined ? now : momentOf(body.until, now);
    if (!(from < to)) throw new ProblemException(400, 'validation_failed', 'Invalid window', '`since` must be before `until`.');
    const candidate = new CedarPolicyEngine(this.parse(body));
    const calls = await readRecordedPolicyCalls(this.sql, this.store, tenantId ?? request.auth.actor.tenantId, from, to);
    return { window: { from: from.toISOString(), to: to.toISOString() }, ...whatIf(candidate, calls, body.examples ?? 3) };
  }

  private parse(body: PolicyWhatIfRequest) {
    try {
      return parsePolicyFiles('the candidate policies', body.policies);
    } catch (error) {
      if (!(error instanceof PolicyLoadError)) throw error;
      throw new ProblemException(400, 'validation_failed', 'Invalid policies', error.message);
    }
  }
}
