import { loadEnv } from '@mesh/config';
import { type Environment, type ServiceSpec } from '@mesh/runtime';
import { IngestEnv } from './config.js';
import { configureOpenApi } from './docs/openapi.wiring.js';
import { IngestModule } from './ingest.module.js';
import { configureImportHttp } from './import/import-http.js';
import { configureTrackingAccessLog } from './tracking/access-log.js';
import { configureTrackingHttp } from './tracking/http-wiring.js';

/** Segment's limit for a batch; a single event is checked against 32 KB by its route. */
const BODY_LIMIT_BYTES = 500 * 1024;

export function ingestSpec(env: Environment): ServiceSpec {
  const config = loadEnv('ingest', IngestEnv, env);
  return {
    module: IngestModule.forRoot(config),
    app: {
      port: config.PORT,
      bodyLimit: BODY_LIMIT_BYTES,
      configure: (app) => {
        configureTrackingHttp(app);
        if (config.INGEST_ACCESS_LOG === 'failures') configureTrackingAccessLog(app);
        configureOpenApi(app);
        configureImportHttp(app);
      },
    },
  };
}
