// Runs inside Chromium. Two RTCPeerConnections in one page, both restricted
// to relay candidates, exchange data-channel messages through one TURN
// server; returns what getStats says about the selected candidate pair.
// Kept as plain browser JavaScript so the test needs no DOM typings.
window.runTurnPair = async ({ iceServer, messages, marker, timeoutMs }) => {
  const config = { iceServers: [iceServer], iceTransportPolicy: 'relay' };
  const a = new RTCPeerConnection(config);
  const b = new RTCPeerConnection(config);
  const candidates = { a: [], b: [] };
  a.onicecandidate = (e) => {
    if (e.candidate) {
      candidates.a.push(e.candidate.candidate);
      b.addIceCandidate(e.candidate);
    }
  };
  b.onicecandidate = (e) => {
    if (e.candidate) {
      candidates.b.push(e.candidate.candidate);
      a.addIceCandidate(e.candidate);
    }
  };
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new Error(
            `timed out: ice a=${a.iceConnectionState} b=${b.iceConnectionState}, ` +
              `candidates a=${JSON.stringify(candidates.a)} b=${JSON.stringify(candidates.b)}`,
          ),
        ),
      timeoutMs,
    );
  });
  try {
    const tx = a.createDataChannel('interop', { ordered: true });
    // b echoes every message back, so both directions cross the relay.
    b.ondatachannel = ({ channel }) => {
      channel.onmessage = (e) => channel.send(e.data);
    };
    const echoed = new Promise((resolve, reject) => {
      let next = 0;
      tx.onmessage = (e) => {
        if (e.data !== `${marker}:${next}`) reject(new Error(`echo ${next} was ${String(e.data).slice(0, 80)}`));
        if (++next === messages) resolve(next);
      };
    });
    const opened = new Promise((resolve) => {
      tx.onopen = resolve;
    });
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription);
    await Promise.race([opened, timeout]);
    for (let i = 0; i < messages; i++) tx.send(`${marker}:${i}`);
    const echoes = await Promise.race([echoed, timeout]);
    return { echoes, a: await selectedPair(a), b: await selectedPair(b), candidates };
  } finally {
    clearTimeout(timer);
    a.close();
    b.close();
  }
};

async function selectedPair(pc) {
  const stats = await pc.getStats();
  let pair;
  stats.forEach((s) => {
    if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
  });
  if (!pair) throw new Error('no selected candidate pair in getStats()');
  const local = stats.get(pair.localCandidateId);
  const remote = stats.get(pair.remoteCandidateId);
  return {
    state: pair.state,
    nominated: pair.nominated,
    bytesSent: pair.bytesSent,
    bytesReceived: pair.bytesReceived,
    local: {
      candidateType: local.candidateType,
      relayProtocol: local.relayProtocol,
      address: local.address,
      port: local.port,
    },
    remote: { candidateType: remote.candidateType, address: remote.address, port: remote.port },
  };
}
