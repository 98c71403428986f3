export {
  cancelTimer,
  claimDueTimers,
  markTimerFired,
  recordTimerFailure,
  rescheduleTimer,
  rescheduleTimers,
  scheduleTimer,
  scheduleTimers,
  type ScheduleTimerInput,
  type Timer,
} from './timers.store';
export { TimerWorker, type TimerWorkerOptions } from './timer.worker';
