export * from './admin-token.guard.js';
export * from './health.controller.js';
export * from './health.module.js';
export * from './service-core.module.js';
export * from './create-service-app.js';
export * from './run-service.js';
export * from './service-spec.js';
export * from './validated-body.js';
