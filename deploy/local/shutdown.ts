interface Step {
  readonly name: string;
  readonly stop: () => Promise<void>;
}

/** What `npm start` started, stopped in reverse order: services first, NATS last. */
export class Shutdown {
  private readonly steps: Step[] = [];
  private running: Promise<void> | undefined;

  constructor(private readonly report: (line: string) => void = console.log) {}

  get started(): boolean {
    return this.running !== undefined;
  }

  /** Registers something to stop; if shutdown already began (Ctrl-C during startup), stops it right away. */
  add(name: string, stop: () => Promise<void>): void {
    const step = { name, stop };
    if (this.running) this.running = this.running.then(() => this.runStep(step));
    else this.steps.push(step);
  }

  /** Stops everything registered, once, however many times it is called. */
  run(): Promise<void> {
    this.running ??= this.runAll();
    return this.running;
  }

  private async runAll(): Promise<void> {
    for (const step of this.steps.reverse()) await this.runStep(step);
  }

  private async runStep(step: Step): Promise<void> {
    this.report(`■ stopping ${step.name}`);
    try {
      await step.stop();
    } catch (error) {
      this.report(`  could not stop ${step.name}: ${(error as Error).message}`);
    }
  }
}
