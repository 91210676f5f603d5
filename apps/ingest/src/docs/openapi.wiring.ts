import { type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';

type Operation = { security?: Record<string, string[]>[]; tags?: string[] };

const REF = /"#\/components\/schemas\/([^"]+)"/g;

/** The validator-derived schemas the paths refer to (and those they refer to), not every DTO loaded. */
function referencedSchemas(paths: object, schemas: Record<string, object>): Record<string, object> {
  const picked: Record<string, object> = {};
  const pending = [...JSON.stringify(paths).matchAll(REF)].map((match) => match[1]!);
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    const schema = schemas[name];
    if (picked[name] || !schema) continue;
    picked[name] = schema;
    pending.push(...[...JSON.stringify(schema).matchAll(REF)].map((match) => match[1]!));
  }
  return picked;
}

/** Who may call a path, and under which heading it is listed, by its prefix. */
function describeAccess(document: OpenAPIObject): void {
  for (const [path, item] of Object.entries(document.paths)) {
    for (const operation of Object.values(item) as Operation[]) {
      if (typeof operation !== 'object' || operation === null) continue;
      if (path.startsWith('/v1/')) {
        operation.security ??= [{ writeKey: [] }];
        operation.tags ??= ['tracking (Segment-compatible)'];
      } else if (path.startsWith('/api/')) {
        operation.security ??= [{ admin: [] }];
      } else if (path.startsWith('/health')) {
        operation.tags ??= ['health'];
      }
    }
  }
}

/**
 * The ingest HTTP API's OpenAPI document at `/docs` (Swagger UI) and `/docs/json`: routes from the
 * controllers, request bodies from the class-validator rules of their DTOs.
 */
export function configureOpenApi(app: NestFastifyApplication): void {
  const config = new DocumentBuilder()
    .setTitle('Personalization Mesh: ingest API')
    .setDescription(
      'The door into the mesh: Segment-compatible tracking calls (write key as HTTP Basic username), ' +
        'signed webhooks, and the sources admin API (Authorization: Bearer <MESH_ADMIN_TOKEN>). ' +
        'Rejections answer JSON naming the field and the rule (400), a bad or disabled key (401), ' +
        'too large (413), wrong media type (415), rate-limited (429 with Retry-After).',
    )
    .setVersion('1')
    .addBasicAuth(
      { type: 'http', scheme: 'basic', description: 'the write key as username, no password' },
      'writeKey',
    )
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'MESH_ADMIN_TOKEN' }, 'admin')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  const fromValidators = validationMetadatasToSchemas({ refPointerPrefix: '#/components/schemas/' });
  document.components = {
    ...document.components,
    schemas: {
      ...document.components?.schemas,
      ...(referencedSchemas(document.paths, fromValidators) as NonNullable<
        OpenAPIObject['components']
      >['schemas']),
    },
  };
  describeAccess(document);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/json' });
}
