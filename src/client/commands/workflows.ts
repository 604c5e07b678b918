/**
 * `dedl-harvest workflows [name]`: what the tutorial's first cells show — the Hook's workflows,
 * and one workflow's options with their types, defaults and allowed values. Uses the worker's
 * Hook settings (HOOK_BASE_URL or the real endpoints, HOOK_AUTH and its credentials).
 */
import { loadWorkerConfig } from '../../config/worker-config';
import type { HookWorkflow } from '../../hook/schemas';
import { MANAGED_OPTIONS } from '../../shared/harvest-request';
import { buildDependencies } from '../../worker/dependencies';
import type { Command } from '../command';
import { CliError } from '../errors';
import { EXIT } from '../exit-codes';
import { line, printJson } from '../io';

export const workflowsCommand: Command = {
  name: 'workflows',
  usage: 'workflows [name]',
  summary: "list the Hook's workflows, or show one workflow's options (what a request's \"options\" may set)",
  details:
    'Talks to the Hook with the worker settings: HOOK_BASE_URL (or HOOK_ODATA_URL, …), HOOK_AUTH and its credentials.',
  flags: {},
  positionals: { min: 0, max: 1 },
  async run(ctx) {
    const name = ctx.positionals[0];
    const config = loadWorkerConfig(ctx.io.env);
    const deps = buildDependencies(config, ctx.io.env);
    try {
      if (!name) {
        const workflows = await deps.hook.listWorkflows();
        if (ctx.json) {
          printJson(ctx.io.stdout, workflows);
          return 0;
        }
        line(ctx.io.stdout, `Workflows of the Hook at ${config.endpoints.odata}`);
        const width = Math.max(...workflows.map((w) => w.Name.length), 4) + 2;
        for (const w of workflows) {
          line(
            ctx.io.stdout,
            `  ${w.Name.padEnd(width)}${w.DisplayName ?? ''}${w.WorkflowVersion ? ` (v${w.WorkflowVersion})` : ''}`,
          );
        }
        line(ctx.io.stdout, 'Options of one: dedl-harvest workflows <name>');
        return 0;
      }
      const workflow = await deps.hook.getWorkflow(name);
      if (!workflow) {
        const known = (await deps.hook.listWorkflows()).map((w) => w.Name);
        throw new CliError(`the Hook has no workflow "${name}" (it has: ${known.join(', ')})`, EXIT.INVALID);
      }
      if (ctx.json) printJson(ctx.io.stdout, workflow);
      else for (const text of describeWorkflow(workflow)) line(ctx.io.stdout, text);
      return 0;
    } finally {
      await deps.close();
    }
  },
};

/** A workflow and its options, for people. */
export function describeWorkflow(workflow: HookWorkflow): string[] {
  const lines = [
    `${workflow.Name} — ${workflow.DisplayName ?? ''}${workflow.WorkflowVersion ? ` (v${workflow.WorkflowVersion})` : ''}`,
  ];
  if (workflow.Description) lines.push(`  ${workflow.Description}`);
  lines.push('Options ("*" = set by dedl-harvest from the request\'s source and output):');
  for (const option of workflow.WorkflowOptions ?? []) {
    const facts = [
      option.Type,
      // The Hook's `Required` flag is advisory (it accepts orders without most "required" options).
      option.Required ? 'marked required' : undefined,
      option.Default !== null ? `default ${String(option.Default)}` : undefined,
      option.Value ? `one of ${option.Value.join(', ')}` : undefined,
    ].filter(Boolean);
    const managed = MANAGED_OPTIONS.has(option.Name) ? '*' : ' ';
    lines.push(`  ${managed} ${option.Name}  [${facts.join('; ')}]`);
    if (option.Description) lines.push(`      ${option.Description}`);
  }
  return lines;
}
