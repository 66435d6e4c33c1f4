// DONT-FRAGMENT (RFC 8656 §18.6): no value; its presence is the request.
import { StunDecodeError } from '../errors.js';

export function decodeDontFragment(value: Buffer): true {
  if (value.length !== 0) throw new StunDecodeError('DONT-FRAGMENT has no value');
  return true;
}
