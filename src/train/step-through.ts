// Step-through mode: while it is on, each GRPO step reports its phases as 'trace' events (per-token
// log-probs before and after, ratios, clip flags) and waits after each until `next()`. Off, a step
// neither traces nor waits, so an ordinary run pays nothing for it. Without pauses (the CLI's
// --step-through: nobody presses Next) a step traces its phases and goes straight on.

export class StepThrough {
  private on = false;
  private resume: (() => void) | null = null;

  constructor(private readonly pauses = true) {}

  get enabled(): boolean {
    return this.on;
  }

  /** Switching off lets a waiting step go on without pausing again. */
  enable(on: boolean): void {
    this.on = on;
    if (!on) this.next();
  }

  /** Where the trainer waits after a phase: until next(), or not at all while off. */
  wait(): Promise<void> {
    if (!this.on || !this.pauses) return Promise.resolve();
    return new Promise((resolve) => (this.resume = resolve));
  }

  /** Lets the waiting step go on; false when none waits. */
  next(): boolean {
    const resume = this.resume;
    this.resume = null;
    resume?.();
    return resume !== null;
  }
}
