/**
 * The PIN prompt of a call that arrived without one: collects DTMF digits until '#' (or a full
 * PIN) and allows a limited number of tries.
 */
export class Ivr {
  #digits = '';
  #tries = 0;

  private readonly maxTries: number;
  private readonly pinLength;
  constructor(
    maxTries: number,
    pinLength = 9,
  ) {
    this.maxTries = maxTries;
    this.pinLength = pinLength;
  }

  get tries(): number {
    return this.#tries;
  }

  /** Feeds one digit; returns a PIN to check when one is complete. */
  push(digit: string): string | null {
    if (digit === '*') {
      this.#digits = '';
      return null;
    }
    if (digit === '#') return this.#complete();
    if (!/^[0-9]$/.test(digit)) return null;
    this.#digits += digit;
    return this.#digits.length >= this.pinLength ? this.#complete() : null;
  }

  /** A PIN was wrong: whether the caller may try again. */
  rejected(): boolean {
    return this.#tries < this.maxTries;
  }

  #complete(): string | null {
    const pin = this.#digits;
    this.#digits = '';
    if (pin.length === 0) return null;
    this.#tries++;
    return pin;
  }
}
