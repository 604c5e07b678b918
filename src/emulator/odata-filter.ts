/**
 * A small OData `$filter` parser and evaluator: comparisons (`eq ne gt ge lt le`), `and`, `or`,
 * `not`, parentheses, string functions (`endswith`, `startswith`, `contains`, `tolower`,
 * `toupper`), and literals (`'text'` with `''` escapes, numbers, `true`/`false`/`null`, unquoted
 * ISO timestamps, and a bare word on the right of a comparison that names no property, e.g.
 * `Name eq data-harvest`). Property names match case-insensitively (the Tutorial writes `id eq 123`).
 */

export class FilterError extends Error {
  override readonly name = 'FilterError';
}

type Value = string | number | boolean | null;

type Node =
  | { kind: 'lit'; value: Value }
  | { kind: 'prop'; name: string }
  | { kind: 'call'; fn: string; args: Node[] }
  | { kind: 'not'; expr: Node }
  | { kind: 'bin'; op: string; left: Node; right: Node };

type Token =
  { t: 'punct'; v: '(' | ')' | ',' } | { t: 'str'; v: string } | { t: 'num'; v: number } | { t: 'word'; v: string };

const COMPARISONS = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const FUNCTIONS: Record<string, number> = { endswith: 2, startswith: 2, contains: 2, tolower: 1, toupper: 1 };

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src.charAt(i);
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      out.push({ t: 'punct', v: c });
      i++;
    } else if (c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= src.length) throw new FilterError('unterminated string literal');
        const d = src.charAt(i);
        if (d === "'") {
          if (src.charAt(i + 1) === "'") {
            s += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += d;
        i++;
      }
      out.push({ t: 'str', v: s });
    } else {
      const date = /^\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:\d{2})?/.exec(src.slice(i));
      const num = /^-?\d+(?:\.\d+)?(?![\w-])/.exec(src.slice(i));
      const word = /^[A-Za-z_][\w./-]*/.exec(src.slice(i));
      if (date) {
        out.push({ t: 'str', v: date[0] });
        i += date[0].length;
      } else if (num) {
        out.push({ t: 'num', v: Number(num[0]) });
        i += num[0].length;
      } else if (word) {
        out.push({ t: 'word', v: word[0] });
        i += word[0].length;
      } else {
        throw new FilterError(`unexpected character '${c}' at position ${i}`);
      }
    }
  }
  return out;
}

class Parser {
  private pos = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly props: Map<string, string>,
  ) {}

  parse(): Node {
    const node = this.or();
    if (this.pos < this.tokens.length) throw new FilterError(`unexpected '${show(this.tokens[this.pos])}'`);
    return node;
  }

  private peekWord(): string | undefined {
    const t = this.tokens[this.pos];
    return t?.t === 'word' ? t.v.toLowerCase() : undefined;
  }

  private expectPunct(v: '(' | ')' | ','): void {
    const t = this.tokens[this.pos];
    if (t?.t !== 'punct' || t.v !== v)
      throw new FilterError(`expected '${v}' but found ${t ? `'${show(t)}'` : 'end of input'}`);
    this.pos++;
  }

  private or(): Node {
    let left = this.and();
    while (this.peekWord() === 'or') {
      this.pos++;
      left = { kind: 'bin', op: 'or', left, right: this.and() };
    }
    return left;
  }

  private and(): Node {
    let left = this.not();
    while (this.peekWord() === 'and') {
      this.pos++;
      left = { kind: 'bin', op: 'and', left, right: this.not() };
    }
    return left;
  }

  private not(): Node {
    if (this.peekWord() === 'not') {
      this.pos++;
      return { kind: 'not', expr: this.not() };
    }
    const left = this.primary();
    const op = this.peekWord();
    if (op && COMPARISONS.has(op)) {
      this.pos++;
      return { kind: 'bin', op, left, right: this.primary(true) };
    }
    return left;
  }

  /**
   * `bareWordIsText`: on the right of a comparison, a word that names no property is read as text.
   * The Hook Tutorial documents `$filter=(Name eq data-harvest)` (no quotes) as a URL to open.
   */
  private primary(bareWordIsText = false): Node {
    const t = this.tokens[this.pos];
    if (!t) throw new FilterError('unexpected end of input');
    this.pos++;
    if (t.t === 'punct') {
      if (t.v !== '(') throw new FilterError(`unexpected '${t.v}'`);
      const inner = this.or();
      this.expectPunct(')');
      return inner;
    }
    if (t.t === 'str' || t.t === 'num') return { kind: 'lit', value: t.v };
    const lower = t.v.toLowerCase();
    if (lower === 'true' || lower === 'false') return { kind: 'lit', value: lower === 'true' };
    if (lower === 'null') return { kind: 'lit', value: null };
    const next = this.tokens[this.pos];
    if (next?.t === 'punct' && next.v === '(') {
      const arity = FUNCTIONS[lower];
      if (arity === undefined) throw new FilterError(`unknown function '${t.v}'`);
      this.pos++;
      const args: Node[] = [this.or()];
      while (this.tokens[this.pos]?.t === 'punct' && (this.tokens[this.pos] as { v: string }).v === ',') {
        this.pos++;
        args.push(this.or());
      }
      this.expectPunct(')');
      if (args.length !== arity) throw new FilterError(`${lower}() takes ${arity} argument(s)`);
      return { kind: 'call', fn: lower, args };
    }
    const name = this.props.get(lower);
    if (name === undefined && bareWordIsText) return { kind: 'lit', value: t.v };
    if (name === undefined) throw new FilterError(`unknown property '${t.v}'`);
    return { kind: 'prop', name };
  }
}

function show(t: Token | undefined): string {
  if (!t) return '';
  return t.t === 'str' ? `'${t.v}'` : String(t.v);
}

const isNumeric = (v: Value): boolean =>
  typeof v === 'number' || (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)));

function compare(a: Value, b: Value): number {
  if ((typeof a === 'number' || typeof b === 'number') && isNumeric(a) && isNumeric(b)) return Number(a) - Number(b);
  const sa = String(a);
  const sb = String(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function evaluate(node: Node, entity: Record<string, unknown>): Value {
  switch (node.kind) {
    case 'lit':
      return node.value;
    case 'prop': {
      const v = entity[node.name];
      return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean'
        ? v
        : v === undefined || v === null
          ? null
          : JSON.stringify(v);
    }
    case 'not':
      return evaluate(node.expr, entity) !== true;
    case 'call': {
      const args = node.args.map((a) => evaluate(a, entity));
      const [x, y] = args;
      if (x === null || x === undefined) return node.fn === 'tolower' || node.fn === 'toupper' ? null : false;
      const s = String(x);
      switch (node.fn) {
        case 'endswith':
          return s.endsWith(String(y));
        case 'startswith':
          return s.startsWith(String(y));
        case 'contains':
          return s.includes(String(y));
        case 'tolower':
          return s.toLowerCase();
        default:
          return s.toUpperCase();
      }
    }
    case 'bin': {
      if (node.op === 'and') return evaluate(node.left, entity) === true && evaluate(node.right, entity) === true;
      if (node.op === 'or') return evaluate(node.left, entity) === true || evaluate(node.right, entity) === true;
      const a = evaluate(node.left, entity);
      const b = evaluate(node.right, entity);
      if (node.op === 'eq') return a === null || b === null ? a === b : compare(a, b) === 0;
      if (node.op === 'ne') return a === null || b === null ? a !== b : compare(a, b) !== 0;
      if (a === null || b === null) return false;
      const c = compare(a, b);
      return node.op === 'gt' ? c > 0 : node.op === 'ge' ? c >= 0 : node.op === 'lt' ? c < 0 : c <= 0;
    }
  }
}

/** Compiles `text` against the given property names; throws {@link FilterError} when it cannot. */
export function compileFilter(
  text: string,
  properties: readonly string[],
): (entity: Record<string, unknown>) => boolean {
  const props = new Map(properties.map((p) => [p.toLowerCase(), p]));
  const ast = new Parser(tokenize(text), props).parse();
  return (entity) => evaluate(ast, entity) === true;
}
