import { loadEnv } from '@mesh/config';
import { type Environment, type ServiceSpec } from '@mesh/runtime';
import { RendererEnv } from './config.js';
import { RendererModule } from './renderer.module.js';

export function rendererSpec(env: Environment): ServiceSpec {
  const config = loadEnv('renderer', RendererEnv, env);
  return { module: RendererModule.forRoot(config), app: { port: config.PORT } };
}
