// Numeric constants from RFC 8489 (STUN) and RFC 8656 (TURN).
export const MAGIC_COOKIE = 0x2112a442;
export const HEADER_LENGTH = 20;
export const TRANSACTION_ID_LENGTH = 12;

export const Method = {
  Binding: 0x001,
  Allocate: 0x003,
  Refresh: 0x004,
  Send: 0x006,
  Data: 0x007,
  CreatePermission: 0x008,
  ChannelBind: 0x009,
} as const;

export const MessageClass = {
  Request: 0,
  Indication: 1,
  SuccessResponse: 2,
  ErrorResponse: 3,
} as const;
export type MessageClassValue = (typeof MessageClass)[keyof typeof MessageClass];

export const AttributeType = {
  MappedAddress: 0x0001,
  Username: 0x0006,
  MessageIntegrity: 0x0008,
  ErrorCode: 0x0009,
  UnknownAttributes: 0x000a,
  ChannelNumber: 0x000c,
  Lifetime: 0x000d,
  XorPeerAddress: 0x0012,
  Data: 0x0013,
  Realm: 0x0014,
  Nonce: 0x0015,
  XorRelayedAddress: 0x0016,
  RequestedAddressFamily: 0x0017,
  EvenPort: 0x0018,
  RequestedTransport: 0x0019,
  DontFragment: 0x001a,
  MessageIntegritySha256: 0x001c,
  PasswordAlgorithm: 0x001d,
  Userhash: 0x001e,
  XorMappedAddress: 0x0020,
  ReservationToken: 0x0022,
  Priority: 0x0024,
  UseCandidate: 0x0025,
  AdditionalAddressFamily: 0x8000,
  AddressErrorCode: 0x8001,
  PasswordAlgorithms: 0x8002,
  AlternateDomain: 0x8003,
  Icmp: 0x8004,
  Software: 0x8022,
  AlternateServer: 0x8023,
  Fingerprint: 0x8028,
  IceControlled: 0x8029,
  IceControlling: 0x802a,
  ResponseOrigin: 0x802b,
  OtherAddress: 0x802c,
} as const;

/** Comprehension-required attributes (type < 0x8000) this server understands; any other one in a request gets 420. */
export const UNDERSTOOD_REQUIRED_ATTRIBUTES: ReadonlySet<number> = new Set([
  AttributeType.MappedAddress,
  AttributeType.Username,
  AttributeType.MessageIntegrity,
  AttributeType.ErrorCode,
  AttributeType.UnknownAttributes,
  AttributeType.ChannelNumber,
  AttributeType.Lifetime,
  AttributeType.XorPeerAddress,
  AttributeType.Data,
  AttributeType.Realm,
  AttributeType.Nonce,
  AttributeType.XorRelayedAddress,
  AttributeType.RequestedAddressFamily,
  AttributeType.EvenPort,
  AttributeType.RequestedTransport,
  AttributeType.DontFragment,
  AttributeType.MessageIntegritySha256,
  AttributeType.XorMappedAddress,
  AttributeType.ReservationToken,
  AttributeType.Priority,
  AttributeType.UseCandidate,
]);

/** IANA protocol number for UDP, the only REQUESTED-TRANSPORT we relay. */
export const TRANSPORT_UDP = 17;
export const FAMILY_IPV4 = 0x01;
export const FAMILY_IPV6 = 0x02;

/**
 * Channel numbers a client may bind. RFC 8656 §12 narrows the range to
 * 0x4000-0x4FFF, but RFC 5766 allowed up to 0x7FFF and deployed clients
 * (coturn's among them) still pick from the old range, so we accept it.
 */
export const CHANNEL_MIN = 0x4000;
export const CHANNEL_MAX = 0x7fff;
