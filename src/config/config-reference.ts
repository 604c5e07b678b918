/**
 * The configuration reference: one table row per variable of `workerEnvSchema` (name, default,
 * when it is required, description), rendered as Markdown for the README region between the
 * `config-reference` markers. Everything comes from the schema and its requirement tables, so the
 * README cannot drift from what the worker accepts (test/unit/config/config-reference.test.ts).
 */
import { z } from 'zod';
import { AUTH_REQUIREMENTS, REQUIRED_TOGETHER, workerEnvSchema } from './worker-config';

export const CONFIG_REFERENCE_START = '<!-- config-reference:start -->';
export const CONFIG_REFERENCE_END = '<!-- config-reference:end -->';

export interface ConfigVariable {
  name: string;
  /** The default as the environment would spell it; undefined when there is none. */
  default?: string;
  /** Conditions under which the variable must be set (empty: never required). */
  requiredWhen: string[];
  description: string;
  /** Allowed values, for enumerations. */
  values?: string[];
}

/** Every variable of the schema, in schema order. Throws when one has no description. */
export function configVariables(): ConfigVariable[] {
  return Object.entries(workerEnvSchema.shape).map(([name, schema]: [string, z.ZodType]) => {
    const description = schema.description;
    if (!description) throw new Error(`${name} has no description in workerEnvSchema`);
    const fallback = defaultOf(schema);
    const values = enumValues(schema);
    return {
      name,
      ...(fallback === undefined ? {} : { default: fallback }),
      requiredWhen: requiredWhen(name),
      description,
      ...(values ? { values } : {}),
    };
  });
}

/** The Markdown table (unaligned; Prettier aligns it when the README is formatted). */
export function renderConfigReference(variables: ConfigVariable[] = configVariables()): string {
  const rows = variables.map((v) => {
    const allowed = v.values ? ` One of ${v.values.map(code).join(', ')}.` : '';
    return [
      code(v.name),
      v.default === undefined ? '' : code(v.default),
      v.requiredWhen.join('; '),
      `${v.description}${allowed}`,
    ];
  });
  return [['variable', 'default', 'required', 'description'], ['---', '---', '---', '---'], ...rows]
    .map((cells) => `| ${cells.map(escapeCell).join(' | ')} |`)
    .join('\n');
}

/** `readme` with the text between the markers replaced by `table`; throws when a marker is missing. */
export function replaceConfigReference(readme: string, table: string): string {
  const start = readme.indexOf(CONFIG_REFERENCE_START);
  const end = readme.indexOf(CONFIG_REFERENCE_END);
  if (start < 0 || end < start) {
    throw new Error(`README has no ${CONFIG_REFERENCE_START} … ${CONFIG_REFERENCE_END} region`);
  }
  return `${readme.slice(0, start + CONFIG_REFERENCE_START.length)}\n\n${table}\n\n${readme.slice(end)}`;
}

function requiredWhen(name: string): string[] {
  const conditions: string[] = [];
  for (const [mode, names] of Object.entries(AUTH_REQUIREMENTS)) {
    if ((names as readonly string[]).includes(name)) conditions.push(code(`HOOK_AUTH=${mode}`));
  }
  for (const group of REQUIRED_TOGETHER) {
    const others = group.filter((other) => other !== name);
    if (others.length < group.length) conditions.push(`with ${others.map(code).join(', ')}`);
  }
  return conditions;
}

/** Unwraps optional/default/pipe layers to the schema that decides the accepted values. */
function innermost(schema: z.ZodType): z.ZodType {
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodDefault) return innermost(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodPipe) return innermost(schema.in as z.ZodType);
  return schema;
}

function defaultOf(schema: z.ZodType): string | undefined {
  if (schema instanceof z.ZodOptional) return defaultOf(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodDefault) return String(schema.def.defaultValue);
  return undefined;
}

function enumValues(schema: z.ZodType): string[] | undefined {
  const inner = innermost(schema);
  return inner instanceof z.ZodEnum ? inner.options.map(String) : undefined;
}

function code(text: string): string {
  return `\`${text}\``;
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}
