/**
 * Per-key serial execution: tasks with the same key run one at a time in submission order;
 * different keys run concurrently. A key's entry exists only while it has work, so finished
 * channels leave nothing behind. Task errors go to `onError` and never stop the queue.
 */
export type Task = () => void | Promise<void>;

interface Lane {
  readonly tasks: Task[];
  running: boolean;
}

export class KeyedSerialQueue {
  private readonly lanes = new Map<string, Lane>();
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly onError: (err: unknown, key: string) => void) {}

  push(key: string, task: Task): void {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { tasks: [], running: false };
      this.lanes.set(key, lane);
    }
    lane.tasks.push(task);
    if (!lane.running) void this.drain(key, lane);
  }

  /** Keys with queued or running work. */
  get size(): number {
    return this.lanes.size;
  }

  /** Resolves when every lane has drained (tests, graceful shutdown). */
  idle(): Promise<void> {
    if (this.lanes.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private async drain(key: string, lane: Lane): Promise<void> {
    lane.running = true;
    let task = lane.tasks.shift();
    while (task) {
      try {
        await task();
      } catch (err) {
        try {
          this.onError(err, key);
        } catch {
          // an error reporter must not stop the lane
        }
      }
      task = lane.tasks.shift();
    }
    lane.running = false;
    this.lanes.delete(key);
    if (this.lanes.size === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }
}
