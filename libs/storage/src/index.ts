export * from './mongo.module.js';
export * from './redis.module.js';
