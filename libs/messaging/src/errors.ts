/**
 * An error that retrying cannot fix (invalid input, a broken business rule): the message is
 * dead-lettered at once. Domain errors extend it, or carry `permanent: true`.
 */
export class PermanentError extends Error {
  readonly permanent = true;
  constructor(
    message: string,
    readonly code?: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export function isPermanent(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { permanent?: unknown }).permanent === true;
}

export function describeError(error: unknown): { name: string; message: string; code?: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return { name: error.name, message: error.message, ...(typeof code === 'string' ? { code } : {}) };
  }
  return { name: 'NonError', message: typeof error === 'string' ? error : JSON.stringify(error) };
}
