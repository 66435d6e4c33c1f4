// Parses the summary turnutils_uclient prints when it finishes, e.g.
//   5: : start_mclient: tot_send_msgs=200, tot_recv_msgs=200
//   5: : Total lost packets 0 (0.000000%), total send dropped 0 (0.000000%)
// and, with -v, each allocation's relayed address:
//   0: : IPv4. Received relay addr: 203.0.113.7:50000
// A run that never got an allocation prints no summary, so a missing line is
// an error rather than "zero loss".

export interface UclientReport {
  sent: number;
  received: number;
  lost: number;
  sendDropped: number;
  transmitSeconds: number | undefined;
  /** XOR-RELAYED-ADDRESS of each allocation (ip:port), printed with -v only. */
  relayedAddresses: string[];
}

export function parseUclientReport(output: string): UclientReport {
  const totals = lastMatch(output, /tot_send_msgs=(\d+), tot_recv_msgs=(\d+)\s*$/gm);
  const loss = lastMatch(output, /Total lost packets (\d+) \([\d.]+%\), total send dropped (\d+)/g);
  if (!totals || !loss) {
    throw new Error(`turnutils_uclient printed no final report; last output:\n${output.slice(-2000)}`);
  }
  const time = lastMatch(output, /Total transmit time is (\d+)/g);
  return {
    sent: Number(totals[1]),
    received: Number(totals[2]),
    lost: Number(loss[1]),
    sendDropped: Number(loss[2]),
    transmitSeconds: time ? Number(time[1]) : undefined,
    relayedAddresses: [...output.matchAll(/Received relay addr: (\S+)/g)].map((match) => match[1]!),
  };
}

function lastMatch(text: string, pattern: RegExp): RegExpMatchArray | undefined {
  let last: RegExpMatchArray | undefined;
  for (const match of text.matchAll(pattern)) last = match;
  return last;
}
