import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { consumerDeployment, startEventConsumer, type BusConsumer } from '@nexus/bus';
import { NEXUS_CONFIG, type NexusConfig } from '@nexus/config';
import { budgetStream, parseBudgetStreamId, RESERVATION_EXPIRY_EVENTS, reservationExpiryTimers } from '@nexus/domain';
import { SQL_EXECUTOR, type SqlExecutor } from '@nexus/event-store';
import { budgetEventContract, type RecordedEvent } from '@nexus/events';
import { metadataCausedBy } from '@nexus/observability';
import { rescheduleTimers, scheduleTimers, type ScheduleTimerInput } from '@nexus/timers';

export const RESERVATION_EXPIRY_CONSUMER = 'reservation-expiry';

/**
 * Arms every reservation's expiry timer (the domain's `reservationExpiryTimers`) from the budget
 * events, a batch at a time inside the batch's own transaction: the timers of all its
 * reservations are one statement beside its inbox rows and checkpoint, so arming costs the
 * database a statement per batch rather than three per reservation, and a timer is armed exactly
 * when its event is marked handled. Its own consumer, apart from the agent loop's: the agent
 * loop's work waits on providers and commands outside any transaction; this is rows only.
 */
@Injectable()
export class ArmReservationExpiryWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private consumer: BusConsumer | undefined;

  constructor(
    @Inject(NEXUS_CONFIG) private readonly config: NexusConfig,
    @Inject(SQL_EXECUTOR) private readonly sql: SqlExecutor,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    this.consumer = await startEventConsumer({
      name: RESERVATION_EXPIRY_CONSUMER,
      ...consumerDeployment(this.config, this.sql),
      category: budgetStream.category,
      batchHandler: (events, tx) => armExpiryTimers(tx, events),
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.consumer?.stop();
  }
}

/** The expiry timers the events set, armed in at most two statements (new timers, then moved ones). */
export async function armExpiryTimers(tx: SqlExecutor, events: readonly RecordedEvent[]): Promise<void> {
  const armed: ScheduleTimerInput[] = [];
  const moved: ScheduleTimerInput[] = [];
  for (const event of events) {
    const sessionId = parseBudgetStreamId(event.streamId);
    if (sessionId === undefined || !RESERVATION_EXPIRY_EVENTS.has(event.type)) continue;
    const metadata = metadataCausedBy(event, 'nexus-reservation-expiry');
    for (const { timerId, dueAt, command, later } of reservationExpiryTimers(sessionId, event.metadata.actor.tenantId, budgetEventContract.read(event))) {
      (later === true ? moved : armed).push({ id: timerId, dueAt, command, metadata });
    }
  }
  // A reservation is made before it is moved: new timers first, as the events came.
  await scheduleTimers(tx, armed);
  await rescheduleTimers(tx, moved);
}
