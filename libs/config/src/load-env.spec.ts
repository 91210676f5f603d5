import { IsBoolean, IsInt, Min } from 'class-validator';
import { BooleanFromEnv, EnvValidationError, IsMongoUrl, loadEnv, ServiceEnv } from './index.js';

class ExampleEnv extends ServiceEnv {
  @IsMongoUrl() MONGO_URL!: string;
  @IsInt() @Min(1) BATCH: number = 10;
  @BooleanFromEnv() @IsBoolean() DEMO: boolean = false;
}

const valid = { PORT: '3001', MESH_ADMIN_TOKEN: 'a'.repeat(32), MONGO_URL: 'mongodb://127.0.0.1:27017/x' };

describe('loadEnv', () => {
  it('converts types and applies defaults', () => {
    const env = loadEnv('example', ExampleEnv, valid);
    expect(env.PORT).toBe(3001);
    expect(env.BATCH).toBe(10);
    expect(env.NATS_URL).toBe('nats://127.0.0.1:4222');
    expect(env.LOG_LEVEL).toBe('info');
  });

  it('lists every problem at once, naming each variable', () => {
    let error: unknown;
    try {
      loadEnv('example', ExampleEnv, {
        PORT: 'http',
        MONGO_URL: 'postgres://x',
        LOG_LEVEL: 'loud',
        BATCH: '',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(EnvValidationError);
    const text = (error as EnvValidationError).message;
    for (const variable of ['PORT', 'MONGO_URL', 'LOG_LEVEL', 'MESH_ADMIN_TOKEN'])
      expect(text).toContain(variable);
    expect(text).toContain('example: the environment is not valid');
  });

  it('converts a variable that has a default', () => {
    expect(
      loadEnv('example', ExampleEnv, { ...valid, BATCH: '25', NATS_STREAM_MAX_BYTES: '67108864' }),
    ).toMatchObject({
      BATCH: 25,
      NATS_STREAM_MAX_BYTES: 67108864,
    });
  });

  it('reads booleans as people write them, and refuses anything else', () => {
    for (const [text, value] of [
      ['true', true],
      ['false', false],
      ['0', false],
      ['1', true],
      ['NO', false],
    ] as const) {
      expect(loadEnv('example', ExampleEnv, { ...valid, DEMO: text }).DEMO).toBe(value);
    }
    expect(loadEnv('example', ExampleEnv, valid).DEMO).toBe(false);
    expect(() => loadEnv('example', ExampleEnv, { ...valid, DEMO: 'maybe' })).toThrow(/DEMO/);
  });

  it('ignores variables the service does not declare', () => {
    const env = loadEnv('example', ExampleEnv, { ...valid, HOME: '/root' }) as unknown as Record<
      string,
      unknown
    >;
    expect(env.HOME).toBeUndefined();
  });
});
