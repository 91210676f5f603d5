import { registerDecorator, type ValidationArguments, type ValidationOptions } from 'class-validator';
import { ruleProblems } from './rule.js';

/** A segment or condition rule (rule.ts); the message names each part at fault. */
export function IsRule(options?: ValidationOptions) {
  return (object: object, propertyName: string): void => {
    registerDecorator({
      name: 'isRule',
      target: object.constructor,
      propertyName,
      ...(options ? { options } : {}),
      validator: {
        validate: (value: unknown) => ruleProblems(value).length === 0,
        defaultMessage: (args?: ValidationArguments) =>
          ruleProblems(args?.value, args?.property ?? 'rule').join('; '),
      },
    });
  };
}
