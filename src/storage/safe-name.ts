/**
 * Turns anything (a STAC identifier, a server-sent file name, an object key) into one file name
 * that cannot leave the directory it is joined to: no separators, no `.`/`..`, no hidden or device
 * names, no control characters, bounded length. Names that are already safe are kept as they are,
 * so ordinary product identifiers stay readable; a name that had to be changed gets a short hash of
 * the original appended, so two different inputs never map to the same file.
 */
import { createHash } from 'node:crypto';

/** Longest name returned, in characters (= bytes: the result is ASCII), leaving room for `.part`. */
export const MAX_SAFE_NAME_LENGTH = 200;

const UNSAFE_CHARS = /[^A-Za-z0-9._+=@,-]/g;
/** Names Windows reserves whatever the extension (sinks may sit on SMB shares). */
const WINDOWS_DEVICE = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\.|$)/i;
/** An extension worth keeping at the end when a hash is appended: `.zip`, `.SAFE`, `.nc`. */
const EXTENSION = /\.[A-Za-z0-9]{1,10}$/;

export function safeFileName(input: unknown): string {
  const original = typeof input === 'string' ? input : String(input);
  // NFKC first, so look-alikes such as the fullwidth solidus (U+FF0F) or the two-dot leader
  // (U+2025) turn into the '/' and '..' they mimic and are then replaced like the real ones.
  let name = original.normalize('NFKC').replace(UNSAFE_CHARS, '_');
  name = name.replace(/^\.+/, (dots) => '_'.repeat(dots.length)).replace(/\.+$/, (dots) => '_'.repeat(dots.length));
  if (WINDOWS_DEVICE.test(name)) name = `_${name}`;

  const tag = `~${createHash('sha256').update(original, 'utf8').digest('hex').slice(0, 12)}`;
  if (name === original && name.length > 0 && name.length <= MAX_SAFE_NAME_LENGTH) return name;

  const extension = EXTENSION.exec(name)?.[0] ?? '';
  const stem = name
    .slice(0, name.length - extension.length)
    .slice(0, MAX_SAFE_NAME_LENGTH - tag.length - extension.length);
  return `${stem || '_'}${tag}${extension}`;
}
