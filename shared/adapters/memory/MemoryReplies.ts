import { REPLY_TTL_MS, type Replies } from '../../ports/replies.ts';

/** Replies within one process (embedded mode, tests). */
export class MemoryReplies implements Replies {
  readonly #waiting = new Map<string, (value: unknown) => void>();
  readonly #posted = new Map<string, { value: unknown; timer: NodeJS.Timeout }>();

  wait(id: string, timeoutMs: number): Promise<unknown> {
    const posted = this.#posted.get(id);
    if (posted) {
      clearTimeout(posted.timer);
      this.#posted.delete(id);
      return Promise.resolve(posted.value);
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(id);
        resolve(undefined);
      }, timeoutMs);
      this.#waiting.set(id, (value) => {
        clearTimeout(timer);
        this.#waiting.delete(id);
        resolve(value);
      });
    });
  }

  async post(id: string, value: unknown): Promise<void> {
    const waiter = this.#waiting.get(id);
    if (waiter) return waiter(value);
    const timer = setTimeout(() => this.#posted.delete(id), REPLY_TTL_MS);
    timer.unref();
    this.#posted.set(id, { value, timer });
  }
}
