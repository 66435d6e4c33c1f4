// Splits a TCP/TLS byte stream into STUN messages and 4-byte-padded
// ChannelData messages (RFC 8656 §12.4), however the network splits or
// coalesces them. Frames that arrive whole inside one chunk are emitted as
// zero-copy views; only frames straddling chunk boundaries are copied, into
// a fixed-size accumulator, so memory per connection is bounded by one
// maximum-size frame.
import { HEADER_LENGTH, MAGIC_COOKIE } from './constants.js';
import { isChannelDataByte } from './channel-data.js';

/** Largest possible frame: STUN with a 65532-byte body (ChannelData tops out at 4 + 65536). */
export const MAX_FRAME = 20 + 65532;

export type FrameKind = 'stun' | 'channel';

export class FramingError extends Error {
  override name = 'FramingError';
}

/** Length of the frame starting at buf[pos], -1 if more bytes are needed; throws for garbage. */
function frameLength(buf: Buffer, pos: number, available: number): number {
  if (available < 4) return -1;
  const first = buf[pos]! & 0xc0;
  const len = buf.readUInt16BE(pos + 2);
  if (first === 0x40) return 4 + ((len + 3) & ~3);
  if (first !== 0) throw new FramingError('stream carries neither STUN nor ChannelData');
  if (len & 3) throw new FramingError('STUN length not a multiple of 4');
  if (available >= 8 && buf.readUInt32BE(pos + 4) !== MAGIC_COOKIE)
    throw new FramingError('bad magic cookie on stream');
  return HEADER_LENGTH + len;
}

export class StreamFramer {
  private acc: Buffer | null = null;
  private accLen = 0;

  /**
   * @param onFrame receives each frame. Emitted buffers are never overwritten
   * later (views share the received chunk; straddling frames are fresh
   * copies), so they may be handed to asynchronous socket sends.
   */
  constructor(private readonly onFrame: (frame: Buffer, kind: FrameKind) => void) {}

  get bufferedBytes(): number {
    return this.accLen;
  }

  /** Feeds one chunk; throws FramingError on a corrupt stream (caller closes the connection). */
  push(chunk: Buffer): void {
    let pos = 0;
    if (this.accLen > 0) pos = this.completePending(chunk);
    while (pos < chunk.length) {
      const available = chunk.length - pos;
      const need = frameLength(chunk, pos, available);
      if (need < 0 || need > available) {
        this.stash(chunk.subarray(pos));
        return;
      }
      this.emit(chunk.subarray(pos, pos + need));
      pos += need;
    }
  }

  private emit(frame: Buffer): void {
    this.onFrame(frame, isChannelDataByte(frame[0]!) ? 'channel' : 'stun');
  }

  private stash(bytes: Buffer): void {
    this.acc ??= Buffer.allocUnsafe(MAX_FRAME);
    bytes.copy(this.acc, this.accLen);
    this.accLen += bytes.length;
  }

  /** Tops up the accumulator from `chunk`; returns how many chunk bytes were consumed. */
  private completePending(chunk: Buffer): number {
    const acc = this.acc!;
    let used = 0;
    // First the 4 bytes that give the frame length, then exactly the rest of the frame.
    while (this.accLen < 4 && used < chunk.length) acc[this.accLen++] = chunk[used++]!;
    const need = frameLength(acc, 0, this.accLen);
    if (need < 0) return used;
    const take = Math.min(need - this.accLen, chunk.length - used);
    if (take > 0) {
      chunk.copy(acc, this.accLen, used, used + take);
      this.accLen += take;
      used += take;
    }
    if (this.accLen === need) {
      frameLength(acc, 0, this.accLen); // re-validates the STUN cookie now that it is complete
      const frame = Buffer.from(acc.subarray(0, need));
      this.accLen = 0;
      this.emit(frame);
    }
    return used;
  }
}
