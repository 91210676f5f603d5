import { allPorts, LocalConfigError, readLocalConfig } from './local-config.js';

describe('readLocalConfig', () => {
  it('uses the documented default ports and generates the secrets', () => {
    const config = readLocalConfig({}, '/repo');

    expect(allPorts(config).map((port) => port.port)).toEqual([
      4222, 6379, 27017, 5433, 2525, 8025, 3001, 3002, 3003, 3004, 3005, 3006,
    ]);
    expect(config.dataDir).toBe('/repo/.data');
    expect(config.adminToken).toMatch(/^[\w-]{32}$/);
    expect(config.demoWriteKey).toMatch(/^wk_demo_[0-9a-f]{24}$/);
    expect(config.otlpEndpoint).toBeUndefined();
  });

  it('takes ports, secrets and the OTLP endpoint from the environment', () => {
    const config = readLocalConfig(
      {
        NATS_PORT: '14222',
        DELIVERY_PORT: '13006',
        MESH_ADMIN_TOKEN: 'admin',
        MESH_DEMO_WRITE_KEY: 'key',
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://localhost:4318',
      },
      '/repo',
    );

    expect(config.nats.port).toBe(14222);
    expect(config.services.find((service) => service.name === 'delivery')?.port).toBe(13006);
    expect(config).toMatchObject({
      adminToken: 'admin',
      demoWriteKey: 'key',
      otlpEndpoint: 'http://localhost:4318',
    });
  });

  it('lists every invalid port at once', () => {
    const read = (): unknown => readLocalConfig({ REDIS_PORT: 'abc', INGEST_PORT: '70000' }, '/repo');

    expect(read).toThrow(LocalConfigError);
    expect(read).toThrow(
      'REDIS_PORT=abc is not a port number (1-65535).\nINGEST_PORT=70000 is not a port number',
    );
  });
});
