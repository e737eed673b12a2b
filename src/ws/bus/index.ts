export { RedisBus, type RedisBusOptions, type RedisBusStatus } from './redis.js';
export type { Bus, BusMessage } from './types.js';
