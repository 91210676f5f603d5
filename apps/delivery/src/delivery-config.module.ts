import { type DynamicModule, Module } from '@nestjs/common';
import { createHmac } from 'node:crypto';
import { Clock } from './clock.js';
import { DeliveryEnv } from './config.js';
import { LinkTokens } from './tracking/link-tokens.js';

/** The configured link-signing key, or one derived from the admin token (so it is never a default). */
function tokenSecret(env: DeliveryEnv): string {
  return (
    env.DELIVERY_TOKEN_SECRET ??
    createHmac('sha256', env.MESH_ADMIN_TOKEN).update('delivery link tokens').digest('hex')
  );
}

/** The validated environment, the clock and the link signer, injectable everywhere in the app. */
@Module({})
export class DeliveryConfigModule {
  static forRoot(env: DeliveryEnv): DynamicModule {
    return {
      module: DeliveryConfigModule,
      global: true,
      providers: [
        { provide: DeliveryEnv, useValue: env },
        Clock,
        { provide: LinkTokens, useValue: new LinkTokens(tokenSecret(env)) },
      ],
      exports: [DeliveryEnv, Clock, LinkTokens],
    };
  }
}
