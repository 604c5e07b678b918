/**
 * The OData `Workflows` resource: the list of Hook workflows and one workflow, optionally with its
 * `WorkflowOptions` expanded (the only expansion the Hook offers).
 */
import { sendJson } from './http-util';
import { CONTEXT, WORKFLOW_PROPERTIES } from './odata-entities';
import { type OdataKit, detail } from './odata-common';
import { type RequestContext } from './router';
import { workflowEntity } from './workflows-fixture';

export function workflowHandlers(kit: OdataKit) {
  const { deps: d, dialect, authorize, query, sendList } = kit;

  const expandOptions = (ctx: RequestContext): boolean | undefined => {
    const expand = ctx.url.searchParams.get('$expand');
    if (expand === null || expand.trim() === '') return false;
    if (expand.trim().toLowerCase() === 'workflowoptions') return true;
    detail(ctx, 400, `Invalid $expand: '${expand}' (only WorkflowOptions can be expanded)`);
    return undefined;
  };

  const listWorkflows = (ctx: RequestContext): void => {
    if (!authorize(ctx)) return;
    const expand = expandOptions(ctx);
    if (expand === undefined) return;
    const result = query(ctx, d.workflows, WORKFLOW_PROPERTIES, (w) => w as unknown as Record<string, unknown>);
    if (!result) return;
    sendList(ctx, CONTEXT.workflows, { ...result, value: result.value.map((w) => workflowEntity(w, expand, dialect)) });
  };

  const getWorkflow = (ctx: RequestContext, m: RegExpExecArray): void => {
    if (!authorize(ctx)) return;
    const expand = expandOptions(ctx);
    if (expand === undefined) return;
    const w = d.workflows.find((x) => x.Id === m[1]);
    if (!w) return detail(ctx, 404, `Workflow ${m[1] ?? ''} not found`);
    sendJson(ctx.res, 200, { '@odata.context': CONTEXT.workflows, ...workflowEntity(w, expand, dialect) });
  };

  return { listWorkflows, getWorkflow };
}
