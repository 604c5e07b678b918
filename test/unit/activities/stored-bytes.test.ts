/**
 * storedBytesResumable: which lengths of an earlier attempt's `.part` a delivery may resume from
 * before it has a ranged checkpoint to read (a file a ranged attempt wrote to is as long as the
 * product, with holes).
 */
import { storedBytesResumable } from '../../../src/activities/delivery-activities';

const MIB = 1024 * 1024;
const local = (offset: number) => ({ offset, local: {} });

describe('storedBytesResumable', () => {
  it("resumes a single stream's prefix, with or without its checkpoint, when the size is known", () => {
    expect(storedBytesResumable(local(3 * MIB), { bytes: 3 * MIB }, 6 * MIB)).toBe(true);
    expect(storedBytesResumable(local(3 * MIB), undefined, 6 * MIB)).toBe(true);
  });

  it('starts over from a file as long as the product without a ranged checkpoint (holes, or nothing left to ask for)', () => {
    expect(storedBytesResumable(local(6 * MIB), undefined, 6 * MIB)).toBe(false);
    expect(storedBytesResumable(local(6 * MIB), { bytes: 2 * MIB }, 6 * MIB)).toBe(false);
  });

  it("leaves a ranged checkpoint's file to the ranged path", () => {
    expect(storedBytesResumable(local(6 * MIB), { ranged: { done: '0-2' } }, 6 * MIB)).toBe(true);
  });

  it('when the size is unknown, resumes a local file only under a checkpoint (an S3 upload always has one)', () => {
    expect(storedBytesResumable(local(3 * MIB), undefined, undefined)).toBe(false);
    expect(storedBytesResumable(local(3 * MIB), { bytes: 3 * MIB }, undefined)).toBe(true);
    expect(storedBytesResumable({ offset: 3 * MIB }, undefined, undefined)).toBe(true);
  });

  it('has nothing to decide for an empty file', () => {
    expect(storedBytesResumable(local(0), undefined, undefined)).toBe(true);
  });
});
