import 'reflect-metadata';
export * from './load-env.js';
export * from './service-env.js';
