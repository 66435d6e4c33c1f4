// Who is calling and may they: the API server decides both. TokenReview
// authenticates a bearer token for the credentials audience only (a token
// minted for the API server or anything else is refused), and a
// SubjectAccessReview asks RBAC whether that identity may `create` the
// `credentials` subresource of the named TurnRelay.
import type { KubeRest } from '../runtime/kube-rest.js';
import { CREDENTIALS_AUDIENCE, CREDENTIALS_RESOURCE, type RelayRef } from './request.js';

export interface Identity {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

interface TokenReviewStatus {
  authenticated?: boolean;
  audiences?: string[];
  user?: { username?: string; uid?: string; groups?: string[]; extra?: Record<string, string[]> };
  error?: string;
}

/** The identity behind `token` if the API server vouches for it for our audience, else undefined. */
export async function authenticate(
  rest: KubeRest,
  token: string,
  audience = CREDENTIALS_AUDIENCE,
): Promise<Identity | undefined> {
  const review = await rest.request<{ status?: TokenReviewStatus }>(
    'POST',
    '/apis/authentication.k8s.io/v1/tokenreviews',
    {
      body: { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [audience] } },
    },
  );
  const st = review.status;
  // An authenticator that ignores audiences answers without them: that is not a yes for ours.
  if (!st?.authenticated || !st.audiences?.includes(audience) || !st.user?.username) return undefined;
  return {
    username: st.user.username,
    groups: st.user.groups ?? [],
    ...(st.user.uid ? { uid: st.user.uid } : {}),
    ...(st.user.extra ? { extra: st.user.extra } : {}),
  };
}

/** RBAC's answer to "may `who` create turnrelays/credentials on this relay?". */
export async function authorize(
  rest: KubeRest,
  who: Identity,
  relay: RelayRef,
): Promise<{ allowed: boolean; reason?: string }> {
  const review = await rest.request<{ status?: { allowed?: boolean; denied?: boolean; reason?: string } }>(
    'POST',
    '/apis/authorization.k8s.io/v1/subjectaccessreviews',
    {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SubjectAccessReview',
        spec: {
          user: who.username,
          groups: who.groups,
          ...(who.uid ? { uid: who.uid } : {}),
          ...(who.extra ? { extra: who.extra } : {}),
          resourceAttributes: { ...CREDENTIALS_RESOURCE, namespace: relay.namespace, name: relay.name },
        },
      },
    },
  );
  const allowed = review.status?.allowed === true && review.status.denied !== true;
  return { allowed, ...(review.status?.reason ? { reason: review.status.reason } : {}) };
}
