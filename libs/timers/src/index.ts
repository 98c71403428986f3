export {
  cancelTimer,
  claimDueTimers,
  markTimerFired,
  recordTimerFailure,
  rescheduleTimer,
  scheduleTimer,
  type ScheduleTimerInput,
  type Timer,
} from './timers.store';
export { TimerWorker, type TimerWorkerOptions } from './timer.worker';
