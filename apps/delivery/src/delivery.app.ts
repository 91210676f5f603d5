import { loadEnv } from '@mesh/config';
import { type Environment, type ServiceSpec } from '@mesh/runtime';
import { DeliveryEnv } from './config.js';
import { DeliveryModule } from './delivery.module.js';
import { configureDeliveryHttp } from './http-wiring.js';

export function deliverySpec(env: Environment): ServiceSpec {
  const config = loadEnv('delivery', DeliveryEnv, env);
  return {
    module: DeliveryModule.forRoot(config),
    app: { port: config.PORT, configure: configureDeliveryHttp },
  };
}
