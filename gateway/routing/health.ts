/**
 * Backend health, active and passive. Passive: consecutive failures (5xx,
 * timeouts, refused connections) eject a backend for a backoff period that
 * doubles on repeated ejection. Active: a periodic probe of each backend's
 * health path; a successful probe readmits it.
 */

/** Health of one backend (an entry in one region). */
export class BackendHealth {
  private failures = 0;
  private ejectedUntil = 0;
  private ejections = 0;

  constructor(
    private readonly ejectAfter: number,
    private readonly ejectForMs: number,
    private readonly now: () => number = Date.now,
    /** Told of every ejection (metrics). */
    private readonly onEject: () => void = () => undefined,
  ) {}

  /** True unless the backend is ejected. */
  get healthy(): boolean {
    return this.now() >= this.ejectedUntil;
  }

  /** Records a success; clears the failure streak. */
  succeeded(): void {
    this.failures = 0;
    if (this.healthy) this.ejections = 0;
  }

  /** Records a failure; ejects after `ejectAfter` in a row. */
  failed(): void {
    this.failures++;
    if (this.failures >= this.ejectAfter) this.eject();
  }

  /** Ejects at once (a refused connection needs no streak to be believed). */
  eject(): void {
    this.failures = 0;
    this.ejections++;
    this.ejectedUntil = this.now() + this.ejectForMs * 2 ** Math.min(this.ejections - 1, 5);
    this.onEject();
  }

  /** An active probe's result: success readmits, failure ejects. */
  probed(ok: boolean): void {
    if (ok) {
      this.ejectedUntil = 0;
      this.failures = 0;
    } else if (this.healthy) {
      this.eject();
    }
  }
}
