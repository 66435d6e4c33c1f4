// DATA (RFC 8656 §18.5): the application payload of Send/Data indications, opaque to the relay.
export const encodeData = (payload: Buffer): Buffer => payload;
