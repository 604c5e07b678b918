/**
 * Validates STAC JSON offline against the STAC 1.0.0 core schemas and the file extension schema
 * vendored under test/fixtures/schemas (GeoJSON schemas from the `geojson-schema` package), with
 * ajv. Returns ajv's errors as readable lines: an empty list means valid.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

const SCHEMAS = path.join(__dirname, '..', 'fixtures', 'schemas');
const STAC = 'https://schemas.stacspec.org/v1.0.0';
export const FILE_EXTENSION_SCHEMA = 'https://stac-extensions.github.io/file/v2.1.0/schema.json';

let ajv: Ajv | undefined;

function validator(id: string): ValidateFunction {
  if (!ajv) {
    ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(ajv);
    // STAC uses the IRI formats, which ajv-formats lacks: an IRI has a scheme; neither has spaces.
    ajv.addFormat('iri', /^[A-Za-z][A-Za-z0-9+.-]*:[^\s]*$/u);
    ajv.addFormat('iri-reference', /^[^\s]*$/u);
    const json = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as object;
    const geojson = path.dirname(require.resolve('geojson-schema/Feature.json'));
    for (const name of readdirSync(geojson).filter((f) => f.endsWith('.json') && f !== 'package.json')) {
      ajv.addSchema(json(path.join(geojson, name)));
    }
    for (const spec of ['item-spec', 'catalog-spec', 'collection-spec']) {
      const dir = path.join(SCHEMAS, 'stac-1.0.0', spec, 'json-schema');
      for (const name of readdirSync(dir)) ajv.addSchema(json(path.join(dir, name)));
    }
    ajv.addSchema(json(path.join(SCHEMAS, 'file-2.1.0', 'schema.json')));
  }
  const found = ajv.getSchema(id) ?? ajv.getSchema(`${id}#`);
  if (!found) throw new Error(`no schema ${id}`);
  return found;
}

function problems(validate: ValidateFunction, value: unknown, what: string): string[] {
  if (validate(value)) return [];
  return (validate.errors ?? []).map(
    (e) => `${what}${e.instancePath || '/'} ${e.message ?? ''} ${JSON.stringify(e.params)}`,
  );
}

/** Problems of a STAC Item against the core item schema and, when it declares it, the file extension. */
export function stacItemProblems(item: unknown): string[] {
  const found = problems(validator(`${STAC}/item-spec/json-schema/item.json`), item, 'item');
  const extensions = (item as { stac_extensions?: string[] }).stac_extensions ?? [];
  if (extensions.includes(FILE_EXTENSION_SCHEMA)) {
    found.push(...problems(validator(FILE_EXTENSION_SCHEMA), item, 'file extension'));
  }
  return found;
}

export function stacCatalogProblems(catalog: unknown): string[] {
  return problems(validator(`${STAC}/catalog-spec/json-schema/catalog.json`), catalog, 'catalog');
}

export function stacCollectionProblems(collection: unknown): string[] {
  return problems(validator(`${STAC}/collection-spec/json-schema/collection.json`), collection, 'collection');
}
