import { loadEnv } from '@mesh/config';
import { type Environment, type ServiceSpec } from '@mesh/runtime';
import { RecommendationEnv } from './config.js';
import { RecommendationModule } from './recommendation.module.js';

export function recommendationSpec(env: Environment): ServiceSpec {
  const config = loadEnv('recommendation', RecommendationEnv, env);
  return { module: RecommendationModule.forRoot(config), app: { port: config.PORT } };
}
