export * from './start-telemetry.js';
export * from './test-telemetry.js';
export * from './messaging-spans.js';
export * from './logger.js';
