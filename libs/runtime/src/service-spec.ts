import { type DynamicModule } from '@nestjs/common';
import { type ServiceAppOptions } from './create-service-app.js';

/** What an app's `<service>.app.ts` returns: its root module and how to serve it. */
export interface ServiceSpec {
  module: DynamicModule;
  app: ServiceAppOptions;
}

export type Environment = Readonly<Record<string, string | undefined>>;
