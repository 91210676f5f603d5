import { loadEnv } from '@mesh/config';
import { type Environment, type ServiceSpec } from '@mesh/runtime';
import { EnrichmentEnv } from './config.js';
import { EnrichmentModule } from './enrichment.module.js';

export function enrichmentSpec(env: Environment): ServiceSpec {
  const config = loadEnv('enrichment', EnrichmentEnv, env);
  return { module: EnrichmentModule.forRoot(config), app: { port: config.PORT } };
}
