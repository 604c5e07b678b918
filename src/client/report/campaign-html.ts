/**
 * Gathers what the campaign page shows and writes it: the campaign's report (every item: from
 * the report, or from its local manifest when the report left the delivered ones out), the
 * footprints (looked up in the catalogue by a worker, a thousand products per short workflow),
 * the land from the package's data. The file is written whole (temporary name, then rename).
 */
import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import type { Client } from '@temporalio/client';
import type { CatalogueFootprints, CatalogueLookupInput } from '../../activities/campaign-contract';
import type { Footprint } from '../../hook/stac-fields';
import { FOOTPRINTS_WORKFLOW } from '../../shared/campaign-messages';
import type { CampaignItem, CampaignReport } from '../../shared/campaign-report';
import { campaignHandle, campaignReport } from '../campaign-api';
import { CliError } from '../errors';
import { renderCampaignPage } from './campaign-page';
import { landRings } from './coastline';

/** Products looked up per footprint workflow (its result stays well under Temporal's payload limit). */
const LOOKUP_BATCH = 1000;

export interface WrittenPage {
  file: string;
  items: number;
  /** Products drawn on the map (those the catalogue gave a footprint for). */
  footprints: number;
}

export async function writeCampaignHtml(client: Client, workflowId: string, file: string): Promise<WrittenPage> {
  const report = await campaignReport(client, workflowId);
  const items = await allItems(report);
  const { taskQueue } = await campaignHandle(client, workflowId).describe();
  const footprints: Record<string, Footprint> = {};
  const ids = items.map((item) => item.identifier);
  for (let i = 0; i < ids.length; i += LOOKUP_BATCH) {
    const found = await client.workflow.execute<(input: CatalogueLookupInput) => Promise<CatalogueFootprints>>(
      FOOTPRINTS_WORKFLOW,
      {
        taskQueue,
        workflowId: `${workflowId}/footprints-${randomBytes(4).toString('hex')}`,
        args: [{ collection: report.collection, identifiers: ids.slice(i, i + LOOKUP_BATCH) }],
      },
    );
    Object.assign(footprints, found.footprints);
  }
  const html = renderCampaignPage({ report, items, footprints, land: await landRings(), generatedAt: new Date() });
  const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temp, html);
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  return { file, items: items.length, footprints: items.filter((item) => footprints[item.identifier]).length };
}

/** The report's items, or the manifest's full list when the report kept only those not delivered. */
async function allItems(report: CampaignReport): Promise<CampaignItem[]> {
  if (!report.itemsOmitted) return report.items ?? [];
  if (!report.manifest?.startsWith('file://')) {
    throw new CliError(
      `campaign ${report.workflowId} has too many products for its report, and its manifest (${report.manifest ?? 'none'}) is not a local file: --html needs the full list`,
    );
  }
  const manifest = JSON.parse(await readFile(fileURLToPath(report.manifest), 'utf8')) as CampaignReport;
  return manifest.items ?? [];
}
