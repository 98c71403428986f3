export * from './tool-call.reactions';
export * from './reservation-expiry.timer';
