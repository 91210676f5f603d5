import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';

/** A Kubernetes object as rendered by kustomize. */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

type Schema = Record<string, unknown>;

// Absolute ids: a CRD schema's $ref to ObjectMeta must not resolve relative to the CRD's own id.
const SCHEMA_BASE = 'https://schemas.mesh.invalid';
const ROOT_ID = `${SCHEMA_BASE}/kubernetes`;
const OBJECT_META = `${ROOT_ID}#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta`;

/**
 * Makes an OpenAPI schema strict and JSON-Schema-valid, as `kubectl --validate=strict` and the API
 * server's field validation are: an object with declared properties and no additionalProperties of
 * its own (nor x-kubernetes-preserve-unknown-fields) accepts no other field; int-or-string takes both;
 * a Quantity may be a number ("cpu: 1").
 */
function strict(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(strict);
  if (schema === null || typeof schema !== 'object') return schema;
  const source = schema as Schema;
  const out: Schema = {};
  for (const [key, value] of Object.entries(source)) {
    // `properties` maps names to schemas: recurse into the values, never treat the names as keywords.
    out[key] =
      key === 'properties' && value !== null && typeof value === 'object'
        ? Object.fromEntries(
            Object.entries(value as Schema).map(([name, property]) => [name, strict(property)]),
          )
        : strict(value);
  }
  if (source.format === 'int-or-string' || source['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    delete out.format;
    delete out.anyOf;
    out.anyOf = [{ type: 'string' }, { type: 'integer' }];
  }
  if (
    source.properties !== undefined &&
    source.additionalProperties === undefined &&
    source['x-kubernetes-preserve-unknown-fields'] !== true
  ) {
    out.additionalProperties = false;
  }
  return out;
}

interface GroupVersionKind {
  group: string;
  version: string;
  kind: string;
}

function gvkKey({ group, version, kind }: GroupVersionKind): string {
  return `${group === '' ? '' : `${group}/`}${version}/${kind}`;
}

function keyOf(object: Pick<K8sObject, 'apiVersion' | 'kind'>): string {
  return `${object.apiVersion}/${object.kind}`;
}

export interface Violation {
  readonly object: string;
  readonly problems: readonly string[];
}

/** Validates objects offline against the Kubernetes OpenAPI schema (and CRD schemas), strictly. */
export class SchemaValidator {
  private readonly ajv = new Ajv({ strict: false, allErrors: true, validateFormats: false });
  private readonly definitionByKind = new Map<string, string>();
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(swaggerFile: string, crdFiles: readonly string[] = []) {
    const swagger = JSON.parse(readFileSync(swaggerFile, 'utf8')) as { definitions: Record<string, Schema> };
    const definitions: Record<string, unknown> = {};
    for (const [name, definition] of Object.entries(swagger.definitions)) {
      definitions[name] = strict(definition);
      const kinds = definition['x-kubernetes-group-version-kind'] as GroupVersionKind[] | undefined;
      for (const gvk of kinds ?? [])
        this.definitionByKind.set(gvkKey(gvk), `${ROOT_ID}#/definitions/${name}`);
    }
    // Quantity is a string in the document, but the API server takes numbers too.
    definitions['io.k8s.apimachinery.pkg.api.resource.Quantity'] = {
      anyOf: [{ type: 'string' }, { type: 'number' }],
    };
    this.ajv.addSchema({ $id: ROOT_ID, definitions });
    for (const file of crdFiles) this.addCrd(file);
  }

  /** Adds every served version of a CustomResourceDefinition file. */
  private addCrd(file: string): void {
    const crd = parse(readFileSync(file, 'utf8')) as {
      spec: {
        group: string;
        names: { kind: string };
        versions: { name: string; served: boolean; schema?: { openAPIV3Schema: Schema } }[];
      };
    };
    for (const version of crd.spec.versions.filter((candidate) => candidate.served && candidate.schema)) {
      const schema = strict(version.schema?.openAPIV3Schema) as Schema & { properties: Schema };
      schema.properties = { ...schema.properties, metadata: { $ref: OBJECT_META } };
      const id = `${SCHEMA_BASE}/crd/${crd.spec.group}/${version.name}/${crd.spec.names.kind}`;
      this.ajv.addSchema({ $id: id, ...schema });
      this.definitionByKind.set(
        gvkKey({ group: crd.spec.group, version: version.name, kind: crd.spec.names.kind }),
        id,
      );
    }
  }

  knows(object: Pick<K8sObject, 'apiVersion' | 'kind'>): boolean {
    return this.definitionByKind.has(keyOf(object));
  }

  /** Problems of one object, as "path: message"; empty when it is valid. */
  problems(object: unknown): string[] {
    const typed = object as Partial<K8sObject>;
    if (typeof typed.apiVersion !== 'string' || typeof typed.kind !== 'string')
      return ['apiVersion and kind are required'];
    const ref = this.definitionByKind.get(keyOf(typed as K8sObject));
    if (!ref) return [`no schema for ${keyOf(typed as K8sObject)} (unknown kind or API version)`];
    let validate = this.compiled.get(ref);
    if (!validate) {
      validate = this.ajv.compile({ $ref: ref });
      this.compiled.set(ref, validate);
    }
    if (validate(object)) return [];
    return (validate.errors ?? []).map(describeError);
  }

  validateAll(objects: readonly K8sObject[]): Violation[] {
    return objects
      .map((object) => ({
        object: `${object.kind}/${object.metadata.name}`,
        problems: this.problems(object),
      }))
      .filter((violation) => violation.problems.length > 0);
  }
}

function describeError(error: ErrorObject): string {
  const where = error.instancePath === '' ? '(root)' : error.instancePath;
  if (error.keyword === 'additionalProperties') {
    return `${where}: unknown field "${String((error.params as { additionalProperty: string }).additionalProperty)}"`;
  }
  return `${where}: ${error.message ?? error.keyword}`;
}
