import { describe, expect, it } from '@jest/globals';
import { DeciderSpecification } from '@nexus/testing';
import { fold } from '../decider';
import { BudgetExceededError, ForbiddenError, InvalidStateError, NotFoundError } from '../errors';
import { budgetDecider } from './budget.decider';
import {
  adjust, adjusted, allocate, allocated, allocatedWithoutOwner, amount, bobApprover, carolAdmin, close, closed, consume, consumed, dave,
  expire, expired, outsider, release, released, reserve, reserved, timer, T0, T5,
} from './budget.fixtures';
import { remainingBudget, type AllocatedBudgetState } from './budget.state';
import { toBudgetStreamId } from './budget.stream';

const given = DeciderSpecification.for(budgetDecider);

const exceeds = (dimension: string, requested: number, available: number) => (error: Error) =>
  expect((error as BudgetExceededError).details).toEqual({ dimension, requested, available });

const r1 = reserved('r1', amount(400, 200_000, 20));

describe('budget decider', () => {
  it('names the stream after the session', () => {
    expect(toBudgetStreamId('ses-1')).toBe('budget-ses-1');
  });

  describe('when no budget is allocated', () => {
    it('allocates the limit in the actor’s tenant', () => {
      given([]).when(allocate()).then([allocated()]);
    });

    it('rejects allocating in another tenant than the actor’s', () => {
      given([]).when(allocate({ tenantId: 'globex' })).thenThrows(ForbiddenError);
    });

    it.each([
      ['reserve', reserve('r1', amount(1))],
      ['consume', consume('r1', amount(1))],
      ['release', release('r1')],
      ['expire', expire('r1')],
      ['close', close()],
    ])('rejects %s as not found', (_, command) => {
      given([]).when(command).thenThrows(NotFoundError);
    });
  });

  describe('who may spend it', () => {
    const spending = (actor: typeof dave) => [
      ['reserve', reserve('r2', amount(1), { actor })],
      ['consume', consume('r1', amount(1), { actor })],
      ['release', release('r1', { actor })],
    ] as const;

    it.each([dave, bobApprover, carolAdmin].flatMap((actor) => spending(actor).map(([what, command]) => [actor.userId, what, command] as const)))(
      'refuses %s of the owner’s tenant to %s as forbidden',
      (_, __, command) => {
        given([allocated(), r1]).when(command).thenThrows(ForbiddenError);
      },
    );

    it.each(spending(timer))('lets a service %s on the owner’s behalf', (_, command) => {
      expect(() => budgetDecider.decide(command, fold(budgetDecider, [allocated(), r1]))).not.toThrow();
    });

    it('lets only a service spend a budget allocated before owners were recorded', () => {
      given([allocatedWithoutOwner()]).when(reserve('r1', amount(1))).thenThrows(ForbiddenError);
      const [event] = budgetDecider.decide(reserve('r1', amount(1), { actor: timer }), fold(budgetDecider, [allocatedWithoutOwner()]));
      expect(event?.type).toBe('BudgetReserved');
    });

    it('records the allocating user as the owner', () => {
      given([]).when(allocate()).then([allocated()]);
    });
  });

  describe('when the budget is open', () => {
    it('rejects allocating it again', () => {
      given([allocated()]).when(allocate()).thenThrows(InvalidStateError);
    });

    it('rejects allocating it again from another tenant as not found', () => {
      given([allocated()]).when(allocate({ actor: outsider, tenantId: 'globex' })).thenThrows(NotFoundError);
    });

    it('reserves an amount that expires ttl seconds after the command', () => {
      given([allocated()]).when(reserve('r1', amount(400, 200_000, 20), { ttlSeconds: 300 })).then([r1]);
    });

    it('reserves exactly what is left in every dimension', () => {
      given([allocated(), r1]).when(reserve('r2', amount(600, 300_000, 40))).then([reserved('r2', amount(600, 300_000, 40))]);
    });

    it('reserves any amount in a dimension the limit leaves unbounded', () => {
      const big = amount(10, 9_000_000_000, 86_400);
      given([allocated({ tokens: 100 })]).when(reserve('r1', big)).then([reserved('r1', big)]);
    });

    it('rejects a reservation from another tenant as not found', () => {
      given([allocated()]).when(reserve('r1', amount(1), { actor: outsider })).thenThrows(NotFoundError);
    });

    it('ignores an exact repeat of a reservation, even once settled', () => {
      const again = reserve('r1', amount(400, 200_000, 20));
      given([allocated(), r1]).when(again).then([]);
      given([allocated(), r1, released('r1', amount(400, 200_000, 20))]).when(again).then([]);
    });

    it('rejects a repeat of a reservation id for another run', () => {
      const again = reserve('r1', amount(400, 200_000, 20));
      given([allocated(), r1]).when({ ...again, data: { ...again.data, runId: 'run-2' } } as typeof again).thenThrows(InvalidStateError);
    });

    it('rejects a reservation id that is already used, even once settled', () => {
      given([allocated(), r1]).when(reserve('r1', amount(1))).thenThrows(InvalidStateError);
      given([allocated(), r1, released('r1', amount(400, 200_000, 20))]).when(reserve('r1', amount(1))).thenThrows(InvalidStateError);
    });

    it.each([
      ['tokens', amount(601, 0, 0), 601, 600],
      ['costMicroUsd', amount(1, 300_001, 0), 300_001, 300_000],
      ['wallClockSeconds', amount(1, 0, 41), 41, 40],
    ])('rejects a reservation that exceeds %s, counting open reservations', (dimension, a, requested, available) => {
      given([allocated(), r1]).when(reserve('r2', a)).thenThrows(BudgetExceededError, exceeds(dimension, requested, available));
    });

    it('rejects a reservation that exceeds what consumption has left', () => {
      const history = [allocated(), r1, consumed('r1', amount(400, 200_000, 20), amount(0))];
      given(history).when(reserve('r2', amount(601))).thenThrows(BudgetExceededError, exceeds('tokens', 601, 600));
    });

    it('closes the budget', () => {
      given([allocated()]).when(close()).then([closed()]);
    });

    it('rejects closing from another tenant as not found', () => {
      given([allocated()]).when(close({ actor: outsider })).thenThrows(NotFoundError);
    });
  });

  describe('when a reservation is open', () => {
    it('consumes less than reserved and releases the rest', () => {
      given([allocated(), r1]).when(consume('r1', amount(150, 50_000, 20))).then([
        consumed('r1', amount(150, 50_000, 20), amount(250, 150_000, 0)),
      ]);
    });

    it('consumes more than reserved when the unreserved remainder covers the excess', () => {
      // 1000 tokens: r1 holds 400, r2 holds 500, so r1 may consume up to 400 + 100.
      const history = [allocated(), r1, reserved('r2', amount(500))];
      given(history).when(consume('r1', amount(500, 200_000, 20))).then([consumed('r1', amount(500, 200_000, 20), amount(0))]);
    });

    it.each([
      ['tokens', amount(501, 0, 0), 501, 500],
      ['costMicroUsd', amount(0, 500_001, 0), 500_001, 500_000],
      ['wallClockSeconds', amount(0, 0, 61), 61, 60],
    ])('rejects consuming more %s than the reservation and the remainder cover', (dimension, a, requested, available) => {
      const history = [allocated(), r1, reserved('r2', amount(500))];
      given(history).when(consume('r1', a)).thenThrows(BudgetExceededError, exceeds(dimension, requested, available));
    });

    it('releases the reservation', () => {
      given([allocated(), r1]).when(release('r1')).then([released('r1', amount(400, 200_000, 20))]);
    });

    it('expires the reservation when it is due', () => {
      given([allocated(), r1]).when(expire('r1', { at: T5 })).then([expired('r1', amount(400, 200_000, 20), T5)]);
    });

    it('rejects expiring it before it is due', () => {
      given([allocated(), r1]).when(expire('r1', { at: '2026-01-01T10:04:59.999Z' })).thenThrows(InvalidStateError);
    });

    it.each([
      ['consume', consume('r9', amount(1))],
      ['release', release('r9')],
      ['expire', expire('r9')],
    ])('rejects %s of an unknown reservation as not found', (_, command) => {
      given([allocated(), r1]).when(command).thenThrows(NotFoundError);
    });

    it.each([
      ['consume', consume('r1', amount(1), { actor: outsider })],
      ['release', release('r1', { actor: outsider })],
      ['expire', expire('r1', { actor: outsider })],
    ])('rejects %s from another tenant as not found', (_, command) => {
      given([allocated(), r1]).when(command).thenThrows(NotFoundError);
    });
  });

  describe('when a reservation is held as a lease', () => {
    const held = amount(400, 200_000, 20);
    const T3 = '2026-01-01T10:03:00.000Z';
    const T8 = '2026-01-01T10:08:00.000Z';

    it('charges the usage reported, keeps the rest held and extends the expiry', () => {
      given([allocated(), r1])
        .when(adjust('r1', amount(100, 50_000, 0), amount(300, 150_000, 20), { at: T3, ttlSeconds: 300 }))
        .then([adjusted('r1', held, amount(100, 50_000, 0), amount(300, 150_000, 20), T8, T3)]);
    });

    it('grows the hold when the unreserved remainder covers it', () => {
      // 1000 tokens: r1 holds 400, 600 are free, so usage + new hold may reach 1000.
      given([allocated(), r1]).when(adjust('r1', amount(200), amount(800))).then([adjusted('r1', held, amount(200), amount(800))]);
    });

    it('rejects usage and a hold that together exceed what the reservation and the remainder cover', () => {
      given([allocated(), r1, reserved('r2', amount(500))])
        .when(adjust('r1', amount(200), amount(301)))
        .thenThrows(BudgetExceededError, exceeds('tokens', 501, 500));
    });

    it('counts the new hold and the usage in what remains', () => {
      const state = fold(budgetDecider, [allocated(), r1, adjusted('r1', held, amount(100, 50_000, 5), amount(700, 10_000, 0))]);
      expect(remainingBudget(state as AllocatedBudgetState)).toEqual({ tokens: 200, costMicroUsd: 440_000, wallClockSeconds: 55 });
    });

    it('expires at the new time, releasing what it holds then', () => {
      const history = [allocated(), r1, adjusted('r1', held, amount(100), amount(50), T8, T3)];
      given(history).when(expire('r1', { at: T5 })).thenThrows(InvalidStateError);
      given(history).when(expire('r1', { at: T8 })).then([expired('r1', amount(50), T8)]);
    });

    it('settles what it holds when consumed at the end', () => {
      const history = [allocated(), r1, adjusted('r1', held, amount(100), amount(50))];
      given(history).when(consume('r1', amount(30))).then([consumed('r1', amount(30), amount(20), T0, amount(50))]);
    });

    it('rejects a heartbeat for a settled reservation', () => {
      given([allocated(), r1, released('r1', held)]).when(adjust('r1', amount(1), amount(1))).thenThrows(InvalidStateError);
    });

    it('rejects a heartbeat from another user of the tenant, and from another tenant as not found', () => {
      given([allocated(), r1]).when(adjust('r1', amount(1), amount(1), { actor: dave })).thenThrows(ForbiddenError);
      given([allocated(), r1]).when(adjust('r1', amount(1), amount(1), { actor: outsider })).thenThrows(NotFoundError);
    });

    it('records a lease as one', () => {
      given([allocated()]).when(reserve('r1', amount(400, 200_000, 20), { lease: true })).then([reserved('r1', amount(400, 200_000, 20), T5, true)]);
    });

    it('charges an expired lease its hold instead of releasing it: its holder died with usage unreported', () => {
      const history = [allocated(), reserved('r1', held, T5, true), adjusted('r1', held, amount(100), amount(50))];
      given(history)
        .when(expire('r1', { at: T5 }))
        .then([{ type: 'BudgetReservationExpired', data: { reservationId: 'r1', released: amount(0), charged: amount(50), expiredAt: T5 } }]);
      const state = fold(budgetDecider, [...history, ...budgetDecider.decide(expire('r1', { at: T5 }), fold(budgetDecider, history))]);
      expect(remainingBudget(state as AllocatedBudgetState)).toEqual({ tokens: 850, costMicroUsd: 500_000, wallClockSeconds: 60 });
    });

    it('refuses heartbeats once the budget is closed; the lease then settles with a consumption', () => {
      const history = [allocated(), r1, closed()];
      given(history).when(adjust('r1', amount(100), amount(100))).thenThrows(InvalidStateError);
      given(history).when(consume('r1', amount(100))).then([consumed('r1', amount(100), amount(300, 200_000, 20))]);
    });
  });

  describe.each([
    ['consumed', consumed('r1', amount(100), amount(300, 200_000, 20))],
    ['released', released('r1', amount(400, 200_000, 20))],
    ['expired', expired('r1', amount(400, 200_000, 20))],
  ])('when the reservation is %s', (_, settlement) => {
    const history = [allocated(), r1, settlement];

    it('rejects consuming it', () => {
      given(history).when(consume('r1', amount(1))).thenThrows(InvalidStateError);
    });

    it('rejects releasing it', () => {
      given(history).when(release('r1')).thenThrows(InvalidStateError);
    });

    it('treats a late expiry timer as a no-op', () => {
      given(history).when(expire('r1', { at: '2026-01-02T00:00:00.000Z' })).then([]);
    });
  });

  describe('when the budget is closed', () => {
    const history = [allocated(), r1, closed()];

    it('rejects new reservations', () => {
      given(history).when(reserve('r2', amount(1))).thenThrows(InvalidStateError);
    });

    it('rejects closing it again', () => {
      given(history).when(close()).thenThrows(InvalidStateError);
    });

    it('rejects allocating it again', () => {
      given(history).when(allocate()).thenThrows(InvalidStateError);
    });

    it('still consumes an in-flight reservation', () => {
      given(history).when(consume('r1', amount(400, 200_000, 20))).then([consumed('r1', amount(400, 200_000, 20), amount(0))]);
    });

    it('still releases an open reservation', () => {
      given(history).when(release('r1')).then([released('r1', amount(400, 200_000, 20))]);
    });

    it('still expires an open reservation', () => {
      given(history).when(expire('r1')).then([expired('r1', amount(400, 200_000, 20))]);
    });
  });

  describe('remainingBudget', () => {
    it('subtracts reservations and consumption per dimension', () => {
      const history = [allocated(), r1, reserved('r2', amount(100, 0, 5)), consumed('r1', amount(300, 100_000, 20), amount(100, 100_000, 0))];
      const state = fold(budgetDecider, history) as AllocatedBudgetState;
      expect(remainingBudget(state)).toEqual({ tokens: 600, costMicroUsd: 400_000, wallClockSeconds: 35 });
    });

    it('reports null for a dimension the limit leaves unbounded', () => {
      const state = fold(budgetDecider, [allocated({ tokens: 100 }), reserved('r1', amount(40, 7, 7))]) as AllocatedBudgetState;
      expect(remainingBudget(state)).toEqual({ tokens: 60, costMicroUsd: null, wallClockSeconds: null });
    });
  });
});
