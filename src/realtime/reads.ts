/** Frames built from what a shared read returned: one serialisation per row, however many connections get it. */
export class FrameCache<K extends object> {
  private readonly frames = new WeakMap<K, string>();

  constructor(private readonly build: (row: K) => string) {}

  of(row: K): string {
    let text = this.frames.get(row);
    if (text === undefined) {
      text = this.build(row);
      this.frames.set(row, text);
    }
    return text;
  }
}
