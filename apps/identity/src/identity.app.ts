import { loadEnv } from '@mesh/config';
import { type Environment, type ServiceSpec } from '@mesh/runtime';
import { IdentityEnv } from './config.js';
import { IdentityModule } from './identity.module.js';

export function identitySpec(env: Environment): ServiceSpec {
  const config = loadEnv('identity', IdentityEnv, env);
  return { module: IdentityModule.forRoot(config), app: { port: config.PORT } };
}
