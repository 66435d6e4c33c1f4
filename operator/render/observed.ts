// Facts about the cluster the renderer depends on, gathered by the runtime.
export type Observed = {
  /** LoadBalancer ingress IPs or hostnames of the relay Service. */
  serviceIngress: string[];
  /** HostNetwork mode: the nodes' external (else internal) IPs. */
  nodeAddresses: string[];
  /** HostNetwork mode: each node's internal address → the address clients reach it on. */
  nodeAddressMap?: Array<{ internal: string; external: string }>;
  /** Endpoint IPs of spec.peers.allowServices. */
  allowedServiceIPs: string[];
  /**
   * ClusterIP Service: its cluster IPs. In-cluster clients reach the listeners
   * there, but they are no relayed-address override: the relayed addresses stay
   * the pods' own, which is what in-cluster peers can reach.
   */
  serviceClusterIPs?: string[];
  /** The cert-manager Certificate CRD is served. */
  certManager: boolean;
  /** The Prometheus Operator PodMonitor and PrometheusRule CRDs are served. */
  prometheusOperator?: boolean;
};
