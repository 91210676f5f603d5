import { type ClassConstructor, plainToInstance } from 'class-transformer';
import { type ValidationError, validateSync } from 'class-validator';

/** Every problem with the environment at once, so one restart fixes them all. */
export class EnvValidationError extends Error {
  constructor(
    readonly service: string,
    readonly problems: readonly string[],
  ) {
    super(
      `${service}: the environment is not valid (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((problem) => `  - ${problem}`).join('\n'),
    );
    this.name = 'EnvValidationError';
  }
}

function describe(errors: readonly ValidationError[]): string[] {
  return errors.flatMap((error) => {
    const given = error.value === undefined ? 'missing' : `got ${JSON.stringify(error.value)}`;
    const own = Object.values(error.constraints ?? {}).map((text) => `${error.property}: ${text} (${given})`);
    return [...own, ...describe(error.children ?? [])];
  });
}

/**
 * Reads the variables a service declares in its EnvDto class, converts and validates them, and
 * throws one error listing every problem. Empty variables count as unset, so defaults apply.
 */
export function loadEnv<T extends object>(
  service: string,
  envClass: ClassConstructor<T>,
  env: Readonly<Record<string, string | undefined>>,
): T {
  const present = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const config = plainToInstance(envClass, present, { enableImplicitConversion: true });
  const errors = validateSync(config, { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) throw new EnvValidationError(service, describe(errors));
  return config;
}
