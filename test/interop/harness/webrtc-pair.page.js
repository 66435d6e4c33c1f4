// Runs inside Chromium. Two RTCPeerConnections in one page, both restricted
// to relay candidates, exchange data-channel messages through one TURN
// server; returns what getStats says about the selected candidate pair.
// runTurnPair sends a fixed number of messages and closes; openTurnCall keeps
// the pair open and echoing (a call in progress) until closeTurnCall.
// Kept as plain browser JavaScript so the test needs no DOM typings.

/** Connects a relay-only pair; b echoes every message on the data channel back to a. */
async function connectPair({ iceServer, timeoutMs }) {
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
  const close = () => {
    clearTimeout(timer);
    a.close();
    b.close();
  };
  try {
    const tx = a.createDataChannel('interop', { ordered: true });
    // b echoes every message back, so both directions cross the relay.
    b.ondatachannel = ({ channel }) => {
      channel.onmessage = (e) => channel.send(e.data);
    };
    const opened = new Promise((resolve) => {
      tx.onopen = resolve;
    });
    await a.setLocalDescription(await a.createOffer());
    await b.setRemoteDescription(a.localDescription);
    await b.setLocalDescription(await b.createAnswer());
    await a.setRemoteDescription(b.localDescription);
    await Promise.race([opened, timeout]);
    return { a, b, tx, candidates, timeout, close };
  } catch (error) {
    close();
    throw error;
  }
}

/** Resolves after `count` echoes in order, checking each one against `marker:index`. */
function countEchoes(tx, marker, onEcho) {
  let next = 0;
  return new Promise((resolve, reject) => {
    tx.onmessage = (e) => {
      if (e.data !== `${marker}:${next}`) reject(new Error(`echo ${next} was ${String(e.data).slice(0, 80)}`));
      onEcho(++next, resolve);
    };
  });
}

window.runTurnPair = async ({ iceServer, messages, marker, timeoutMs }) => {
  const pair = await connectPair({ iceServer, timeoutMs });
  try {
    const echoed = countEchoes(pair.tx, marker, (n, resolve) => n === messages && resolve(n));
    for (let i = 0; i < messages; i++) pair.tx.send(`${marker}:${i}`);
    const echoes = await Promise.race([echoed, pair.timeout]);
    return { echoes, a: await selectedPair(pair.a), b: await selectedPair(pair.b), candidates: pair.candidates };
  } finally {
    pair.close();
  }
};

/** Opens a call that sends one message every intervalMs; progress is read with turnCallProgress. */
window.openTurnCall = async ({ iceServer, marker, timeoutMs, intervalMs }) => {
  const pair = await connectPair({ iceServer, timeoutMs });
  const call = { pair, sent: 0, echoed: 0, error: undefined, sender: undefined };
  countEchoes(pair.tx, marker, (n) => (call.echoed = n)).catch((error) => (call.error = String(error)));
  call.sender = setInterval(() => {
    if (pair.tx.readyState === 'open') pair.tx.send(`${marker}:${call.sent++}`);
  }, intervalMs);
  window.turnCall = call;
  return { a: await selectedPair(pair.a), b: await selectedPair(pair.b), candidates: pair.candidates };
};

window.turnCallProgress = () => {
  const { pair, sent, echoed, error } = window.turnCall;
  return { sent, echoed, error, ice: { a: pair.a.iceConnectionState, b: pair.b.iceConnectionState } };
};

/** Ends the call as an application hangs up: both peer connections closed (their TURN allocations released). */
window.closeTurnCall = () => {
  clearInterval(window.turnCall.sender);
  window.turnCall.pair.close();
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
  // ICE may switch the selected pair after the data flowed (two relay
  // allocations per end inside a node's namespace): the bytes stay counted on
  // the pair that carried them.
  let allPairsBytesReceived = 0;
  stats.forEach((s) => {
    if (s.type === 'candidate-pair') allPairsBytesReceived += s.bytesReceived ?? 0;
  });
  return {
    state: pair.state,
    nominated: pair.nominated,
    bytesSent: pair.bytesSent,
    bytesReceived: pair.bytesReceived,
    allPairsBytesReceived,
    local: {
      candidateType: local.candidateType,
      relayProtocol: local.relayProtocol,
      address: local.address,
      port: local.port,
    },
    remote: { candidateType: remote.candidateType, address: remote.address, port: remote.port },
  };
}
