/**
 * A framed-protocol connection: frames in, the shared JSON session, frames out.
 */
import type { Hub } from '../../core/hub.js';
import type { Link } from '../../core/ports.js';
import { JsonSession } from '../json/session.js';
import { ProtocolError } from '../json/schema.js';
import { encodeFrame, FrameDecoder } from './codec.js';

const transport = { name: 'framed', frame: encodeFrame };

export function framedRefusal(reason: string): Buffer {
  return encodeFrame(
    JSON.stringify({ type: 'error', code: 'refused', message: `Connection refused: ${reason}` }),
  );
}

export function serveFramed(hub: Hub, link: Link, maxFrame: number): void {
  const json = new JsonSession(hub, link, transport);
  const decoder = new FrameDecoder(maxFrame);
  link.onData((chunk) => {
    for (const item of decoder.push(chunk)) {
      if (item.kind === 'frame') {
        json.receive(item.payload);
      } else {
        json.send({
          type: 'error',
          code: ProtocolError.FrameTooLarge,
          message: `Frame of ${item.length} bytes is over the ${maxFrame}-byte limit; closing`,
        });
        json.session.closeReason = 'frame too large';
        hub.disconnect(json.session, 'frame too large');
      }
    }
  });
}
