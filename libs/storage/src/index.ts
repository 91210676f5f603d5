export * from './mongo.module.js';
export * from './redis.module.js';
export * from './change-notices.js';
