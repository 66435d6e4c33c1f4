// Byte budget for the optional per-allocation bitrate cap; one second of burst.
export class TokenBucket {
  private tokens: number;
  private last: number;
  private bytesPerSecond: number;

  constructor(kbps: number, now = Date.now()) {
    this.bytesPerSecond = (kbps * 1000) / 8;
    this.tokens = this.bytesPerSecond;
    this.last = now;
  }

  setRate(kbps: number): void {
    this.bytesPerSecond = (kbps * 1000) / 8;
    this.tokens = Math.min(this.tokens, this.bytesPerSecond);
  }

  take(bytes: number, now: number): boolean {
    const elapsed = now - this.last;
    if (elapsed > 0) {
      this.tokens = Math.min(this.bytesPerSecond, this.tokens + (elapsed * this.bytesPerSecond) / 1000);
      this.last = now;
    }
    if (this.tokens < bytes) return false;
    this.tokens -= bytes;
    return true;
  }
}
