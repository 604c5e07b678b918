/**
 * A short, stable, non-cryptographic hash (two FNV-1a passes → 13 base-36 characters). Used for
 * deterministic keys inside workflow code, where Node's crypto is not available.
 */
export function stableHash(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x01000193 + 2 * i + 1);
  }
  return ((a >>> 0).toString(36) + (b >>> 0).toString(36)).padStart(13, '0').slice(-13);
}
