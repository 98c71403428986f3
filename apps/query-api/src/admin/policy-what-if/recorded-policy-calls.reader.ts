import { budgetDecider, fold, remainingBudget } from '@nexus/domain';
import { readStreamOf, type EventStorePort, type SqlExecutor } from '@nexus/event-store';
import { budgetEventContract, runEventContract, type ToolCallPolicyDecision, type ToolCallRequested } from '@nexus/events';
import type { RecordedPolicyCall } from '@nexus/policy';

const verdicts: Readonly<Record<string, ToolCallPolicyDecision>> = {
  ToolCallAllowed: 'allow',
  ToolCallDenied: 'deny',
  ToolCallAwaitingApproval: 'require_approval',
};

interface Row {
  readonly stream_id: string;
  readonly global_position: string | number;
  readonly request: ToolCallRequested['data'];
  readonly verdict_type: string;
  readonly rule: string;
}

/** At most this many calls in one report: the window is read in full, in memory. */
export const WHAT_IF_MAX_CALLS = 50_000;

/**
 * The tool calls of a tenant requested in [from, to) that the policy decided, each with the input
 * the policy saw: who asked, the tool, the arguments, the session's remaining tokens just before
 * the request (its budget stream folded up to the request's position) and whether the run's model
 * had read a tool result flagged as a prompt injection by then — what the agent loop passes to
 * the policy, rebuilt from the record.
 */
export async function readRecordedPolicyCalls(sql: SqlExecutor, store: EventStorePort, tenantId: string, from: Date, to: Date): Promise<RecordedPolicyCall[]> {
  const rows = await sql.query<Row>(
    `SELECT r.stream_id, r.global_position, r.data AS request, v.type AS verdict_type, v.data->>'rule' AS rule
       FROM events r
       JOIN LATERAL (
         SELECT type, data FROM events v
          WHERE v.stream_id = r.stream_id AND v.type IN ('ToolCallAllowed', 'ToolCallDenied', 'ToolCallAwaitingApproval')
          ORDER BY v.stream_version LIMIT 1) v ON true
      WHERE r.type = 'ToolCallRequested' AND r.occurred_at >= $1 AND r.occurred_at < $2
        AND r.data->'requestedBy'->>'tenantId' = $3
      ORDER BY r.global_position
      LIMIT $4`,
    [from.toISOString(), to.toISOString(), tenantId, WHAT_IF_MAX_CALLS],
  );
  const budgetOf = readOnce((sessionId) => readStreamOf(store, budgetEventContract, sessionId));
  const runOf = readOnce((runId) => readStreamOf(store, runEventContract, runId));
  return Promise.all(
    rows.map(async (row) => {
      const request = row.request;
      const position = Number(row.global_position);
      const [budget, run] = await Promise.all([budgetOf(request.sessionId), runOf(request.runId)]);
      const before = <E extends { globalPosition: number }>(events: readonly E[]) => events.filter((e) => e.globalPosition < position);
      const state = fold(budgetDecider, before(budget));
      const remainingBudgetTokens = state.status === 'none' ? 0 : Math.max(0, remainingBudget(state).tokens);
      const injectionSuspected = before(run).some(
        (e) => e.type === 'LlmCallCompleted' && (e.data.flags?.injection.length ?? 0) > 0,
      );
      return {
        toolCallId: request.toolCallId,
        runId: request.runId,
        requestedAt: request.requestedAt,
        input: {
          principal: request.requestedBy,
          action: { tool: request.tool, category: request.category, risk: request.risk },
          resource: { sessionId: request.sessionId, remainingBudgetTokens },
          context: { input: request.input, run: { injectionSuspected } },
        },
        recorded: { decision: verdicts[row.verdict_type] as ToolCallPolicyDecision, rule: row.rule },
      };
    }),
  );
}

/** Many calls share a session and a run: each stream is read once per report. */
function readOnce<T>(read: (id: string) => Promise<T>): (id: string) => Promise<T> {
  const reads = new Map<string, Promise<T>>();
  return (id) => {
    let reading = reads.get(id);
    if (reading === undefined) reads.set(id, (reading = read(id)));
    return reading;
  };
}
