/**
 * `npm run setup:tools [-- --cluster]`: builds (or finds) every server binary the local stack
 * needs, once, into the git-ignored `.tools` folder — the Temporal CLI and versitygw, and with
 * `--cluster` the Temporal server and its SQL tool plus PostgreSQL. The stack does the same on
 * demand; this only front-loads the cold builds (several minutes on 2 cores).
 */
import { ensurePostgres } from '../src/devstack/postgres';
import { TEMPORAL_CLI, TEMPORAL_SERVER, TEMPORAL_SQL_TOOL, VERSITYGW, ensureTool } from '../src/devstack/tools';

async function main(): Promise<void> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const specs = [TEMPORAL_CLI, VERSITYGW];
  const cluster = process.argv.includes('--cluster');
  if (cluster) specs.push(TEMPORAL_SERVER, TEMPORAL_SQL_TOOL);
  // One after the other: two Go builds at once would fight over the cores and the module cache.
  for (const spec of specs) log(`${spec.name}: ${await ensureTool(spec, { log })}`);
  if (cluster) log(`PostgreSQL: ${await ensurePostgres(log)}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
