// MongoDB in the manifests: the replica set's members, its init Job and the services' MONGO_URLs agree,
// and the init script (mongosh) initiates once and gives each service a user on its own database only.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from '@mesh/testing';
import { workloads } from './k8s/policies.js';
import { type K8sObject } from './k8s/schema.js';
import { containerEnv, exampleSecrets, MESH_SERVICES } from './k8s/service-env.js';
import { kustomizeBuild } from './k8s/toolchain.js';

const K8S = join(repoRoot(), 'k8s');
const SCRIPT = readFileSync(join(K8S, 'base', 'mongodb', 'init-replica-set.js'), 'utf8');

function objectsOf(yaml: string): K8sObject[] {
  return parseAllDocuments(yaml)
    .map((document) => document.toJS() as K8sObject | null)
    .filter((object): object is K8sObject => object !== null);
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}

const rendered = new Map<string, K8sObject[]>();
beforeAll(() => {
  for (const overlay of ['dev', 'prod'])
    rendered.set(overlay, objectsOf(kustomizeBuild(join(K8S, 'overlays', overlay))));
}, 300_000);

describe.each(['dev', 'prod'])('overlay %s', (overlay) => {
  const objects = (): K8sObject[] => rendered.get(overlay) ?? [];
  const find = (kind: string, name: string): K8sObject => {
    const found = objects().find((object) => object.kind === kind && object.metadata.name === name);
    if (!found) throw new Error(`no ${kind}/${name}`);
    return found;
  };
  const initEnv = (): Map<string, EnvVar> => {
    const job = workloads(objects()).find((workload) => workload.object.metadata.name === 'mongodb-init');
    return new Map(((job?.pod.containers[0]?.env ?? []) as EnvVar[]).map((entry) => [entry.name, entry]));
  };

  it('initiates exactly the members the StatefulSet runs, under the replica set name mongod runs with', () => {
    const statefulSet = find('StatefulSet', 'mongodb');
    const spec = statefulSet.spec as {
      replicas: number;
      serviceName: string;
      template: { spec: { containers: { args: string[] }[] } };
    };
    find('Service', spec.serviceName);
    const members = Array.from(
      { length: spec.replicas },
      (_, index) => `mongodb-${index}.${spec.serviceName}:27017`,
    );
    const env = initEnv();
    expect(env.get('MONGODB_MEMBERS')?.value?.split(',')).toEqual(members);
    expect(spec.template.spec.containers[0]?.args).toContain(
      `--replSet=${env.get('MONGODB_REPLICA_SET')?.value}`,
    );
    expect(env.get('MESH_SERVICES')?.value?.split(',')).toEqual([...MESH_SERVICES]);
    for (const service of MESH_SERVICES)
      expect(env.get(`MONGODB_PASSWORD_${service.toUpperCase()}`)?.valueFrom?.secretKeyRef).toEqual({
        name: expect.stringMatching(/^mongodb-auth/) as unknown,
        key: service,
      });
    if (overlay === 'dev')
      expect((statefulSet.spec as { volumeClaimTemplates?: unknown }).volumeClaimTemplates).toBeUndefined();
  });

  it("gives each service a MONGO_URL with its own user, its own database and the replica set's members", () => {
    const env = initEnv();
    const members = new Set(env.get('MONGODB_MEMBERS')?.value?.split(','));
    const fallback = exampleSecrets();
    const passwords = objects().find(
      (object) => object.kind === 'Secret' && object.metadata.name.startsWith('mongodb-auth'),
    );
    for (const service of MESH_SERVICES) {
      const workload = workloads(objects()).find(
        (candidate) => candidate.object.kind === 'Deployment' && candidate.object.metadata.name === service,
      );
      if (!workload) throw new Error(`no Deployment ${service}`);
      const url = containerEnv(workload, objects(), fallback).env.MONGO_URL ?? '';
      const match = /^mongodb:\/\/([^:]+):([^@]+)@([^/]+)\/([^?]+)\?(.*)$/.exec(url);
      if (!match)
        throw new Error(`${service}: MONGO_URL "${url}" is not mongodb://user:password@hosts/db?options`);
      const [, user, password, hosts, database, query] = match;
      const options = new URLSearchParams(query);
      expect({
        service,
        user,
        database,
        replicaSet: options.get('replicaSet'),
        authSource: options.get('authSource'),
      }).toEqual({
        service,
        user: `mesh-${service}`,
        database: service,
        replicaSet: env.get('MONGODB_REPLICA_SET')?.value,
        authSource: 'admin',
      });
      for (const host of hosts?.split(',') ?? []) expect(members).toContain(host);
      if (passwords) {
        // dev renders its Secret: the URL's password is the one the init Job sets.
        const stored = Buffer.from(
          (passwords.data as Record<string, string>)[service] ?? '',
          'base64',
        ).toString();
        expect(decodeURIComponent(password ?? '')).toBe(stored);
      }
    }
  });
});

describe('init-replica-set.js', () => {
  /** Runs the script as mongosh would, against a recording fake of the shell's globals. */
  function run(state: { initiated: boolean; users: Set<string> }) {
    const calls: { name: string; args: unknown[] }[] = [];
    const record =
      (name: string, effect?: (...args: unknown[]) => unknown) =>
      (...args: unknown[]) => {
        calls.push({ name, args });
        return effect?.(...args);
      };
    const admin = {
      getUser: (user: string) => (state.users.has(user) ? { user } : null),
      createUser: record('createUser', (spec) => state.users.add((spec as { user: string }).user)),
      updateUser: record('updateUser'),
    };
    const env: Record<string, string> = {
      MONGODB_REPLICA_SET: 'rs0',
      MONGODB_MEMBERS: 'mongodb-0.mongodb:27017,mongodb-1.mongodb:27017,mongodb-2.mongodb:27017',
      MESH_SERVICES: MESH_SERVICES.join(','),
      ...Object.fromEntries(
        MESH_SERVICES.map((service) => [`MONGODB_PASSWORD_${service.toUpperCase()}`, `pw-${service}`]),
      ),
    };
    runInNewContext(SCRIPT, {
      process: { env },
      print: () => undefined,
      sleep: () => undefined,
      rs: {
        status: () => {
          if (!state.initiated)
            throw Object.assign(new Error('no replset config'), { code: 94, codeName: 'NotYetInitialized' });
          return { ok: 1 };
        },
        initiate: record('initiate', () => (state.initiated = true)),
      },
      db: { hello: () => ({ isWritablePrimary: state.initiated }), getSiblingDB: () => admin },
    });
    return calls;
  }

  it('initiates once and creates one user per service with readWrite on its own database only', () => {
    const state = { initiated: false, users: new Set<string>() };
    const first = run(state);
    const initiate = first.filter((call) => call.name === 'initiate');
    expect(initiate).toHaveLength(1);
    expect(initiate[0]?.args[0]).toEqual({
      _id: 'rs0',
      members: [
        { _id: 0, host: 'mongodb-0.mongodb:27017', priority: 2 },
        { _id: 1, host: 'mongodb-1.mongodb:27017', priority: 1 },
        { _id: 2, host: 'mongodb-2.mongodb:27017', priority: 1 },
      ],
    });
    expect(first.filter((call) => call.name === 'createUser').map((call) => call.args[0])).toEqual(
      MESH_SERVICES.map((service) => ({
        user: `mesh-${service}`,
        pwd: `pw-${service}`,
        roles: [{ role: 'readWrite', db: service }],
      })),
    );

    // Run again (Job retried or re-applied): no second initiate, users updated (password rotation).
    const second = run(state);
    expect(second.map((call) => call.name)).toEqual(MESH_SERVICES.map(() => 'updateUser'));
  });
});
