/**
 * Framed protocol codec: each frame is a 4-byte big-endian length and that many bytes of
 * UTF-8 JSON. Pure: bytes in, frames out. A length over the limit makes the stream
 * untrustworthy (we cannot know where the next frame starts), so it is reported once and
 * the decoder stops.
 */

export type FrameItem = { kind: 'frame'; payload: Buffer } | { kind: 'too_large'; length: number };

export class FrameDecoder {
  private buffered: Buffer = Buffer.alloc(0);
  private failed = false;

  constructor(private readonly maxFrame: number) {}

  push(chunk: Buffer): FrameItem[] {
    if (this.failed) return [];
    let buf = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    const out: FrameItem[] = [];
    while (buf.length >= 4) {
      const length = buf.readUInt32BE(0);
      if (length > this.maxFrame) {
        this.failed = true;
        this.buffered = Buffer.alloc(0);
        out.push({ kind: 'too_large', length });
        return out;
      }
      if (buf.length < 4 + length) break;
      // Copy: the payload must not pin the (possibly large) socket chunk.
      out.push({ kind: 'frame', payload: Buffer.from(buf.subarray(4, 4 + length)) });
      buf = buf.subarray(4 + length);
    }
    this.buffered = buf.length === 0 ? Buffer.alloc(0) : Buffer.from(buf);
    return out;
  }
}

export function encodeFrame(json: string): Buffer {
  const body = Buffer.from(json, 'utf8');
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}
