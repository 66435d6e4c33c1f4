// Facts about the cluster the renderer depends on, gathered by the runtime.
export type Observed = {
  /** LoadBalancer ingress IPs or hostnames of the relay Service. */
  serviceIngress: string[];
  /** HostNetwork mode: the nodes' external (else internal) IPs. */
  nodeAddresses: string[];
  /** Endpoint IPs of spec.peers.allowServices. */
  allowedServiceIPs: string[];
  /** The cert-manager Certificate CRD is served. */
  certManager: boolean;
};
