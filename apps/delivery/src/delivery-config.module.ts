import { type DynamicModule, Module } from '@nestjs/common';
import { Clock } from './clock.js';
import { DeliveryEnv } from './config.js';

/** The validated environment and the clock, injectable everywhere in the app. */
@Module({})
export class DeliveryConfigModule {
  static forRoot(env: DeliveryEnv): DynamicModule {
    return {
      module: DeliveryConfigModule,
      global: true,
      providers: [{ provide: DeliveryEnv, useValue: env }, Clock],
      exports: [DeliveryEnv, Clock],
    };
  }
}
