/** Objects of the emulated Swift temporary storage (`/swift/v1/tmp-storage/<name>`), one per completed TEMPORARY item. */

export const TMP_STORAGE_PATH = '/swift/v1/tmp-storage';

export interface TempObject {
  /** `YYYYMMDD_<itemId>_<8 chars>.zip` */
  name: string;
  orderId: number;
  itemId: number;
  identifier: string;
  size: number;
  /** Completion time of the item (ms), the object's Last-Modified. */
  completedAt: number;
  /** `temp_url_expires` of its link (Unix seconds). */
  expiresAt: number;
}

export class TempStore {
  private readonly objects = new Map<string, TempObject>();

  add(o: TempObject): void {
    this.objects.set(o.name, o);
  }

  get(name: string): TempObject | undefined {
    return this.objects.get(name);
  }

  all(): TempObject[] {
    return [...this.objects.values()];
  }

  restore(list: readonly TempObject[]): void {
    for (const o of list) this.objects.set(o.name, o);
  }
}
