import { z } from 'zod';

/** The part of yargs' Argv used here, structural so that this package need not depend on yargs. */
export interface OptionBuilder {
  option(name: string, options: Record<string, unknown>): unknown;
}

/**
 * yargs options from a zod object's fields: type, choices, default and description all come from
 * the schema, so a command's flags and a stage's params cannot drift apart.
 */
export function optionsFromSchema<T extends OptionBuilder>(yargs: T, shape: Record<string, z.ZodType>, required: string[], arrays: string[] = []): T {
  for (const [name, schema] of Object.entries(shape)) {
    const inner = schema instanceof z.ZodDefault || schema instanceof z.ZodOptional ? schema.unwrap() : schema;
    const type = inner instanceof z.ZodNumber ? 'number' : inner instanceof z.ZodBoolean ? 'boolean' : 'string';
    const choices = inner instanceof z.ZodEnum ? (inner.options as string[]) : undefined;
    const fallback = schema instanceof z.ZodDefault ? schema.parse(undefined) : undefined;
    yargs.option(name, { describe: schema.description, type, choices, default: fallback, demandOption: required.includes(name), ...(arrays.includes(name) ? { array: true } : {}) });
  }
  return yargs;
}
