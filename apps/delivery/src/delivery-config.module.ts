import { type DynamicModule, Module } from '@nestjs/common';
import { DeliveryEnv } from './config.js';

/** The validated environment, injectable everywhere in the app. */
@Module({})
export class DeliveryConfigModule {
  static forRoot(env: DeliveryEnv): DynamicModule {
    return {
      module: DeliveryConfigModule,
      global: true,
      providers: [{ provide: DeliveryEnv, useValue: env }],
      exports: [DeliveryEnv],
    };
  }
}
