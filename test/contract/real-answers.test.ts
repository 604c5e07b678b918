/**
 * Contract tests against the real Hook's recorded answers (test/fixtures/real): the client's
 * schemas read every one of them, and the emulator's answer to the same request has the shape of
 * the newest recording of that request (same fields, same JSON types, same `@odata.context`) in
 * its default dialect, and of the spring-2024 recordings in its `2024-05` dialect.
 */
import { type EmulatorHandle } from '../../src/emulator';
import {
  createdOrderSchema,
  listOf,
  orderItemSchema,
  orderSchema,
  singleOf,
  workflowSchema,
} from '../../src/hook/schemas';
import { S2_EXAMPLE, S2_L1C, dedlToken, odp, startTestEmulator, waitForItems } from '../emulator/helpers';
import { type RealFixture, fixture, newestFixture, realFixtures, shapeDiff } from '../helpers/real-fixtures';

/** The client schema that reads the answer to a recorded request. */
function clientSchemaFor(f: RealFixture) {
  const { method, path } = f.request;
  if (method === 'POST' && path.endsWith('BatchOrder/OData.CSC.Order')) return singleOf(createdOrderSchema);
  if (/\/Workflows\b/.test(path)) return listOf(workflowSchema);
  if (/\/ProductionOrders\b/.test(path)) return listOf(orderSchema);
  if (/\/BatchOrder\(\d+\)\/Products$/.test(path)) return listOf(orderItemSchema);
  throw new Error(`${f.file}: no client schema for ${method} ${path}`);
}

const hookFixtures = realFixtures().filter((f) => f.file.startsWith('hook-'));

describe('recorded answers of the real Hook', () => {
  it('are there, each with its source, commit and date', () => {
    expect(hookFixtures.length).toBeGreaterThanOrEqual(12);
    for (const f of hookFixtures) {
      expect([f.file, f.source, f.recorded]).toEqual([
        f.file,
        expect.stringMatching(/\S/),
        expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      ]);
      expect(f.file).toContain(f.recorded);
    }
  });

  it.each(hookFixtures.map((f) => [f.file, f] as const))('%s is read by the client', (_file, f) => {
    const result = clientSchemaFor(f).safeParse(f.body);
    expect(result.error?.issues ?? []).toEqual([]);
  });

  it('normalises both recorded forms of allowed values to the same list', () => {
    const read = (name: string) =>
      listOf(workflowSchema)
        .parse(fixture(name).body)
        .value[0]!.WorkflowOptions!.find((o) => o.Name === 'output_storage')!.Value;
    expect(read('hook-workflows-data-harvest-2024-05-03')).toEqual(['PRIVATE', 'TEMPORARY']);
    expect(read('hook-workflows-data-harvest-2024-09-02')).toEqual(['PRIVATE', 'TEMPORARY']);
  });
});

/** The emulator's answers to the recorded requests, with one order created and completed. */
async function emulatorAnswers(emu: EmulatorHandle): Promise<Record<string, unknown>> {
  const api = odp(emu, await dedlToken(emu.url));
  const name = `Tutorial data-harvest - contract-${Date.now()}`;
  // The Tutorial's order of 2024-09-02: TEMPORARY, DESP source, 5 options, posted without Content-Type.
  const created = await api.post('BatchOrder/OData.CSC.Order', {
    Name: name,
    WorkflowName: 'data-harvest',
    IdentifierList: [S2_EXAMPLE],
    WorkflowOptions: [
      { Name: 'output_storage', Value: 'TEMPORARY' },
      { Name: 'source_type', Value: 'DESP' },
      { Name: 'desp_source_username', Value: 'demo' },
      { Name: 'desp_source_password', Value: 'demo' },
      { Name: 'desp_source_collection', Value: S2_L1C },
    ],
  });
  expect(created.status).toBe(201);
  const orderId = String(created.json.value.Id);
  await waitForItems(emu, await dedlToken(emu.url), orderId, ['completed']);
  const get = async (path: string) => {
    const res = await api.get(path);
    expect([path, res.status]).toEqual([path, 200]);
    return res.json as unknown;
  };
  return {
    'hook-workflows': await get('Workflows?$orderby=Id asc'),
    'hook-workflows-data-harvest': await get("Workflows?$expand=WorkflowOptions&$filter=(Name eq 'data-harvest')"),
    'hook-order-created': created.json,
    'hook-productionorders': await get(
      `ProductionOrders?$orderby=Id desc&$filter=(endswith(Name,'${name.slice(-12)}'))`,
    ),
    'hook-batchorder-products': await get(`BatchOrder(${orderId})/Products`),
  };
}

describe.each([
  ['2024-09', (prefix: string) => newestFixture(prefix)],
  [
    '2024-05',
    (prefix: string) =>
      fixture(
        {
          'hook-workflows': 'hook-workflows-2024-06-06',
          'hook-workflows-data-harvest': 'hook-workflows-data-harvest-2024-05-03',
          'hook-order-created': 'hook-order-created-2024-05-14',
          'hook-productionorders': 'hook-productionorders-2024-05-14',
          'hook-batchorder-products': 'hook-batchorder-products-2024-05-14',
        }[prefix]!,
      ),
  ],
] as const)('the emulator in its %s dialect', (dialect, recordedFor) => {
  let emu: EmulatorHandle;
  let answers: Record<string, unknown>;
  beforeAll(async () => {
    emu = await startTestEmulator({ hookDialect: dialect });
    answers = await emulatorAnswers(emu);
  });
  afterAll(() => emu.close());

  it.each([
    'hook-workflows',
    'hook-workflows-data-harvest',
    'hook-order-created',
    'hook-productionorders',
    'hook-batchorder-products',
  ])('answers %s in the shape recorded', (prefix) => {
    const recorded = recordedFor(prefix);
    expect({ recorded: recorded.file, diff: shapeDiff(answers[prefix], recorded.body) }).toEqual({
      recorded: recorded.file,
      diff: [],
    });
  });
});

describe('the shape diff', () => {
  it('finds a missing field, an extra field, a changed JSON type and another context', () => {
    const recorded = { '@odata.context': '#a', value: [{ Id: 1, Name: 'x', Value: null, List: [{ v: 'a' }] }] };
    expect(shapeDiff(recorded, recorded)).toEqual([]);
    expect(
      shapeDiff({ '@odata.context': '#b', value: [{ Id: '1', Value: [1], List: [{ v: 1 }], More: true }] }, recorded),
    ).toEqual([
      '$.@odata.context: "#b", recorded "#a"',
      '$.value[0].Id: string, recorded number',
      '$.value[0].Name: missing',
      '$.value[0].List[0].v: number, recorded string',
      '$.value[0].More: not in the capture',
    ]);
  });
});
