/** The `$filter` parser on its own: the expressions docs/hook-api.md §3 lists, and its errors. */
import { FilterError, compileFilter } from '../../src/emulator/odata-filter';

const props = ['Id', 'Name', 'Status', 'WorkflowName', 'InputProductType', 'SubmissionDate', 'Priority'];
const order = {
  Id: '13832',
  Name: 'Tutorial data-harvest - run-7',
  Status: 'completed',
  WorkflowName: 'coh',
  InputProductType: 'IW_SLC__1S',
  SubmissionDate: '2024-05-14T12:33:18.113Z',
  Priority: 1,
};
const matches = (f: string) => compileFilter(f, props)(order);

describe('odata $filter', () => {
  it.each([
    ["Name eq 'Tutorial data-harvest - run-7'", true],
    ["(Name eq 'Tutorial data-harvest - run-7')", true],
    ["endswith(Name,'run-7')", true],
    // Unquoted text, as the Hook Tutorial documents `$filter=(Name eq data-harvest)`.
    ['(Name eq data-harvest)', false],
    ['(WorkflowName eq coh)', true],
    ["(endswith(Name,'run-8'))", false],
    ["startswith(Name, 'Tutorial')", true],
    ["contains(InputProductType,'SLC')", true],
    ['id eq 13832', true],
    ['Id eq 13833', false],
    ["Id eq '13832'", true],
    ["WorkflowName eq 'coh' and Status eq 'completed'", true],
    ["WorkflowName eq 'coh' and (Status eq 'failed' or Priority ge 1)", true],
    ["not (Status eq 'completed')", false],
    ['SubmissionDate gt 2024-05-14T00:00:00.000Z', true],
    ["tolower(Status) eq 'completed'", true],
    ["Name eq 'it''s'", false],
  ])('%s → %s', (filter, expected) => {
    expect(matches(filter)).toBe(expected);
  });

  it.each([
    "Name eq 'open",
    'Colour eq 1',
    'endswith(Name)',
    "Name eq 'a' and",
    "frobnicate(Name,'x')",
    'Nmae eq data-harvest',
  ])('rejects %s', (filter) => {
    expect(() => compileFilter(filter, props)).toThrow(FilterError);
  });
});
